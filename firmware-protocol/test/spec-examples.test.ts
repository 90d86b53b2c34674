/**
 * The examples in SPEC.md and README.md are part of the contract people copy from:
 * every frame written there must decode, and every JSON example must pass a schema.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ackSchema, alarmsBatchSchema, areaAlertSchema, configPushSchema, configStatusSchema, decodeLine, healthSchema, parsePayload, readingSchema, readingsBatchSchema, statusSchema,
} from '../src/index.ts';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const spec = read('SPEC.md');
const readme = read('README.md');

/** Frames as the docs write them: `$...*XXXX\r\n` with the CR LF spelled out. */
function framesIn(text: string): string[] {
  return [...text.matchAll(/\$[^$*`'\s][^$*`']*\*[0-9A-F]{4}\\r\\n/g)].map((m) => m[0].replace('\\r\\n', '\r\n'));
}

describe('documentation examples', () => {
  const frames = [...new Set([...framesIn(spec), ...framesIn(readme)])];

  const json = [...spec.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('finds the examples (one per message kind and command, one JSON per payload kind)', () => {
    expect(frames.length).toBeGreaterThanOrEqual(12);
    expect(json.length).toBeGreaterThanOrEqual(6);
  });

  it.each(frames)('frame %j decodes', (frame) => {
    expect(decodeLine(frame).ok).toBe(true);
  });

  it.each(json.map((j, i) => [i, j] as const))('JSON example %i is accepted by a schema', (_i, text) => {
    const schemas = [readingSchema, readingsBatchSchema, ackSchema, statusSchema, healthSchema, areaAlertSchema, configPushSchema, configStatusSchema, alarmsBatchSchema];
    expect(schemas.filter((s) => parsePayload(s, text).ok)).toHaveLength(1);
  });

  it('the worked example of SPEC.md §2.4 is right', () => {
    expect(spec).toContain('`$RDG,rg-01,1,tips=1234*99AE\\r\\n` (29 bytes)');
    expect(decodeLine('$RDG,rg-01,1,tips=1234*99AE\r\n')).toMatchObject({ ok: true, message: { channels: { tips: 1234 } } });
  });
});
