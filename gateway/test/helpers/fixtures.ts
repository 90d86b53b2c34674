/** Shared test fixtures: temp folders, a quiet logger, polling, frame builders and a base config. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, type Channels } from '@kentongan/firmware-protocol';
import pino from 'pino';
import type { GatewayConfigInput } from '../../src/config/schema.ts';

export const quietLogger = () => pino({ level: 'silent' });

/** A fresh temp folder; the returned function removes it. */
export function tempDir(prefix = 'kentongan-gw-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const rdg = (sensorId: string, seq: number, channels: Channels) => encodeMessage({ kind: 'RDG', sensorId, seq, channels });
export const hbt = (sensorId: string, seq: number, channels: Channels) => encodeMessage({ kind: 'HBT', sensorId, seq, channels });
export const hel = (sensorId: string, seq = 0) => encodeMessage({ kind: 'HEL', sensorId, seq, protocol: 1, sensorType: 'test', firmware: '1.0.0' });
export const err = (sensorId: string, seq: number, code: string) => encodeMessage({ kind: 'ERR', sensorId, seq, code, text: 'sensor fault' });

/** A gateway config with one port and a water-level + rain sensor on it. */
export function baseConfig(opts: { dataDir: string; mqttUrl: string; portPath: string; gatewayId?: string }): GatewayConfigInput {
  const gatewayId = opts.gatewayId ?? 'gw-test';
  return {
    gatewayId,
    dataDir: opts.dataDir,
    mqtt: { url: opts.mqttUrl, password: 'secret', batchMaxReadings: 50, batchIntervalMs: 30, ackTimeoutMs: 3000, reconnectPeriodMs: 100 },
    ports: [{ path: opts.portPath, baudRate: 9600 }],
    sensors: [
      {
        id: 'wl-01',
        port: opts.portPath,
        channels: {
          level_cm: { quantity: 'water_level', scale: 1, offset: 0, range: { min: -50, max: 2000 } },
          batt_v: { quantity: 'battery_voltage' },
        },
      },
      { id: 'rg-01', port: opts.portPath, channels: { tips: { quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } } } },
    ],
    serialReconnect: { minDelayMs: 50, maxDelayMs: 200 },
    healthIntervalS: 1,
  };
}
