/**
 * Message templates as data: per language, hazard and level, for residents (and operators and
 * village heads, who forward them), plus the responders' stop-work message, technician, escalation
 * and confirmation texts. Placeholders: {head} (level, or "NAIK ke AWAS" for a change), {place},
 * {time} (WIB), {sender}, {level}, {sensor}, {code}.
 *
 * What a warning says follows BNPB practice (bnpb.go.id/peringatan-dini-bencana): place, level,
 * what to do, who sent it. Waspada = prepare a plan, Siaga = get ready to leave and move
 * valuables, Awas = evacuate. Slope responders stop work while it rains (lesson of the
 * Cimanggung landslide of 9 January 2021, where the second slide killed responders).
 *
 * Every text is plain ASCII (GSM-7) and, with realistic names, fits one 160-character SMS
 * (tested). Bahasa Indonesia is the default; the Sundanese texts are kept simple and NEED REVIEW
 * BY A NATIVE SPEAKER before use (written without one).
 */
import type { Level } from '@kentongan/firmware-protocol';

export const LANGUAGES = ['id', 'en', 'su'] as const;
export type Language = (typeof LANGUAGES)[number];
export type Hazard = 'flood' | 'landslide';
export const HAZARDS: readonly Hazard[] = ['flood', 'landslide'];
type WarnLevel = Exclude<Level, 'Normal'>;

/** Resident-facing text per language, hazard and level; `Normal` is the all-clear. */
export const PUBLIC_TEXTS: Record<Language, Record<Hazard, Record<Level, string>>> = {
  id: {
    flood: {
      Waspada: '{head} BANJIR {place} {time}. Siapkan rencana & tas siaga, pantau info resmi. -{sender}',
      Siaga: '{head} BANJIR {place} {time}. Bersiap mengungsi, amankan dokumen & barang berharga. -{sender}',
      Awas: '{head} BANJIR {place} {time}. SEGERA MENGUNGSI ke tempat tinggi yang aman! -{sender}',
      Normal: 'AMAN: banjir {place} kembali NORMAL {time}. Tetap hati-hati & ikuti info resmi. -{sender}',
    },
    landslide: {
      Waspada: '{head} LONGSOR {place} {time}. Siapkan rencana & jalur evakuasi, jauhi tebing. -{sender}',
      Siaga: '{head} LONGSOR {place} {time}. Bersiap mengungsi, jauhi lereng & tebing. -{sender}',
      Awas: '{head} LONGSOR {place} {time}. SEGERA MENGUNGSI, jauhi lereng & tebing! -{sender}',
      Normal: 'AMAN: longsor {place} kembali NORMAL {time}. Tetap hati-hati & ikuti info resmi. -{sender}',
    },
  },
  en: {
    flood: {
      Waspada: '{head} FLOOD {place} {time}. Prepare your plan and go-bag, follow official news. -{sender}',
      Siaga: '{head} FLOOD {place} {time}. Get ready to evacuate, secure documents and valuables. -{sender}',
      Awas: '{head} FLOOD {place} {time}. EVACUATE NOW to safe high ground! -{sender}',
      Normal: 'ALL CLEAR: flood {place} back to NORMAL {time}. Stay careful, follow official news. -{sender}',
    },
    landslide: {
      Waspada: '{head} LANDSLIDE {place} {time}. Prepare your plan and escape route, keep off cliffs. -{sender}',
      Siaga: '{head} LANDSLIDE {place} {time}. Get ready to evacuate, keep away from slopes. -{sender}',
      Awas: '{head} LANDSLIDE {place} {time}. EVACUATE NOW, away from slopes and cliffs! -{sender}',
      Normal: 'ALL CLEAR: landslide {place} back to NORMAL {time}. Stay careful, follow official news. -{sender}',
    },
  },
  // Sundanese (basa Sunda): simple wording; needs review by a native speaker.
  su: {
    flood: {
      Waspada: '{head} BANJIR {place} {time}. Siapkeun rencana ngungsi & tas siaga. -{sender}',
      Siaga: '{head} BANJIR {place} {time}. Sing siap ngungsi, amankeun dokumen & barang. -{sender}',
      Awas: '{head} BANJIR {place} {time}. GEURA NGUNGSI ka tempat luhur nu aman! -{sender}',
      Normal: 'AMAN: banjir {place} parantos NORMAL deui {time}. Tetep ati-ati. -{sender}',
    },
    landslide: {
      Waspada: '{head} LONGSOR {place} {time}. Siapkeun rencana ngungsi, jauhan gawir. -{sender}',
      Siaga: '{head} LONGSOR {place} {time}. Sing siap ngungsi, jauhan lamping & gawir. -{sender}',
      Awas: '{head} LONGSOR {place} {time}. GEURA NGUNGSI, jauhan lamping & gawir! -{sender}',
      Normal: 'AMAN: longsor {place} parantos NORMAL deui {time}. Tetep ati-ati. -{sender}',
    },
  },
};

