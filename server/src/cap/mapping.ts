/**
 * How our levels map onto CAP 1.2 `<info>` fields. Proposed mapping (project domain notes, after
 * BNPB levels): Waspada -> Expected / Moderate / Possible (prepare a plan); Siaga -> Expected /
 * Severe / Likely (get ready to leave); Awas -> Immediate / Extreme / Observed (evacuate). The
 * all-clear (Normal, msgType Cancel) -> Past / Minor / Observed with responseType AllClear.
 * Category: Geo for landslides, Met for floods (CAP 1.2 3.2.2 category list).
 */
import type { Level } from '@kentongan/firmware-protocol';

export interface CapLevelFields {
  urgency: 'Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown';
  severity: 'Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown';
  certainty: 'Observed' | 'Likely' | 'Possible' | 'Unlikely' | 'Unknown';
  responseType: 'Evacuate' | 'Prepare' | 'Monitor' | 'AllClear';
}

export const CAP_LEVEL_FIELDS: Record<Level, CapLevelFields> = {
  Normal: { urgency: 'Past', severity: 'Minor', certainty: 'Observed', responseType: 'AllClear' },
  Waspada: { urgency: 'Expected', severity: 'Moderate', certainty: 'Possible', responseType: 'Prepare' },
  Siaga: { urgency: 'Expected', severity: 'Severe', certainty: 'Likely', responseType: 'Prepare' },
  Awas: { urgency: 'Immediate', severity: 'Extreme', certainty: 'Observed', responseType: 'Evacuate' },
};

export const CAP_CATEGORY: Record<'flood' | 'landslide', 'Met' | 'Geo'> = { flood: 'Met', landslide: 'Geo' };

/** CAP `sent`: `YYYY-MM-DDThh:mm:ss+07:00` (WIB; CAP 1.2 forbids "Z" and fractions). */
export function capDateTime(iso: string): string {
  const ms = Date.parse(iso);
  const d = new Date((Number.isFinite(ms) ? ms : 0) + 7 * 3600_000);
  return `${d.toISOString().slice(0, 19)}+07:00`;
}
