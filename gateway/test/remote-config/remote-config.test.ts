/**
 * Remote configuration through a real aedes broker into a real gateway (SQLite, MockBinding
 * ports): a valid push is applied (only changed ports re-opened, no reading lost, the queue
 * untouched), reported on config-status, and kept across a restart; hostile pushes (garbage,
 * huge, wrong types, keys that are local only, invalid content, a version replay) are refused
 * with `path: message` errors while the running config and the readings go on.
 */
import { configStatusSchema, topics, type ConfigStatus } from '@kentongan/firmware-protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rdg, waitFor } from '../helpers/fixtures.ts';
import { GATEWAY_ID, startHarness, type Harness } from '../helpers/harness.ts';
import { emit, mockPort } from '../helpers/mock-serial.ts';

let h: Harness;
let control: MqttClient;
let statuses: ConfigStatus[];

beforeEach(async () => {
  h = await startHarness();
  h.server.autoAck = true;
  statuses = [];
  control = await mqtt.connectAsync(h.broker.url, { protocolVersion: 4, clientId: `ctl-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  control.on('message', (topic, payload) => {
    if (topic === topics.configStatus(GATEWAY_ID)) statuses.push(configStatusSchema.parse(JSON.parse(payload.toString())));
  });
  await control.subscribeAsync(topics.configStatus(GATEWAY_ID), { qos: 1 });
  await waitFor(() => h.gateway.stats().connected, 5000, 'gateway connected');
  await waitFor(() => statuses.length > 0, 5000, 'first config status');
});
afterEach(async () => {
  await control.endAsync(true);
  await h.close();
});

const push = (payload: unknown) =>
  control.publishAsync(topics.config(GATEWAY_ID), typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1, retain: true });
const last = () => statuses[statuses.length - 1]!;
async function nextStatus(send: () => Promise<unknown>): Promise<ConfigStatus> {
  const n = statuses.length;
  await send();
  await waitFor(() => statuses.length > n, 5000, 'config status');
  return last();
}

/** The pushed part: the harness sensors plus one more port with a new sensor. */
function secondPortConfig(path2: string, extra: Record<string, unknown> = {}) {
  const cfg = h.config as { ports: unknown[]; sensors: unknown[] };
  return {
    ports: [...cfg.ports, { path: path2, baudRate: 19200 }],
    sensors: [...cfg.sensors, { id: 'ext-01', port: path2, channels: { disp_mm: { quantity: 'displacement' } } }],
    ...extra,
  };
}

describe('remote configuration', () => {
  it('starts at version 0, applies a new version without re-opening unchanged ports or losing readings, and keeps it after a restart', async () => {
    expect(last()).toMatchObject({ gatewayId: GATEWAY_ID, appliedVersion: 0 });
    expect(last().error).toBeUndefined();
    const path2 = mockPort();
    const before = h.tap.port(h.portPath);
    let seq = 0;
    for (; seq < 5; seq++) h.send(rdg('wl-01', seq, { level_cm: 100 + seq }));
    const status = await nextStatus(() => push({ v: 1, version: 1, config: secondPortConfig(path2, { offlineAfterMs: 60_000 }) }));
    for (; seq < 10; seq++) h.send(rdg('wl-01', seq, { level_cm: 100 + seq }));
    expect(status).toMatchObject({ appliedVersion: 1 });
    expect(status.error).toBeUndefined();
    // The first port was not touched (same binding port object), the new one is open.
    expect(h.tap.port(h.portPath)).toBe(before);
    await waitFor(() => h.gateway.stats().ports[path2] === 'open', 3000, 'new port open');
    emit(h.tap, path2, rdg('ext-01', 1, { disp_mm: 3.5 }));
    await waitFor(() => h.server.uniqueReadings().filter((r) => r.sensorId === 'wl-01').length === 10, 5000, 'all wl-01 readings');
    await waitFor(() => h.server.uniqueReadings().some((r) => r.sensorId === 'ext-01' && r.quantity === 'displacement'), 5000, 'new sensor reading');
    expect(h.gateway.stats().rejectedFrames).toEqual({});
    expect(h.gateway.controlStats().config).toMatchObject({ appliedVersion: 1, applied: 1, refused: 0 });

    // A restart runs the persisted config before any push arrives (the broker's retained copy is v1 anyway).
    await h.restart();
    expect(h.gateway.controlStats().config.appliedVersion).toBe(1);
    expect(Object.keys(h.gateway.stats().ports).sort()).toEqual([h.portPath, path2].sort());
    await waitFor(() => h.gateway.controlStats().config.unchanged >= 1, 5000, 'retained v1 seen again');
    expect(h.gateway.controlStats().config.applied).toBe(0);
  });

  it('applies a push retained while the gateway was down as soon as it starts', async () => {
    const path2 = mockPort();
    await h.gateway.stop();
    await push({ v: 1, version: 2, config: secondPortConfig(path2) });
    await h.restart();
    await waitFor(() => h.gateway.controlStats().config.appliedVersion === 2, 5000, 'v2 applied at start');
    await waitFor(() => h.gateway.stats().ports[path2] === 'open', 3000, 'its port open');
    await waitFor(() => last().appliedVersion === 2, 5000, 'status v2');
  });

  it('opens, keeps and closes Modbus buses by what changed in their config', async () => {
    const busPath = mockPort();
    const radar = { sensorId: 'ckr-radar-01', unitId: 1, values: [{ name: 'level', address: 0, scale: 0.1, unit: 'cm', quantity: 'water_level', pollIntervalS: 60 }] };
    const modbus = { buses: [{ path: busPath, devices: [radar] }] };
    await nextStatus(() => push({ v: 1, version: 1, config: { modbus } }));
    await waitFor(() => h.gateway.modbusStats()[0]?.port === 'open', 3000, 'bus open');
    const opened = h.tap.port(busPath);
    expect(opened).toBeDefined();
    // Another key changes: the bus (same open port) is kept.
    expect(await nextStatus(() => push({ v: 1, version: 2, config: { modbus, offlineAfterMs: 60_000 } }))).toMatchObject({ appliedVersion: 2 });
    expect(h.tap.port(busPath)).toBe(opened);
    // Its register map changes: re-opened.
    const changed = { buses: [{ path: busPath, devices: [{ ...radar, values: [{ ...radar.values[0], scale: 1 }] }] }] };
    await nextStatus(() => push({ v: 1, version: 3, config: { modbus: changed } }));
    await waitFor(() => h.tap.port(busPath) !== opened && h.gateway.modbusStats()[0]?.port === 'open', 3000, 'bus re-opened');
    // Left out: back to the file (no buses).
    await nextStatus(() => push({ v: 1, version: 4, config: {} }));
    expect(h.gateway.modbusStats()).toEqual([]);
  });

  it('refuses hostile pushes with path: message errors and keeps the running config', async () => {
    const path2 = mockPort();
    await nextStatus(() => push({ v: 1, version: 5, config: secondPortConfig(path2) }));
    expect(last().appliedVersion).toBe(5);

    const cases: Array<{ payload: unknown; version: number | null; error: RegExp }> = [
      { payload: '{not json', version: null, error: /^invalid JSON/ },
      { payload: 'x'.repeat(600 * 1024), version: null, error: /^payload too large/ },
      { payload: { v: 1, version: '6', config: {} }, version: null, error: /^version: / },
      { payload: { v: 2, version: 6, config: {} }, version: 6, error: /^v: / },
      { payload: { v: 1, version: 6, config: [] }, version: 6, error: /^config: / },
      { payload: { v: 1, version: 6, config: {}, extra: 1 }, version: 6, error: /unrecognized|extra/i },
      { payload: { v: 1, version: 6, config: { mqtt: { url: 'mqtt://evil:1883' } } }, version: 6, error: /^config\.mqtt: cannot be set remotely/ },
      { payload: { v: 1, version: 6, config: { sensors: [{ id: 'x', port: '/dev/none', channels: { a: { quantity: 'rain' } } }] } }, version: 6, error: /^config\.sensors\.0\.port: port "\/dev\/none" is not declared/ },
      { payload: { v: 1, version: 6, config: { offlineAfterMs: -1 } }, version: 6, error: /^config\.offlineAfterMs: / },
      { payload: { v: 1, version: 6, config: { outputs: [{ id: 'a', kind: 'laser' }] } }, version: 6, error: /^config\.outputs\.0/ },
      { payload: { v: 1, version: 4, config: {} }, version: 4, error: /^version: 4 is older than the applied version 5 \(a replay\)/ },
    ];
    let seq = 0;
    for (const c of cases) {
      const s = await nextStatus(() => push(c.payload));
      h.send(rdg('wl-01', seq++, { level_cm: 200 }));
      expect(s.appliedVersion, JSON.stringify(c.payload).slice(0, 80)).toBe(5);
      expect(s.refusedVersion).toBe(c.version);
      expect(s.error).toMatch(c.error);
    }
    expect(h.gateway.controlStats().config).toMatchObject({ appliedVersion: 5, refused: cases.length });
    // Still running v5: the second port is open and every reading sent meanwhile arrives.
    expect(h.gateway.stats().ports[path2]).toBe('open');
    await waitFor(() => h.server.uniqueReadings().filter((r) => r.sensorId === 'wl-01').length === cases.length, 5000, 'readings during refusals');

    // A good push after the refusals clears the error.
    const ok = await nextStatus(() => push({ v: 1, version: 6, config: {} }));
    expect(ok).toMatchObject({ appliedVersion: 6 });
    expect(ok.error).toBeUndefined();
    await waitFor(() => h.gateway.stats().ports[path2] === undefined, 3000, 'second port closed by v6 (file config again)');
  });
});