/** How a level change is announced in {head}. */
export const HEADS: Record<Language, { opened: string; escalated: string; deescalated: string }> = {
  id: { opened: '{level}', escalated: 'NAIK ke {level}', deescalated: 'TURUN ke {level}' },
  en: { opened: '{level}', escalated: 'UP to {level}', deescalated: 'DOWN to {level}' },
  su: { opened: '{level}', escalated: 'NAEK ka {level}', deescalated: 'TURUN ka {level}' },
};

/** Responders (SAR, village teams) on a landslide alert: stop work on the slope while it rains. */
export const STOP_WORK_TEXTS: Record<Language, Record<Level, string>> = {
  id: {
    Waspada: 'STOP KERJA {head} LONGSOR {place} {time}. Hentikan kerja di lereng selama hujan. -{sender}',
    Siaga: 'STOP KERJA {head} LONGSOR {place} {time}. Hentikan kerja di lereng selama hujan, jauhi tebing. -{sender}',
    Awas: 'STOP KERJA {head} LONGSOR {place} {time}. Tinggalkan lereng SEKARANG, bantu evakuasi dari zona aman. -{sender}',
    Normal: 'AMAN longsor {place} {time}. Kerja di lereng boleh lanjut setelah dicek tim. -{sender}',
  },
  en: {
    Waspada: 'STOP WORK {head} LANDSLIDE {place} {time}. No work on the slope while it rains. -{sender}',
    Siaga: 'STOP WORK {head} LANDSLIDE {place} {time}. No work on the slope while it rains, keep off cliffs. -{sender}',
    Awas: 'STOP WORK {head} LANDSLIDE {place} {time}. Leave the slope NOW, help evacuate from a safe zone. -{sender}',
    Normal: 'ALL CLEAR landslide {place} {time}. Slope work may resume after a team check. -{sender}',
  },
  su: {
    Waspada: 'EUREUN DIGAWE {head} LONGSOR {place} {time}. Ulah digawe di lamping salila hujan. -{sender}',
    Siaga: 'EUREUN DIGAWE {head} LONGSOR {place} {time}. Ulah digawe di lamping salila hujan, jauhan gawir. -{sender}',
    Awas: 'EUREUN DIGAWE {head} LONGSOR {place} {time}. Geura tinggalkeun lamping, bantu ngungsi ti tempat aman. -{sender}',
    Normal: 'AMAN longsor {place} {time}. Digawe di lamping tiasa dituluykeun sanggeus dipariksa. -{sender}',
  },
};

/** Technicians: sensor-health alerts (never sent to residents). Keys: active / resolved. */
export const TECHNICIAN_TEXTS: Record<Language, { active: string; resolved: string }> = {
  id: {
    active: 'TEKNISI {level}: gangguan sensor {sensor} di {place} {time}. Mohon periksa perangkat. -{sender}',
    resolved: 'TEKNISI: sensor {sensor} di {place} normal lagi {time}. -{sender}',
  },
  en: {
    active: 'TECHNICIAN {level}: sensor {sensor} fault at {place} {time}. Please check the device. -{sender}',
    resolved: 'TECHNICIAN: sensor {sensor} at {place} back to normal {time}. -{sender}',
  },
  su: {
    active: 'TEKNISI {level}: sensor {sensor} di {place} gangguan {time}. Mangga parios alatna. -{sender}',
    resolved: 'TEKNISI: sensor {sensor} di {place} parantos normal {time}. -{sender}',
  },
};

/** On-call escalation when a Siaga/Awas alert is not acknowledged in time. */
export const UNACKNOWLEDGED_TEXTS: Record<Language, Record<Hazard, string>> = {
  id: {
    flood: 'BELUM DITANGGAPI: {level} BANJIR {place} sejak {time}. Mohon segera tindak lanjuti. -{sender}',
    landslide: 'BELUM DITANGGAPI: {level} LONGSOR {place} sejak {time}. Mohon segera tindak lanjuti. -{sender}',
  },
  en: {
    flood: 'NOT ACKNOWLEDGED: {level} FLOOD {place} since {time}. Please act now. -{sender}',
    landslide: 'NOT ACKNOWLEDGED: {level} LANDSLIDE {place} since {time}. Please act now. -{sender}',
  },
  su: {
    flood: 'TACAN DITANGGAPAN: {level} BANJIR {place} ti {time}. Mangga geura tindak lanjutan. -{sender}',
    landslide: 'TACAN DITANGGAPAN: {level} LONGSOR {place} ti {time}. Mangga geura tindak lanjutan. -{sender}',
  },
};

/** The subscription confirmation code. */
export const CONFIRM_TEXTS: Record<Language, string> = {
  id: 'Kode konfirmasi peringatan dini {sender}: {code}. Berlaku {minutes} menit. Balas BERHENTI untuk berhenti.',
  en: 'Early-warning confirmation code from {sender}: {code}. Valid {minutes} minutes. Reply STOP to leave.',
  su: 'Kode konfirmasi peringatan dini {sender}: {code}. Lumaku {minutes} menit. Bales BERHENTI pikeun eureun.',
};

export const WARN_LEVELS: readonly WarnLevel[] = ['Waspada', 'Siaga', 'Awas'];
