import { describe, expect, it } from 'vitest';
import { loadFile, loadVectors, vectorFiles, type NamedVector } from './vectors.ts';
import type { FrameErrorCode } from '../src/index.ts';

/** Every code of `FrameErrorCode`; `satisfies` makes the compiler refuse a code that does not exist. */
const ALL_CODES = [
  'too_long', 'empty', 'no_start', 'no_crc', 'bad_crc_format', 'bad_crc', 'bad_char',
  'unknown_kind', 'bad_field_count', 'bad_id', 'bad_seq', 'bad_number', 'bad_channel', 'bad_value',
] as const satisfies readonly FrameErrorCode[];

describe('vector files', () => {
  const files = vectorFiles();

  it('holds the expected files', () => {
    expect(files).toEqual([
      'crc.json', 'frames-invalid.json', 'frames-valid.json', 'gateway-control.json', 'mqtt-invalid.json', 'mqtt-valid.json', 'sequence.json', 'topics.json',
    ]);
  });

  it.each(files)('%s: every vector has a unique name and a reason', (file) => {
    const top = loadFile(file);
    expect(typeof top.$comment).toBe('string');
    const lists = Object.entries(top).filter(([, v]) => Array.isArray(v));
    expect(lists.length).toBeGreaterThan(0);
    for (const [key, list] of lists) {
      const names = (list as NamedVector[]).map((v) => v.name);
      expect(new Set(names).size, `${file}.${key} has duplicate names`).toBe(names.length);
      for (const v of list as NamedVector[]) {
        expect(v.name, `${file}.${key}`).toMatch(/^[a-z0-9][a-z0-9-]*$/);
        expect(v.why.length, `${file}.${key}.${v.name} why`).toBeGreaterThan(5);
      }
    }
  });

  it('frames-invalid.json covers every rejection code', () => {
    const used = new Set(loadVectors<NamedVector & { error: string }>('frames-invalid.json').map((v) => v.error));
    expect([...used].sort()).toEqual([...ALL_CODES].sort());
  });
});
