import { describe, expect, it } from 'vitest';
import {
  MAX_PAYLOAD_BYTES, ackSchema, areaAlertSchema, healthSchema, parsePayload, readingSchema, readingsBatchSchema, statusSchema,
} from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

const SCHEMAS = {
  reading: readingSchema,
  readingsBatch: readingsBatchSchema,
  ack: ackSchema,
  status: statusSchema,
  health: healthSchema,
  areaAlert: areaAlertSchema,
} as const;
type SchemaName = keyof typeof SCHEMAS;

interface ValidPayload extends NamedVector {
  schema: SchemaName;
  payload: unknown;
  expect?: unknown;
}
interface InvalidPayload extends NamedVector {
  schema: SchemaName;
  payload?: unknown;
  raw?: string;
  errorPaths?: string[];
  errorPrefix?: string;
}

/** The paths of a `formatZodError` text: one `path: message` line per issue. */
function errorPaths(error: string): string[] {
  return [...new Set(error.split('\n').map((line) => line.slice(0, line.indexOf(': '))))].sort();
}

describe('mqtt-valid.json', () => {
  it.each(loadVectors<ValidPayload>('mqtt-valid.json'))('$schema: $name', ({ schema, payload, expect: want }) => {
    const text = JSON.stringify(payload);
    const fromString = parsePayload(SCHEMAS[schema], text);
    expect(fromString).toEqual({ ok: true, value: want ?? payload });
    expect(parsePayload(SCHEMAS[schema], Buffer.from(text))).toEqual(fromString);
  });
});

describe('mqtt-invalid.json', () => {
  it.each(loadVectors<InvalidPayload>('mqtt-invalid.json'))('$schema: $name', (v) => {
    const result = parsePayload(SCHEMAS[v.schema], v.raw ?? JSON.stringify(v.payload));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    if (v.errorPaths) expect(errorPaths(result.error)).toEqual([...v.errorPaths].sort());
    if (v.errorPrefix) expect(result.error.startsWith(v.errorPrefix)).toBe(true);
    expect(v.errorPaths ?? v.errorPrefix, 'a vector must say what error it expects').toBeDefined();
  });
});

describe('parsePayload on hostile input', () => {
  it('refuses a payload over MAX_PAYLOAD_BYTES before parsing it, counting bytes not characters', () => {
    const at = `"${'x'.repeat(MAX_PAYLOAD_BYTES - 2)}"`;
    expect(parsePayload(ackSchema, at)).toMatchObject({ ok: false, error: '(root): Invalid input: expected object, received string' });
    const over = parsePayload(ackSchema, Buffer.from(`${at} `));
    expect(over).toEqual({ ok: false, error: `payload too large: ${MAX_PAYLOAD_BYTES + 1} > ${MAX_PAYLOAD_BYTES} bytes` });
    // 'é' is two bytes in UTF-8: half as many characters already exceed the limit.
    const wide = parsePayload(ackSchema, `"${'é'.repeat(MAX_PAYLOAD_BYTES / 2)}"`);
    expect(wide.ok === false && wide.error.startsWith('payload too large')).toBe(true);
  });

  it('survives deep nesting and refuses it', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(parsePayload(readingsBatchSchema, deep).ok).toBe(false);
    const inBatch = `{"v":1,"gatewayId":"g","batchId":"b","sentAt":"2025-01-09T08:30:00.000Z","readings":[${'['.repeat(50_000)}${']'.repeat(50_000)}]}`;
    // The envelope does not look inside readings; the per-reading check refuses this one.
    const batch = parsePayload(readingsBatchSchema, inBatch);
    expect(batch.ok).toBe(true);
    if (batch.ok) expect(readingSchema.safeParse(batch.value.readings[0]).success).toBe(false);
  });

  it('refuses a __proto__ key without touching Object.prototype', () => {
    const result = parsePayload(statusSchema, '{"__proto__":{"polluted":true},"v":1,"gatewayId":"g","state":"online","ts":"2025-01-09T08:30:00.000Z"}');
    expect(result.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses invalid UTF-8 and binary noise as JSON errors, not crashes', () => {
    for (const bytes of [[0xff, 0xfe, 0x00], [0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d], []]) {
      const result = parsePayload(ackSchema, Buffer.from(bytes));
      expect(result.ok).toBe(false);
    }
  });
});
