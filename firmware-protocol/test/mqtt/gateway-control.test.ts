/** Gateway control payloads (SPEC §5.8, §5.9) against vectors/gateway-control.json. */
import { describe, expect, it } from 'vitest';
import {
  alarmsBatchSchema, configPushSchema, configStatusSchema, localAlarmSchema, outputCommandSchema, parsePayload, topics,
} from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

const SCHEMAS = {
  configPush: configPushSchema,
  configStatus: configStatusSchema,
  outputCommand: outputCommandSchema,
  localAlarm: localAlarmSchema,
  alarmsBatch: alarmsBatchSchema,
} as const;
type SchemaName = keyof typeof SCHEMAS;
interface Vector extends NamedVector {
  schema: SchemaName;
  payload?: unknown;
  raw?: string;
  errorPaths?: string[];
  errorPrefix?: string;
}
const paths = (error: string) => [...new Set(error.split('\n').map((l) => l.slice(0, l.indexOf(': '))))].sort();

describe('gateway-control.json', () => {
  it.each(loadVectors<Vector>('gateway-control.json', 'valid'))('valid $schema: $name', ({ schema, payload }) => {
    expect(parsePayload(SCHEMAS[schema], JSON.stringify(payload))).toEqual({ ok: true, value: payload });
  });
  it.each(loadVectors<Vector>('gateway-control.json', 'invalid'))('invalid $schema: $name', (v) => {
    const r = parsePayload(SCHEMAS[v.schema], v.raw ?? JSON.stringify(v.payload));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(v.errorPaths ?? v.errorPrefix, 'a vector must say what error it expects').toBeDefined();
    if (v.errorPaths) expect(paths(r.error)).toEqual([...v.errorPaths].sort());
    if (v.errorPrefix) expect(r.error.startsWith(v.errorPrefix)).toBe(true);
  });
  it('covers every schema both ways', () => {
    const used = (k: string) => new Set(loadVectors<Vector>('gateway-control.json', k).map((v) => v.schema));
    expect([...used('valid')].sort()).toEqual(Object.keys(SCHEMAS).sort());
    expect([...used('invalid')].sort()).toEqual(Object.keys(SCHEMAS).sort());
  });
  it('names the control topics under the gateway root', () => {
    expect([topics.config('gw-1'), topics.configStatus('gw-1'), topics.alarms('gw-1'), topics.output('gw-1')]).toEqual([
      'kentongan/v1/gw/gw-1/config', 'kentongan/v1/gw/gw-1/config-status', 'kentongan/v1/gw/gw-1/alarms', 'kentongan/v1/gw/gw-1/output',
    ]);
  });
});
