/**
 * Human messages for alert changes: Bahasa Indonesia first, English alongside.
 *
 * A warning states the place, the size of the event and the action (BNPB "peringatan dini";
 * levels: Waspada = prepare a plan, Siaga = get ready to leave and move valuables, Awas =
 * evacuate). People act on short, forwardable messages, so the Bahasa text aims at one SMS:
 * at most 160 characters, plain ASCII (GSM 03.38 basic set, so a phone does not fall back to
 * 70-character UCS-2 segments). Long place names are shortened step by step to fit. Times are
 * local (WIB, UTC+7); the data inside stays UTC.
 */
import type { Level, Quantity } from '@kentongan/firmware-protocol';
import type { Alert } from '../alerts/types.ts';

/** One SMS segment in the GSM 7-bit alphabet. */
export const SMS_MAX_CHARS = 160;

/**
 * A change worth telling people about (acknowledgements are internal and not sent).
 * `unacknowledged`: a Siaga/Awas alert nobody acknowledged in time (on-call escalation).
 */
export type NotifiableChange = 'opened' | 'escalated' | 'deescalated' | 'resolved' | 'unacknowledged';

function headOf(change: NotifiableChange, level: string, lang: 'id' | 'en'): string {
  if (change === 'escalated') return lang === 'id' ? `NAIK ke ${level}` : `UP to ${level}`;
  if (change === 'deescalated') return lang === 'id' ? `TURUN ke ${level}` : `DOWN to ${level}`;
  if (change === 'unacknowledged') return lang === 'id' ? `BELUM DITANGGAPI: ${level}` : `NOT ACKNOWLEDGED: ${level}`;
  return level;
}

export interface MessageInput {
  alert: Alert;
  change: NotifiableChange;
  from: Level | null;
  to: Level;
  /** When the change happened, UTC ISO (used for resolve; level changes show the reading time). */
  at: string;
  /** Absent when the rule is no longer configured; the text then names no quantity. */
  quantity?: Quantity | undefined;
  siteName: string;
  areaName: string;
  /** Who signs, e.g. "BPBD Sumedang". */
  sender: string;
}

export interface Message {
  /** Bahasa Indonesia, resident-facing, SMS-sized where possible. */
  id: string;
  /** English. */
  en: string;
}

const WIB_OFFSET_MS = 7 * 3600_000;

/** `28/11/2026 14:05 WIB` for a UTC ISO instant; the input unchanged if it cannot be parsed. */
export function formatWib(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms + WIB_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} WIB`;
}

/** At most one decimal; Indonesian uses a decimal comma. */
export function formatValue(value: number, lang: 'id' | 'en'): string {
  const rounded = Math.round(value * 10) / 10;
  const text = Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
  return lang === 'id' ? text.replace('.', ',') : text;
}

const UNIT_TEXT: Record<string, string> = { degC: 'C', deg: 'derajat' };

const HAZARD: Record<Alert['hazard'], { id: string; en: string }> = {
  flood: { id: 'BANJIR', en: 'FLOOD' },
  landslide: { id: 'LONGSOR', en: 'LANDSLIDE' },
};

const QUANTITY: Record<Quantity, { id: string; en: string }> = {
  water_level: { id: 'muka air', en: 'water level' },
  rain: { id: 'hujan', en: 'rain' },
  displacement: { id: 'pergeseran tanah', en: 'ground movement' },
  tilt_x: { id: 'kemiringan', en: 'tilt' },
  tilt_y: { id: 'kemiringan', en: 'tilt' },
  battery_voltage: { id: 'baterai', en: 'battery' },
  temperature: { id: 'suhu', en: 'temperature' },
};

const ACTION: Record<Exclude<Level, 'Normal'>, { id: string; en: string }> = {
  Waspada: { id: 'Siapkan rencana evakuasi.', en: 'Be prepared: plan your evacuation.' },
  Siaga: { id: 'Bersiap mengungsi, amankan barang berharga.', en: 'Get ready to evacuate, secure valuables.' },
  Awas: { id: 'SEGERA MENGUNGSI ke tempat aman!', en: 'EVACUATE NOW to a safe place!' },
};

function quantityText(m: MessageInput, lang: 'id' | 'en'): string {
  return m.quantity === undefined ? '' : `${QUANTITY[m.quantity][lang]} `;
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 3)).trimEnd()}...`;
}

/** Candidate Bahasa texts from the most to the least complete; the first that fits wins. */
function idCandidates(m: MessageInput): string[] {
  const hazard = HAZARD[m.alert.hazard].id;
  const sign = ` -${m.sender}`;
  const places = [
    `${m.siteName}, ${m.areaName}`,
    m.siteName,
    shorten(m.siteName, 40),
    shorten(m.siteName, 20),
  ];
  if (m.change === 'resolved') {
    const time = formatWib(m.at);
    return places.flatMap((place) => [
      `AMAN: status ${hazard} di ${place} kembali Normal, ${time}. Tetap ikuti info resmi.${sign}`,
      `AMAN: ${hazard} di ${place} kembali Normal, ${time}.${sign}`,
    ]);
  }
  const level = m.to.toUpperCase();
  const head = headOf(m.change, level, 'id');
  const { value, unit, ts } = m.alert.evidence;
  const measured = `${formatValue(value, 'id')} ${UNIT_TEXT[unit] ?? unit}`;
  const time = formatWib(ts);
  const action = m.to === 'Normal' ? '' : ` ${ACTION[m.to].id}`;
  return places.flatMap((place) => [
    `${head} ${hazard} di ${place}: ${quantityText(m, 'id')}${measured}, ${time}.${action}${sign}`,
    `${head} ${hazard} di ${place}: ${measured}, ${time}.${action}${sign}`,
  ]);
}

function englishText(m: MessageInput): string {
  const hazard = HAZARD[m.alert.hazard].en;
  const place = `${m.siteName}, ${m.areaName}`;
  const sign = ` -${m.sender}`;
  if (m.change === 'resolved') {
    return `ALL CLEAR: ${hazard} status at ${place} is back to Normal, ${formatWib(m.at)}. Keep following official updates.${sign}`;
  }
  const level = m.to.toUpperCase();
  const head = headOf(m.change, level, 'en');
  const { value, unit, ts } = m.alert.evidence;
  const action = m.to === 'Normal' ? '' : ` ${ACTION[m.to].en}`;
  return `${head} ${hazard} at ${place}: ${quantityText(m, 'en')}${formatValue(value, 'en')} ${unit}, ${formatWib(ts)}.${action}${sign}`;
}

/** Renders the Bahasa and English text of one alert change. */
export function renderMessage(m: MessageInput): Message {
  const candidates = idCandidates(m);
  const fits = candidates.find((c) => c.length <= SMS_MAX_CHARS);
  // Nothing fits only with a very long sender; the last (shortest) candidate is still sent whole.
  return { id: fits ?? candidates.at(-1)!, en: englishText(m) };
}
