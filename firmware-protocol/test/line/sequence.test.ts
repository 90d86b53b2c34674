import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { advanceSequence, type SequenceEvent, type SequenceState } from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

interface Step {
  seq: number;
  hello: boolean;
  epochSeed: number;
  expect: { epoch: number; unwrapped: number; event: SequenceEvent; missing: number };
}

describe('sequence.json', () => {
  it.each(loadVectors<NamedVector & { steps: Step[] }>('sequence.json'))('$name', ({ steps }) => {
    let state: SequenceState | null = null;
    for (const step of steps) {
      const out = advanceSequence(state, { seq: step.seq, hello: step.hello, epochSeed: step.epochSeed });
      expect({ epoch: out.state.epoch, unwrapped: out.state.unwrapped, event: out.event, missing: out.missing }).toEqual(step.expect);
      expect(out.state.lastSeq).toBe(step.seq);
      state = out.state;
    }
  });
});

describe('advanceSequence', () => {
  it('never hands out a key (epoch, unwrapped) at or below an earlier one, except for a duplicate', () => {
    const step = fc.record({ seq: fc.integer({ min: 0, max: 65535 }), hello: fc.boolean(), seedStep: fc.nat(3) });
    // Half the runs follow a counting sensor (small steps, wraps), half jump anywhere.
    const nearby = fc.array(fc.record({ delta: fc.integer({ min: -40, max: 400 }), hello: fc.boolean(), seedStep: fc.nat(3) }), { maxLength: 400 });
    const check = (inputs: { seq: number; hello: boolean; seedStep: number }[]): void => {
      let state: SequenceState | null = null;
      let seed = 1000;
      for (const input of inputs) {
        seed += input.seedStep;
        const out = advanceSequence(state, { seq: input.seq, hello: input.hello, epochSeed: seed });
        expect(out.missing).toBeGreaterThanOrEqual(0);
        if (state) {
          const cmp = out.state.epoch - state.epoch || out.state.unwrapped - state.unwrapped;
          if (out.event === 'duplicate') expect(cmp).toBe(0);
          else expect(cmp).toBeGreaterThan(0);
        }
        state = out.state;
      }
    };
    fc.assert(fc.property(fc.array(step, { maxLength: 200 }), check), { numRuns: 200 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), nearby, (start, deltas) => {
        let raw = start;
        check(deltas.map(({ delta, hello, seedStep }) => ({ seq: (raw = (((raw + delta) % 65536) + 65536) % 65536), hello, seedStep })));
      }),
      { numRuns: 200 },
    );
  });

  it('unwraps a sensor counting through several wraps without loss', () => {
    let state: SequenceState | null = null;
    for (let n = 0; n < 3 * 65536; n += 7) {
      state = advanceSequence(state, { seq: n % 65536, hello: false, epochSeed: 5 }).state;
      expect(state.unwrapped).toBe(n);
    }
    expect(state?.epoch).toBe(5);
  });

  it('refuses a raw seq outside 0..65535 and a bad epoch seed: those are caller bugs', () => {
    expect(() => advanceSequence(null, { seq: 65536, hello: false, epochSeed: 0 })).toThrow(RangeError);
    expect(() => advanceSequence(null, { seq: -1, hello: false, epochSeed: 0 })).toThrow(RangeError);
    expect(() => advanceSequence(null, { seq: 1.5, hello: false, epochSeed: 0 })).toThrow(RangeError);
    expect(() => advanceSequence(null, { seq: 1, hello: false, epochSeed: -1 })).toThrow(RangeError);
    expect(() => advanceSequence(null, { seq: 1, hello: false, epochSeed: 0.5 })).toThrow(RangeError);
  });
});
