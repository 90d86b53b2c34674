/** Test fixtures: temp folders, a silent logger, configs, readings and batches. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadingInput } from '@kentongan/firmware-protocol';
import pino from 'pino';
import { parseServerConfig } from '../../src/config/load.ts';
import type { ServerConfig, ServerConfigInput } from '../../src/config/schema.ts';

export const silentLogger = pino({ level: 'silent' });

/** A fresh temp folder; call the returned `cleanup` in afterEach. */
export async function tempDir(prefix = 'kentongan-server-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const GW_A = 'gw-a';
export const GW_B = 'gw-b';
export const PASSWORD_A = 'sandi-gerbang-a-123';
export const PASSWORD_B = 'sandi-gerbang-b-456';

/** A small deployment: two gateways, one area, one site, two sensors, one threshold rule. */
export function testConfig(opts: { dataDir: string; hashA: string; hashB: string } & Partial<ServerConfigInput>): ServerConfig {
  const { hashA, hashB, ...rest } = opts;
  return parseServerConfig({
    http: { host: '127.0.0.1', port: 0 },
    mqtt: { host: '127.0.0.1', port: 0 },
    gateways: [
      { id: GW_A, passwordHash: hashA },
      { id: GW_B, passwordHash: hashB },
    ],
    areas: [{ id: 'jatinangor', name: 'Kecamatan Jatinangor' }],
    sites: [{ id: 'cikeruh', name: 'Pos Duga Air Cikeruh', areaId: 'jatinangor', lat: -6.9311, lon: 107.7713 }],
    sensors: [
      { id: 'wl-1', siteId: 'cikeruh', type: 'water_level' },
      { id: 'rg-1', siteId: 'cikeruh', type: 'rain' },
    ],
    rules: [
      {
        id: 'cikeruh-muka-air',
        kind: 'threshold',
        hazard: 'flood',
        sensorId: 'wl-1',
        quantity: 'water_level',
        levels: { Waspada: { raise: 60, clear: 55 }, Siaga: { raise: 160, clear: 150 } },
        confirmReadings: 2,
        clearReadings: 3,
      },
    ],
    notify: { channels: [] },
    ...rest,
  });
}

const T0 = Date.parse('2025-01-09T08:00:00.000Z');

/** A valid water-level reading; `seq` also sets the time (one minute apart). */
export function wl(seq: number, value: number, extra: Partial<ReadingInput> = {}): ReadingInput {
  return {
    sensorId: 'wl-1',
    epoch: 1,
    seq,
    quantity: 'water_level',
    value,
    unit: 'cm',
    ts: new Date(T0 + seq * 60_000).toISOString(),
    quality: 'good',
    ...extra,
  };
}

/** A batch envelope as a gateway publishes it. */
export function batch(gatewayId: string, batchId: string, readings: unknown[]): Record<string, unknown> {
  return { v: 1, gatewayId, batchId, sentAt: new Date(T0).toISOString(), readings };
}
