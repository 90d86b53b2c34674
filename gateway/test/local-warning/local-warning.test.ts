/**
 * Warning when cut off, in one process with real parts: aedes on 127.0.0.1, the gateway with
 * SQLite files and a MockBinding port, the shared detector, and a command output that appends
 * the pattern to a file (the observable effect). The broker is stopped to cut the link.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ackSchema, alarmsBatchSchema, topics, type AlarmsBatch } from '@kentongan/firmware-protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/gateway.ts';
import { tapBinding } from '../../src/transport/binding-tap.ts';
import { startBroker, type TestBroker } from '../helpers/broker.ts';
import { baseConfig, quietLogger, rdg, tempDir, waitFor } from '../helpers/fixtures.ts';
import { MockBinding, emit, mockPort } from '../helpers/mock-serial.ts';

const GW = 'gw-lw';
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const rule = {
  id: 'wl-01-level',
  kind: 'threshold',
  hazard: 'flood',
  sensorId: 'wl-01',
  quantity: 'water_level',
  levels: { Waspada: { raise: 100, clear: 90 }, Siaga: { raise: 160, clear: 150 } },
  confirmReadings: 2,
  clearReadings: 2,
};

async function setup(offlineAfterMs: number) {
  let broker: TestBroker = await startBroker();
  const port = broker.port;
  closers.push(() => broker.close());
  const { dir, cleanup } = tempDir();
  closers.push(cleanup);
  const sirenLog = join(dir, 'siren.log');
  const portPath = mockPort();
  const tap = tapBinding(MockBinding);
  const config = baseConfig({ dataDir: join(dir, 'gw'), mqttUrl: broker.url, portPath, gatewayId: GW });
  Object.assign(config, {
    localRules: [rule],
    offlineAfterMs,
    outputs: [{ id: 'siren', kind: 'command', argv: ['/bin/sh', '-c', 'echo "$1" >> "$2"', 'sh', '{pattern}', sirenLog] }],
  });
  const start = () => startGateway(parseGatewayConfig(config, {}), { logger: quietLogger(), binding: tap.binding, control: { tickMs: 20 } });
  let gateway: RunningGateway = await start();
  closers.push(() => gateway.stop());
  const siren = () => (existsSync(sirenLog) ? readFileSync(sirenLog, 'utf8').trim().split('\n') : []);
  return {
    get gateway() {
      return gateway;
    },
    restartGateway: async () => {
      await gateway.stop();
      gateway = await start();
    },
    siren,
    send: (line: string) => emit(tap, portPath, line),
    stopBroker: () => broker.close(),
    restartBroker: async () => {
      broker = await startBroker(port);
    },
    brokerUrl: () => broker.url,
  };
}

/** Plays the server: acks readings and alarm batches, keeps the alarm batches. */
async function fakeServer(url: string): Promise<{ client: MqttClient; alarms: AlarmsBatch[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `srv-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const alarms: AlarmsBatch[] = [];
  client.on('message', (topic, payload) => {
    const json = JSON.parse(payload.toString());
    const n = topic === topics.alarms(GW) ? json.alarms.length : json.readings.length;
    if (topic === topics.alarms(GW)) alarms.push(alarmsBatchSchema.parse(json));
    // An ack cut off by the test's own shutdown is harmless (the gateway resends unacked batches);
    // without the catch it surfaces as an unhandled rejection after the test.
    client
      .publishAsync(topics.ack(GW), JSON.stringify(ackSchema.parse({ v: 1, batchId: json.batchId, stored: n, duplicates: 0, rejected: [] })), { qos: 1 })
      .catch(() => undefined);
  });
  await client.subscribeAsync([topics.readings(GW), topics.alarms(GW)], { qos: 1 });
  closers.push(() => client.endAsync(true));
  return { client, alarms };
}

describe('local warning', () => {
  it('stays quiet while online, warns on its own once cut off, records it and uploads it when the link is back', async () => {
    const s = await setup(1000);
    await fakeServer(s.brokerUrl());
    await waitFor(() => s.gateway.stats().connected, 5000, 'connected');
    // Online: the rule reaches Waspada, but the server is in charge: no siren, no record.
    let seq = 0;
    for (const v of [120, 125]) s.send(rdg('wl-01', seq++, { level_cm: v }));
    await waitFor(() => s.gateway.controlStats().localWarning.levels['wl-01-level'] === 'Waspada', 3000, 'level tracked online');
    expect(s.gateway.controlStats().localWarning).toMatchObject({ cutOff: false, alarmsRecorded: 0, pattern: 'off' });
    expect(s.siren()).toEqual([]);

    // Cut the link: after offlineAfterMs the gateway is cut off and drives the level it is at.
    await s.stopBroker();
    await waitFor(() => s.gateway.controlStats().localWarning.cutOff, 5000, 'cut off');
    await waitFor(() => s.siren().includes('waspada'), 3000, 'waspada pattern');
    for (const v of [170, 175, 180]) s.send(rdg('wl-01', seq++, { level_cm: v }));
    await waitFor(() => s.siren().includes('siaga'), 3000, 'siaga pattern');
    expect(s.siren()).toEqual(['waspada', 'siaga']);
    await waitFor(() => s.gateway.controlStats().localWarning.alarmsPending === 1, 3000, 'one record');

    // Link back: the record is uploaded, acked and leaves the disk; the siren keeps following the level.
    await s.restartBroker();
    const server = await fakeServer(s.brokerUrl());
    await waitFor(() => server.alarms.length === 1, 8000, 'alarm batch');
    const a = server.alarms[0]!.alarms[0]!;
    expect(a).toMatchObject({ ruleId: 'wl-01-level', kind: 'escalated', from: 'Waspada', to: 'Siaga', hazard: 'flood', output: { pattern: 'siaga', results: [{ outputId: 'siren', ok: true }] } });
    expect(a.evidence).toMatchObject({ sensorId: 'wl-01', quantity: 'water_level', value: 175, threshold: 160 });
    expect(Date.parse(a.offlineSince!)).toBeLessThan(Date.parse(a.at));
    await waitFor(() => s.gateway.controlStats().localWarning.alarmsPending === 0, 3000, 'record acked');
    expect(s.gateway.controlStats().localWarning.alarmsUploaded).toBe(1);

    // Back online the local warning still owns the siren until the level is Normal again.
    for (const v of [140, 140, 50, 50, 50, 50]) s.send(rdg('wl-01', seq++, { level_cm: v }));
    await waitFor(() => s.siren().at(-1) === 'off', 3000, 'siren off at Normal');
    await waitFor(() => server.alarms.flatMap((b) => b.alarms).some((x) => x.to === 'Normal'), 5000, 'de-escalation record');
  });

  it('keeps unsent records across a restart (durable), with unique ids', async () => {
    const s = await setup(1000);
    await s.stopBroker();
    await waitFor(() => s.gateway.controlStats().localWarning.cutOff, 5000, 'cut off');
    let seq = 0;
    for (const v of [170, 175]) s.send(rdg('wl-01', seq++, { level_cm: v }));
    await waitFor(() => s.gateway.controlStats().localWarning.alarmsPending === 1, 3000, 'record');
    expect(s.gateway.controlStats().outputs.patterns).toEqual({ siren: 'siaga' });
    // A new run on the same data folder still has the record and uploads it once a server is there.
    await s.restartGateway();
    expect(s.gateway.controlStats().localWarning.alarmsPending).toBe(1);
    await s.restartBroker();
    const server = await fakeServer(s.brokerUrl());
    await waitFor(() => s.gateway.controlStats().localWarning.alarmsPending === 0, 8000, 'uploaded after restart');
    expect(server.alarms).toHaveLength(1);
    expect(server.alarms[0]!.batchId).toMatch(/^alarms:\d+-\d+$/);
    expect(server.alarms[0]!.alarms[0]!.alarmId).toMatch(/^[0-9a-f]{8}-1$/);
  });
});
