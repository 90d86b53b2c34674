/**
 * Warning levels of Indonesian practice (BNPB/BPBD; Permen ESDM 15/2011 numbers them I..IV).
 * Stored and shown by name; river-gauge "Siaga 4..1" schemes are mapped onto these in config.
 */
export const LEVELS = ['Normal', 'Waspada', 'Siaga', 'Awas'] as const;
export type Level = (typeof LEVELS)[number];

/** 0 = Normal .. 3 = Awas, for comparisons. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

export function maxLevel(a: Level, b: Level): Level {
  return levelRank(a) >= levelRank(b) ? a : b;
}
