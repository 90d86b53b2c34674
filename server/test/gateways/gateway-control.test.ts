/**
 * The server side of remote configuration and edge alarms, through the whole server (real
 * aedes, SQLite in a temp folder, real HTTP): PUT a config -> the gateway's client receives it
 * retained, also after a server restart; config-status -> GET shows desired vs applied and the
 * error; alarm records -> stored once, acked like readings, listed in the API with WIB times;
 * hostile alarm payloads are counted and answered, never crash; the ACL lets a gateway reach
 * only its own control topics.
 */
import { ackSchema, configPushSchema, outputCommandSchema, topics, type Ack, type LocalAlarm } from '@kentongan/firmware-protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/passwords.ts';
import type { Client, PublishPacket } from 'aedes';
import { createAccessControl, createBrokerCounters, isAllowedSubscription } from '../../src/broker/access.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { GW_A, GW_B, PASSWORD_A, PASSWORD_B, silentLogger, tempDir, testConfig } from '../helpers/fixtures.ts';
import { collect, endAllClients, gatewayClient, settle, waitFor } from '../helpers/mqtt.ts';

let hashA: string;
let hashB: string;
beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword(PASSWORD_A), hashPassword(PASSWORD_B)]);
});

let server: RunningServer | null = null;
let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await endAllClients();
  await server?.stop();
  server = null;
  await cleanup?.();
});
afterAll(async () => endAllClients());

