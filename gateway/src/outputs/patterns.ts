/**
 * What each pattern means on a relay: a repeated on/off cycle, so that people near a siren or
 * lamp can tell the levels apart (slow = Waspada, fast = Siaga, steady = Awas). A `command`
 * output gets the pattern name and makes the sound itself.
 */
import type { Level, OutputPattern } from '@kentongan/firmware-protocol';

/** One cycle: on for `onMs`, then off for `offMs`; `offMs` 0 is steady on. `once`: one cycle only. */
export interface PatternCycle {
  onMs: number;
  offMs: number;
  once: boolean;
}

export const PATTERN_CYCLES: Readonly<Record<OutputPattern, PatternCycle | null>> = {
  off: null,
  waspada: { onMs: 1000, offMs: 9000, once: false },
  siaga: { onMs: 1000, offMs: 1000, once: false },
  awas: { onMs: 1000, offMs: 0, once: false },
  test: { onMs: 3000, offMs: 0, once: true },
};

/** The pattern for an alert level. */
export function patternForLevel(level: Level): OutputPattern {
  switch (level) {
    case 'Normal':
      return 'off';
    case 'Waspada':
      return 'waspada';
    case 'Siaga':
      return 'siaga';
    case 'Awas':
      return 'awas';
  }
}
