import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { outputCommandSchema, type Level } from '@kentongan/firmware-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelSchema } from '../../../src/config/schema.ts';
import { NotifyError, type ChannelContext } from '../../../src/notify/channel.ts';
import type { NotifiableChange } from '../../../src/notify/messages.ts';
import { createSirenChannel, TEST_REASON, type SirenConfig } from '../../../src/notify/channels/siren-channel.ts';
import { silentLogger } from '../../helpers/fixtures.ts';
import { collect, connect, endAllClients, waitFor } from '../../helpers/mqtt.ts';
import { samplePayload } from '../fixtures.ts';

let broker: Aedes;
let server: Server;
let url: string;

beforeEach(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await endAllClients();
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

const publish: NonNullable<ChannelContext['publish']> = (topic, payload, opts) =>
  new Promise((resolve, reject) =>
    broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );

function siren(input: Record<string, unknown>, ctx: Partial<ChannelContext> = {}) {
  const config = channelSchema.parse({ kind: 'siren', ...input }) as SirenConfig;
  return createSirenChannel(config, { logger: silentLogger, now: () => new Date('2026-11-28T07:05:02.123Z'), publish, ...ctx });
}

function change(alertId: string, ch: NotifiableChange, to: Level, areaId = 'jatinangor') {
  const p = samplePayload(alertId);
  return { dedupeKey: `${alertId}:${ch}:${to}:siren`, payload: { ...p, alert: { ...p.alert, areaId, level: to }, change: ch, to } };
}

async function subscriber() {
  const client = await connect(url, { clientId: 'watcher' });
  const box = collect(client);
  await client.subscribeAsync('kentongan/v1/gw/+/output', { qos: 1 });
  const commands = () => box.messages.map((m) => ({ topic: m.topic, cmd: outputCommandSchema.parse(JSON.parse(m.payload.toString('utf8'))) }));
  return { box, commands };
}

describe('siren channel', () => {
  it('publishes each level pattern to the area gateways, and off when the area is Normal again', async () => {
    const sub = await subscriber();
    const ch = siren({ targets: [{ areaId: 'jatinangor', gatewayId: 'gw-a' }, { areaId: 'jatinangor', gatewayId: 'gw-b', outputId: 'horn' }, { areaId: 'other', gatewayId: 'gw-c' }] });
    await ch.send(change('a1', 'opened', 'Waspada'));
    await ch.send(change('a1', 'escalated', 'Awas'));
    await ch.send(change('a1', 'resolved', 'Normal'));
    const got = await waitFor(() => (sub.commands().length >= 6 ? sub.commands() : false));
    expect(got.map((g) => `${g.topic.split('/')[3]}:${g.cmd.pattern}:${g.cmd.outputId ?? '*'}`)).toEqual([
      'gw-a:waspada:*',
      'gw-b:waspada:horn',
      'gw-a:awas:*',
      'gw-b:awas:horn',
      'gw-a:off:*',
      'gw-b:off:horn',
    ]);
    expect(got[0]!.cmd.durationS).toBe(600);
    expect(got[4]!.cmd.durationS).toBe(0);
    expect(got[0]!.cmd.issuedAt).toBe('2026-11-28T07:05:02.123Z');
  });

  it('keeps the highest level of the area when a lower alert ends', async () => {
    const sub = await subscriber();
    const ch = siren({ targets: [{ areaId: 'jatinangor', gatewayId: 'gw-a' }] });
    await ch.send(change('slide', 'opened', 'Awas'));
    await ch.send(change('flood', 'opened', 'Waspada'));
    await ch.send(change('flood', 'resolved', 'Normal'));
    await ch.send(change('slide', 'resolved', 'Normal'));
    const got = await waitFor(() => (sub.commands().length >= 4 ? sub.commands() : false));
    expect(got.map((g) => g.cmd.pattern)).toEqual(['awas', 'awas', 'awas', 'off']);
  });

  it('a retried send repeats the same command id (the gateway drops the duplicate)', async () => {
    const sub = await subscriber();
    const ch = siren({ targets: [{ areaId: 'jatinangor', gatewayId: 'gw-a' }] });
    await ch.send(change('a1', 'opened', 'Siaga'));
    await ch.send(change('a1', 'opened', 'Siaga'));
    const got = await waitFor(() => (sub.commands().length >= 2 ? sub.commands() : false));
    expect(got[0]!.cmd.commandId).toBe(got[1]!.cmd.commandId);
    expect(got[0]!.cmd.pattern).toBe('siaga');
  });

  it('announced test mode: pattern test with a reason that says it is a test', async () => {
    const sub = await subscriber();
    const ch = siren({}, { gatewaysOfArea: (a) => (a === 'jatinangor' ? ['gw-x'] : []) });
    const sent = await ch.test('jatinangor', 20);
    const got = await waitFor(() => (sub.commands().length >= 1 ? sub.commands() : false));
    expect(got[0]!.topic).toBe('kentongan/v1/gw/gw-x/output');
    expect(got[0]!.cmd).toMatchObject({ pattern: 'test', durationS: 20, reason: TEST_REASON });
    expect(sent[0]!.reason).toMatch(/UJI SIRINE.*SIREN TEST/);
  });

  it('fails clearly without a broker, without a target, or when publishing fails', async () => {
    const noBroker = createSirenChannel(channelSchema.parse({ kind: 'siren', targets: [{ areaId: 'jatinangor', gatewayId: 'g' }] }) as SirenConfig, {
      logger: silentLogger,
      now: () => new Date(),
    });
    await expect(noBroker.send(change('a1', 'opened', 'Awas'))).rejects.toMatchObject({ code: 'SIREN_NO_BROKER' });
    const noTarget = siren({});
    const e = await noTarget.send(change('a1', 'opened', 'Awas')).catch((x: unknown) => x as NotifyError);
    expect(e).toMatchObject({ code: 'SIREN_NO_TARGET', retryable: false });
    const broken = siren({ targets: [{ areaId: 'jatinangor', gatewayId: 'g' }] }, { publish: () => Promise.reject(new Error('broker closing')) });
    await expect(broken.send(change('a1', 'opened', 'Awas'))).rejects.toMatchObject({ code: 'SIREN_PUBLISH' });
    expect(broken.health!().errors).toEqual({ SIREN_PUBLISH: 1 });
    // Staff reminders never sound the siren.
    await noTarget.send(change('a1', 'unacknowledged', 'Awas'));
  });
});
