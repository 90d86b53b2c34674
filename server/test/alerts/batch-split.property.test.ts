/**
 * Engine-level property (issue 4): the same readings, in any batch split and with any batch
 * delivered twice, give the same alert changes as one in-order delivery.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AlertChange, StoredReading } from '../../src/alerts/index.ts';
import { makeEngine, openDb, readingFactory, tempDir, testConfig } from './helpers.ts';

function run(batches: StoredReading[][]): string[] {
  const tmp = tempDir();
  const db = openDb(tmp.dbPath);
  try {
    const { engine } = makeEngine(db, testConfig());
    const out: AlertChange[] = [];
    engine.onChange((c) => out.push(c));
    for (const b of batches) engine.onStoredReadings(b);
    return out.map((c) => `${c.change}:${c.from}->${c.to}@${c.alert.evidence.ts}`);
  } finally {
    db.close();
    tmp.cleanup();
  }
}

describe('batch split', () => {
  it('any split, with repeated batches, gives the alerts of one in-order delivery', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 260 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        (values, cuts, repeats) => {
          const r = readingFactory();
          const readings = values.map((v) => r(v));
          const expected = run([readings]);
          const batches: StoredReading[][] = [];
          for (let i = 0, k = 0; i < readings.length; k++) {
            const n = cuts[k % cuts.length]!;
            const b = readings.slice(i, i + n);
            batches.push(b);
            if (repeats[k % repeats.length]) batches.push([...b].reverse());
            i += n;
          }
          expect(run(batches)).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });
});
