/**
 * End to end, the offline warning path with real parts in one process: the real server
 * (embedded aedes, SQLite, HTTP), the real gateway (SQLite, real serial port on a socat
 * pseudo-terminal), a sensor writing line-protocol frames on the other end, and a command
 * output whose effect is a file. The local rules reach the gateway the way they would in the
 * field: pushed with its config through `PUT /api/v1/gateways/:id/config`.
 *
 * link cut (server and its broker stopped) -> rising readings -> local rule fires -> siren
 * command runs -> link back (server started again on the same folder and ports) -> the alarm
 * record reaches the server API, with its time in WIB; the readings of the outage arrive too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '@kentongan/firmware-protocol';
import { parseGatewayConfig, startGateway, type RunningGateway } from '@kentongan/gateway';
import { hashPassword, parseServerConfig, startServer, type RunningServer } from '@kentongan/server';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import { attachSerial, type SerialAttachment } from '../src/sensors/serial-attachment.ts';
import { freePort } from './chaos-helpers.ts';

const GW = 'gw-e2e';
const PASSWORD = 'sandi-e2e-offline-123';
const silent = pino({ level: 'silent' });
const rule = {
  id: 'cikeruh-muka-air',
  kind: 'threshold' as const,
  hazard: 'flood' as const,
  sensorId: 'wl-1',
  quantity: 'water_level' as const,
  levels: { Waspada: { raise: 100, clear: 90 }, Siaga: { raise: 160, clear: 150 } },
  confirmReadings: 2,
  clearReadings: 3,
};

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('offline warning end to end', () => {
  let dir: string;
  let pty: PtyPair;
  let sensor: SerialAttachment;
  let server: RunningServer | undefined;
  let gateway: RunningGateway | undefined;
  let serverConfig: ReturnType<typeof parseServerConfig>;
  let seq = 0;
  const send = async (level: number) => {
    sensor.write(encodeMessage({ kind: 'RDG', sensorId: 'wl-1', seq: seq++, channels: { level_cm: level } }));
    await sensor.flush();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kentongan-offline-'));
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    serverConfig = parseServerConfig({
      dataDir: join(dir, 'server'),
      http: { host: '127.0.0.1', port: httpPort },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      gateways: [{ id: GW, passwordHash: await hashPassword(PASSWORD) }],
      areas: [{ id: 'jatinangor', name: 'Kecamatan Jatinangor' }],
      sites: [{ id: 'cikeruh', name: 'Pos Duga Air Cikeruh', areaId: 'jatinangor', lat: -6.9311, lon: 107.7713 }],
      sensors: [{ id: 'wl-1', siteId: 'cikeruh', type: 'water_level' }],
      rules: [rule],
      notify: { channels: [] },
    });
    server = await startServer(serverConfig, { logger: silent });
    pty = await openPtyPair(dir, 'wl-1');
    gateway = await startGateway(
      parseGatewayConfig(
        {
          gatewayId: GW,
          dataDir: join(dir, 'gateway'),
          mqtt: { url: server.mqttUrl, password: PASSWORD, batchIntervalMs: 50, ackTimeoutMs: 1500, reconnectPeriodMs: 100, reconnectMaxMs: 300 },
          ports: [{ path: pty.hostPath }],
          sensors: [{ id: 'wl-1', port: pty.hostPath, channels: { level_cm: { quantity: 'water_level' } } }],
        },
        {},
      ),
      { logger: silent, control: { tickMs: 50 } },
    );
    sensor = await attachSerial(pty.devicePath);
  });

  afterAll(async () => {
    await sensor?.close().catch(() => {});
    await gateway?.stop();
    await server?.stop();
    await pty?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('cut off -> local rule -> siren -> link back -> record in the server API', async () => {
    const api = (path: string, init?: RequestInit) => fetch(`${server!.httpUrl}/api/v1${path}`, init);
    const sirenLog = join(dir, 'siren.log');
    const siren = () => (existsSync(sirenLog) ? readFileSync(sirenLog, 'utf8').trim().split('\n') : []);

    // 1. The operator pushes the local rule, the siren output and the offline limit with the config.
    const pushed = await api(`/gateways/${GW}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        config: {
          localRules: [rule],
          offlineAfterMs: 1000,
          outputs: [{ id: 'sirene-pos', kind: 'command', argv: ['/bin/sh', '-c', 'echo "$1" >> "$2"', 'sh', '{pattern}', sirenLog] }],
        },
      }),
    });
    expect(pushed.status).toBe(200);
    await until(async () => (await (await api(`/gateways/${GW}/config`)).json()).inSync === true, 10_000, 'config applied');
    expect(gateway!.controlStats().config.appliedVersion).toBe(1);

    // 2. Normal river, online.
    for (const v of [40, 42, 41]) await send(v);
    await until(() => server!.stats().readingsStored >= 3, 10_000, 'normal readings stored');

    // 3. Link cut: the server and its broker stop. After offlineAfterMs the gateway is on its own.
    await server!.stop();
    await until(() => gateway!.controlStats().localWarning.cutOff, 10_000, 'gateway cut off');
    expect(siren()).toEqual([]);

    // 4. The river rises; the local rule (same definition as the server's) fires; the siren runs.
    for (const v of [120, 130, 170, 180, 190]) await send(v);
    await until(() => siren().includes('siaga'), 10_000, 'siaga on the siren');
    expect(siren()).toEqual(['waspada', 'siaga']);
    await until(() => gateway!.controlStats().localWarning.alarmsPending === 2, 5000, 'two records on disk');

    // 5. Link back: the server starts again on the same folder and ports.
    server = await startServer(serverConfig, { logger: silent });
    await until(() => gateway!.controlStats().localWarning.alarmsPending === 0, 15_000, 'records uploaded and acked');
    const body = (await (await api(`/gateways/${GW}/alarms`)).json()) as { alarms: Array<Record<string, unknown> & { summary: { id: string } }> };
    expect(body.alarms.map((a) => [a.from, a.to])).toEqual([
      ['Waspada', 'Siaga'],
      ['Normal', 'Waspada'],
    ]);
    const siaga = body.alarms[0]!;
    expect(siaga).toMatchObject({ gatewayId: GW, ruleId: 'cikeruh-muka-air', kind: 'escalated', output: { pattern: 'siaga', results: [{ outputId: 'sirene-pos', ok: true }] } });
    expect(siaga.atLocal).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/);
    expect(Date.parse(siaga.at as string)).toBeGreaterThan(Date.parse(siaga.offlineSince as string));
    expect(siaga.summary.id).toMatch(/WIB: gateway gw-e2e \(terputus dari server\) menaikkan cikeruh-muka-air dari Waspada ke Siaga/);
    // The edge history across gateways shows the same records.
    expect(((await (await api('/edge-alarms')).json()) as { alarms: unknown[] }).alarms).toHaveLength(2);
    // Nothing measured during the outage was lost: 3 before + 5 during, each stored once.
    await gateway!.drained(10_000);
    const health = (await (await api('/health')).json()) as { db: { readings: number } };
    expect(health.db.readings).toBe(8);

    // 6. Online again, the operator silences the siren from the server (an `output` command).
    const silenced = await api(`/gateways/${GW}/output`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pattern: 'off', durationS: 0, reason: 'operator: river checked on site' }),
    });
    expect(silenced.status).toBe(200);
    await until(() => siren().at(-1) === 'off' && gateway!.controlStats().outputs.patterns['sirene-pos'] === 'off', 10_000, 'siren silenced by the server');
    expect(gateway!.controlStats().outputs).toMatchObject({ commandsApplied: 1, patterns: { 'sirene-pos': 'off' } });
  });
});