async function start(dir?: string): Promise<string> {
  let d = dir;
  if (!d) {
    const t = await tempDir();
    d = t.dir;
    cleanup = t.cleanup;
  }
  server = await startServer(testConfig({ dataDir: d, hashA, hashB }), { logger: silentLogger });
  return d;
}
const api = (path: string, init?: RequestInit) => fetch(`${server!.httpUrl}/api/v1${path}`, init);
const put = (path: string, body: unknown) => api(path, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export function alarm(n: number, overrides: Partial<LocalAlarm> = {}): LocalAlarm {
  return {
    alarmId: `a1b2c3d4-${n}`,
    ruleId: 'cikeruh-muka-air',
    hazard: 'flood',
    kind: 'escalated',
    from: 'Normal',
    to: 'Siaga',
    at: new Date(Date.parse('2025-01-09T08:30:00.000Z') + n * 60_000).toISOString(),
    offlineSince: '2025-01-09T08:20:00.000Z',
    evidence: { sensorId: 'wl-1', quantity: 'water_level', value: 170, unit: 'cm', threshold: 160, description: { id: 'muka air 170 cm ≥ 160', en: 'water level 170 cm ≥ 160' } },
    output: { pattern: 'siaga', results: [{ outputId: 'siren', ok: true }] },
    ...overrides,
  };
}
const alarmsBatch = (batchId: string, alarms: unknown[], gatewayId = GW_A) => JSON.stringify({ v: 1, gatewayId, batchId, sentAt: new Date().toISOString(), alarms });

describe('remote configuration on the server', () => {
  it('pushes a config retained with growing versions, republishes it after a restart, and shows desired vs applied', async () => {
    const dir = await start();
    expect((await put('/gateways/gw-zz/config', { config: {} })).status).toBe(404);
    expect((await put('/gateways/gw-a/config', { config: [] })).status).toBe(400);
    expect((await put('/gateways/gw-a/config', { nope: 1 })).status).toBe(400);

    const r1 = await put('/gateways/gw-a/config', { config: { offlineAfterMs: 60_000 } });
    expect(r1.status).toBe(200);
    expect(await r1.json()).toMatchObject({ gatewayId: GW_A, desired: { version: 1, config: { offlineAfterMs: 60_000 } }, applied: null, inSync: false });
    const r2 = await (await put('/gateways/gw-a/config', { config: { offlineAfterMs: 120_000 } })).json();
    expect(r2.desired.version).toBe(2);
    expect(r2.desired.issuedAtLocal).toMatch(/\+07:00$/);

    const gw = await gatewayClient(server!.mqttUrl, GW_A, PASSWORD_A);
    const seen = collect(gw);
    await gw.subscribeAsync(topics.config(GW_A), { qos: 1 });
    const first = await waitFor(() => seen.messages[0], 3000, 'retained config');
    expect(first.retain).toBe(true);
    expect(configPushSchema.parse(JSON.parse(first.payload.toString()))).toMatchObject({ v: 1, version: 2, config: { offlineAfterMs: 120_000 } });

    // The gateway reports: refused v2 (an error), then applied.
    await gw.publishAsync(topics.configStatus(GW_A), JSON.stringify({ v: 1, gatewayId: GW_A, appliedVersion: 1, ts: new Date().toISOString(), refusedVersion: 2, error: 'config.offlineAfterMs: Too big' }), { qos: 1, retain: true });
    let refused: { applied: unknown } | null = null;
    for (let i = 0; i < 100 && !refused?.applied; i++) {
      await settle(20);
      refused = await (await api('/gateways/gw-a/config')).json();
    }
    expect(refused).toMatchObject({ desired: { version: 2 }, applied: { version: 1, refusedVersion: 2, error: 'config.offlineAfterMs: Too big' }, inSync: false });
    await gw.publishAsync(topics.configStatus(GW_A), JSON.stringify({ v: 1, gatewayId: GW_A, appliedVersion: 2, ts: new Date().toISOString() }), { qos: 1, retain: true });
    await settle(100);
    expect(await (await api('/gateways/gw-a/config')).json()).toMatchObject({ applied: { version: 2, refusedVersion: null, error: null }, inSync: true });

    // Garbage and another gateway's id on config-status are counted, never stored.
    await gw.publishAsync(topics.configStatus(GW_A), '{', { qos: 1 });
    await gw.publishAsync(topics.configStatus(GW_A), JSON.stringify({ v: 1, gatewayId: GW_B, appliedVersion: 9, ts: new Date().toISOString() }), { qos: 1 });
    await settle(100);
    expect((await (await api('/gateways/gw-a/config')).json()).applied.version).toBe(2);

    // Restart on the same folder: the desired config is published retained again.
    await endAllClients();
    await server!.stop();
    await start(dir);
    const gw2 = await gatewayClient(server!.mqttUrl, GW_A, PASSWORD_A);
    const seen2 = collect(gw2);
    await gw2.subscribeAsync(topics.config(GW_A), { qos: 1 });
    const again = await waitFor(() => seen2.messages[0], 3000, 'retained config after restart');
    expect(JSON.parse(again.payload.toString())).toMatchObject({ version: 2 });
    // A push after the restart continues the versions.
    expect((await (await put('/gateways/gw-a/config', { config: {} })).json()).desired.version).toBe(3);
  });
});

describe('output commands from the server', () => {
  it('sends a valid command to the gateway only, refuses bad bodies and unknown gateways', async () => {
    await start();
    const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const gw = await gatewayClient(server!.mqttUrl, GW_A, PASSWORD_A);
    const seen = collect(gw);
    await gw.subscribeAsync(topics.output(GW_A), { qos: 1 });
    expect((await post('/gateways/gw-zz/output', { pattern: 'test', durationS: 5, reason: '' })).status).toBe(404);
    expect((await post('/gateways/gw-a/output', { pattern: 'loud', durationS: 5, reason: '' })).status).toBe(400);
    expect((await post('/gateways/gw-a/output', { pattern: 'awas', durationS: 3601, reason: '' })).status).toBe(400);
    const res = await post('/gateways/gw-a/output', { pattern: 'test', durationS: 5, outputId: 'sirene-pos', reason: 'uji sirene bulanan / monthly siren test' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.issuedAtLocal).toMatch(/\+07:00$/);
    const msg = await waitFor(() => seen.messages[0], 3000, 'output command');
    expect(msg.retain).toBe(false);
    expect(outputCommandSchema.parse(JSON.parse(msg.payload.toString()))).toMatchObject({ commandId: body.commandId, pattern: 'test', durationS: 5, outputId: 'sirene-pos' });
    await settle(50);
    expect(seen.messages).toHaveLength(1);
  });
});

describe('edge alarms on the server', () => {
  it('stores records once, acks them like readings, lists them with WIB times; hostile payloads are answered and counted', async () => {
    await start();
    const gw = await gatewayClient(server!.mqttUrl, GW_A, PASSWORD_A);
    const acks: Ack[] = [];
    gw.on('message', (_t, p) => acks.push(ackSchema.parse(JSON.parse(p.toString()))));
    await gw.subscribeAsync(topics.ack(GW_A), { qos: 1 });

    await gw.publishAsync(topics.alarms(GW_A), alarmsBatch('alarms:1-2', [alarm(1), alarm(2)]), { qos: 1 });
    await waitFor(() => acks.length === 1, 3000, 'ack');
    expect(acks[0]).toMatchObject({ batchId: 'alarms:1-2', stored: 2, duplicates: 0, rejected: [] });
    // Redelivered (no ack seen by the gateway): duplicates, stored once.
    await gw.publishAsync(topics.alarms(GW_A), alarmsBatch('alarms:1-2', [alarm(1), alarm(2)]), { qos: 1 });
    await waitFor(() => acks.length === 2, 3000, 'second ack');
    expect(acks[1]).toMatchObject({ stored: 0, duplicates: 2 });
    // One bad record among good ones: only it is refused.
    await gw.publishAsync(topics.alarms(GW_A), alarmsBatch('alarms:3-4', [alarm(3), { ...alarm(4), to: 'Merah' }]), { qos: 1 });
    await waitFor(() => acks.length === 3, 3000, 'third ack');
    expect(acks[2]).toMatchObject({ stored: 1, duplicates: 0, rejected: [{ index: 1 }] });
    expect(acks[2]!.rejected[0]!.reason).toMatch(/^to: /);
    // Envelope broken but id readable: every record refused, so the gateway does not resend it for ever.
    await gw.publishAsync(topics.alarms(GW_A), JSON.stringify({ v: 1, gatewayId: GW_A, batchId: 'alarms:5-6', sentAt: 'yesterday', alarms: [1, 2] }), { qos: 1 });
    await waitFor(() => acks.length === 4, 3000, 'fourth ack');
    expect(acks[3]).toMatchObject({ batchId: 'alarms:5-6', stored: 0, rejected: [{ index: 0 }, { index: 1 }] });
    // Unreadable garbage and another gateway's id in the payload: no ack, nothing stored.
    for (const bad of ['{', 'null', alarmsBatch('alarms:7-7', [alarm(7)], GW_B), JSON.stringify({ v: 9, batchId: 'x', alarms: [] })]) {
      await gw.publishAsync(topics.alarms(GW_A), bad, { qos: 1 });
    }
    await settle(150);
    expect(gw.connected).toBe(true);

    const list = await (await api('/gateways/gw-a/alarms')).json();
    expect(list.alarms.map((a: { alarmId: string }) => a.alarmId)).toEqual(['a1b2c3d4-3', 'a1b2c3d4-2', 'a1b2c3d4-1']);
    const newest = list.alarms[0];
    expect(newest).toMatchObject({ gatewayId: GW_A, at: '2025-01-09T08:33:00.000Z', atLocal: '2025-01-09T15:33:00.000+07:00', offlineSinceLocal: '2025-01-09T15:20:00.000+07:00', to: 'Siaga' });
    expect(newest.summary.id).toMatch(/^2025-01-09 15:33 WIB: gateway gw-a \(terputus dari server\) menaikkan cikeruh-muka-air dari Normal ke Siaga/);
    expect(newest.summary.en).toMatch(/cut off from the server\) raised/);
    const all = await (await api('/edge-alarms?from=2025-01-09T15:31:30%2B07:00&limit=10')).json();
    expect(all.alarms.map((a: { alarmId: string }) => a.alarmId)).toEqual(['a1b2c3d4-3', 'a1b2c3d4-2']);
    expect((await api('/edge-alarms?limit=0')).status).toBe(400);
    expect((await api('/gateways/nobody/alarms')).status).toBe(404);
  });
});

describe('broker ACL for control topics', () => {
  it("lets a gateway subscribe to its own config and output only, and publish its own config-status and alarms only", async () => {
    expect(isAllowedSubscription(GW_A, topics.config(GW_A))).toBe(true);
    expect(isAllowedSubscription(GW_A, topics.output(GW_A))).toBe(true);
    expect(isAllowedSubscription(GW_A, topics.config(GW_B))).toBe(false);
    expect(isAllowedSubscription(GW_A, topics.output(GW_B))).toBe(false);
    expect(isAllowedSubscription(GW_A, topics.configStatus(GW_A))).toBe(false);
    expect(isAllowedSubscription(GW_A, 'kentongan/v1/gw/+/config')).toBe(false);

    await start();
    const b = await gatewayClient(server!.mqttUrl, GW_B, PASSWORD_B);
    const seenByB = collect(b);
    await b.subscribeAsync({ [topics.config(GW_B)]: { qos: 1 }, [topics.output(GW_B)]: { qos: 1 } });
    // A gateway may not forge a config or an output command (for itself or another), nor B's alarms.
    for (const topic of [topics.config(GW_B), topics.output(GW_B), topics.config(GW_A), topics.alarms(GW_B)]) {
      const a = await gatewayClient(server!.mqttUrl, GW_A, PASSWORD_A);
      const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
      a.publish(topic, JSON.stringify({ v: 1, version: 99, config: {} }), { qos: 1, retain: true });
      await closed;
    }
    await settle(100);
    expect(seenByB.messages).toEqual([]);
    expect((await (await api('/gateways/gw-b/alarms')).json()).alarms).toEqual([]);

    expect(server!.stats().publishDenied).toBe(4);
  });

  it('keeps retain on config-status (what the gateway runs) and clears it on alarms', async () => {
    const counters = createBrokerCounters();
    const h = createAccessControl({ gateways: new Map([[GW_A, hashA]]), counters, logger: silentLogger });
    const pkt = (topic: string): PublishPacket => ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, retain: true, dup: false });
    const status = pkt(topics.configStatus(GW_A));
    const alarms = pkt(topics.alarms(GW_A));
    for (const p of [status, alarms]) {
      expect(await new Promise((resolve) => h.authorizePublish({ id: GW_A } as Client, p, (err) => resolve(err ?? null)))).toBeNull();
    }
    expect([status.retain, alarms.retain]).toEqual([true, false]);
    // An orphaned will can still only be a status.
    expect(await new Promise((resolve) => h.authorizePublish(null, pkt(topics.configStatus(GW_A)), (err) => resolve(err ?? null)))).toBeInstanceOf(Error);
  });
});
