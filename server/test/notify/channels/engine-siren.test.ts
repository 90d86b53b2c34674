/** The siren channel driven by the real alert engine and dispatcher (channel context wiring). */
import { outputCommandSchema, type OutputCommand } from '@kentongan/firmware-protocol';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEngine, openDb, readingFactory, tempDir, testConfig, waitFor } from '../../alerts/helpers.ts';

let tmp: ReturnType<typeof tempDir>;
let db: Database.Database;

beforeEach(() => {
  tmp = tempDir();
  db = openDb(tmp.dbPath);
});
afterEach(() => {
  db.close();
  tmp.cleanup();
});

describe('siren channel in the engine', () => {
  it('an Awas alert sounds awas on the area gateway, de-escalation switches to siaga', async () => {
    const published: { topic: string; cmd: OutputCommand }[] = [];
    const config = testConfig({
      notify: { channels: [{ kind: 'siren', id: 'sirens', targets: [{ areaId: 'jatinangor', gatewayId: 'gw-siren' }] }] },
    });
    const { engine } = makeEngine(db, config, {
      now: () => new Date(),
      backoff: { baseMs: 5, maxMs: 20 },
      channelContext: {
        publish: async (topic, payload) => {
          published.push({ topic, cmd: outputCommandSchema.parse(JSON.parse(payload)) });
        },
      },
    });
    engine.start();
    const r = readingFactory();
    engine.onStoredReadings([r(220), r(230)]); // opened Awas
    await waitFor(() => published.length === 1);
    engine.onStoredReadings([r(10), r(10), r(10)]); // deescalated Siaga
    await waitFor(() => published.length === 2);
    await engine.stop();
    expect(published.map((p) => `${p.topic}:${p.cmd.pattern}`)).toEqual([
      'kentongan/v1/gw/gw-siren/output:awas',
      'kentongan/v1/gw/gw-siren/output:siaga',
    ]);
    expect(engine.stats().notificationsSent).toBe(2);
  });
});
