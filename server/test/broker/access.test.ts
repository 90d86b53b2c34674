/**
 * Broker authentication and authorization against the real aedes broker on 127.0.0.1:0 with
 * real mqtt.js clients (MQTT 3.1.1).
 */
import { topics } from '@kentongan/firmware-protocol';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBroker, type EmbeddedBroker } from '../../src/broker/broker.ts';
import type { Client, PublishPacket } from 'aedes';
import { createAccessControl, createBrokerCounters, isAllowedSubscription } from '../../src/broker/access.ts';
import { hashPassword } from '../../src/broker/passwords.ts';
import { GW_A, GW_B, PASSWORD_A, PASSWORD_B, silentLogger } from '../helpers/fixtures.ts';
import { collect, connect, endAllClients, gatewayClient, settle, waitFor } from '../helpers/mqtt.ts';

let hashes: Map<string, string>;
beforeAll(async () => {
  hashes = new Map([
    [GW_A, await hashPassword(PASSWORD_A)],
    [GW_B, await hashPassword(PASSWORD_B)],
  ]);
});

describe('embedded broker access control', () => {
  let broker: EmbeddedBroker;
  let url: string;
  let received: { gatewayId: string; topic: string; payload: string }[];

  beforeEach(async () => {
    received = [];
    broker = await createBroker({
      host: '127.0.0.1',
      port: 0,
      gateways: hashes,
      logger: silentLogger,
      onGatewayMessage: (gatewayId, topic, payload) => received.push({ gatewayId, topic, payload: payload.toString() }),
    });
    await broker.listen();
    url = broker.url();
  });
  afterEach(async () => {
    await endAllClients();
    await broker.close();
  });
  afterAll(async () => {
    await endAllClients();
  });

  it('reports the actual port when asked for port 0', () => {
    expect(url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(url.endsWith(':0')).toBe(false);
  });

  it('accepts a configured gateway with its password', async () => {
    const c = await gatewayClient(url, GW_A, PASSWORD_A);
    expect(c.connected).toBe(true);
    await waitFor(() => broker.connectedGateways().has(GW_A), 2000, 'gateway listed as connected');
    expect(broker.counters.authFailures).toBe(0);
  });

  it('refuses a wrong password with CONNACK 4 and counts it', async () => {
    const err = await gatewayClient(url, GW_A, 'salah').then(
      () => null,
      (e: unknown) => e as { code?: number },
    );
    expect(err?.code).toBe(4);
    expect(broker.counters.authFailures).toBe(1);
    expect(broker.connectedGateways().size).toBe(0);
  });

  it('refuses an unknown gateway, a missing password and a username that is not the client id', async () => {
    const attempts = [
      connect(url, { clientId: 'gw-x', username: 'gw-x', password: PASSWORD_A }),
      connect(url, { clientId: GW_A, username: GW_A }),
      connect(url, { clientId: GW_A }),
      connect(url, { clientId: 'gw-b', username: GW_A, password: PASSWORD_A }),
    ];
    const codes = await Promise.all(attempts.map((p) => p.then(() => 0, (e: { code?: number }) => e.code)));
    expect(codes).toEqual([4, 4, 4, 4]);
    expect(broker.counters.authFailures).toBe(4);
  });

  it('accepts gateway ids longer than 23 characters (aedes default limit)', async () => {
    const longId = 'gw-sumedang-cimanggung-01x'; // 26 chars, valid by ID_PATTERN
    const b2 = await createBroker({
      host: '127.0.0.1',
      port: 0,
      gateways: new Map([[longId, hashes.get(GW_A)!]]),
      logger: silentLogger,
      onGatewayMessage: () => undefined,
    });
    await b2.listen();
    try {
      const c = await gatewayClient(b2.url(), longId, PASSWORD_A);
      expect(c.connected).toBe(true);
    } finally {
      await endAllClients();
      await b2.close();
    }
  });

  it("delivers a gateway's own readings to ingest", async () => {
    const a = await gatewayClient(url, GW_A, PASSWORD_A);
    await a.publishAsync(topics.readings(GW_A), '{"x":1}', { qos: 1 });
    await waitFor(() => received.length === 1, 2000, 'message at ingest');
    expect(received[0]).toEqual({ gatewayId: GW_A, topic: topics.readings(GW_A), payload: '{"x":1}' });
  });

  it("refuses A publishing into B's topics: B never sees it, ingest never sees it, counted", async () => {
    const b = await gatewayClient(url, GW_B, PASSWORD_B);
    const seenByB = collect(b);
    await b.subscribeAsync(topics.ack(GW_B), { qos: 1 });
    const a = await gatewayClient(url, GW_A, PASSWORD_A);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(topics.ack(GW_B), '{"v":1,"batchId":"forged","stored":1,"duplicates":0,"rejected":[]}', { qos: 1 });
    await closed; // MQTT 3.1.1 has no negative PUBACK: the connection is closed
    const a2 = await gatewayClient(url, GW_A, PASSWORD_A);
    const closed2 = new Promise<void>((resolve) => a2.once('close', () => resolve()));
    a2.publish(topics.readings(GW_B), '{"v":1}', { qos: 0 });
    await closed2;
    await settle();
    expect(seenByB.messages).toEqual([]);
    expect(received).toEqual([]);
    expect(broker.counters.publishDenied).toBe(2);
  });

  it('refuses a gateway publishing on its own ack topic or outside the gateway tree', async () => {
    const forbidden = [topics.ack(GW_A), topics.alert('jatinangor'), 'kentongan/v1/gw/gw-a/other', 'elsewhere', '$SYS/x'];
    for (const topic of forbidden) {
      const c = await gatewayClient(url, GW_A, PASSWORD_A);
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      // retained, so a later subscriber would get it if the broker had taken it
      c.publish(topic, 'forged', { qos: 1, retain: true });
      await closed;
    }
    const a = await gatewayClient(url, GW_A, PASSWORD_A);
    const seenByA = collect(a);
    await a.subscribeAsync({ [topics.ack(GW_A)]: { qos: 1 }, 'kentongan/v1/alerts/#': { qos: 1 } });
    await settle();
    expect(seenByA.messages).toEqual([]);
    expect(received).toEqual([]);
    expect(broker.counters.publishDenied).toBe(forbidden.length);
  });

  it("grants a gateway its own ack topic and alert levels, refuses B's ack and wildcards", async () => {
    const a = await gatewayClient(url, GW_A, PASSWORD_A);
    const filters = [topics.ack(GW_A), 'kentongan/v1/alerts/#', topics.ack(GW_B), 'kentongan/v1/gw/+/ack', '#'];
    // mqtt.js rejects the whole call when any filter is refused; the SUBACK is on the error.
    const err = (await a.subscribeAsync(Object.fromEntries(filters.map((t) => [t, { qos: 1 as const }]))).then(
      () => null,
      (e: unknown) => e,
    )) as { packet?: { granted: number[] } } | null;
    const granted = err?.packet?.granted ?? [];
    const byTopic = Object.fromEntries(filters.map((t, i) => [t, granted[i]]));
    expect(byTopic[topics.ack(GW_A)]).toBe(1);
    expect(byTopic['kentongan/v1/alerts/#']).toBe(1);
    expect(byTopic[topics.ack(GW_B)]).toBe(128);
    expect(byTopic['kentongan/v1/gw/+/ack']).toBe(128);
    expect(byTopic['#']).toBe(128);
    expect(broker.counters.subscribeDenied).toBe(3);
    // The refused subscription really delivers nothing: the server acks B, A does not see it.
    const seen = collect(a);
    await broker.publish(topics.ack(GW_B), 'for B', { qos: 1, retain: false });
    await broker.publish(topics.ack(GW_A), 'for A', { qos: 1, retain: false });
    await waitFor(() => seen.messages.length >= 1, 2000, 'ack for A');
    await settle();
    expect(seen.messages.map((m) => m.payload.toString())).toEqual(['for A']);
    expect(a.connected).toBe(true);
  });

  it('keeps a retained status (birth) for later, and never retains a batch', async () => {
    const a = await gatewayClient(url, GW_A, PASSWORD_A);
    await a.publishAsync(topics.readings(GW_A), 'r', { qos: 1, retain: true });
    await a.publishAsync(topics.status(GW_A), 's', { qos: 1, retain: true });
    await waitFor(() => received.length === 2, 2000, 'both messages');
    expect(received.map((m) => m.topic)).toEqual([topics.readings(GW_A), topics.status(GW_A)]);
  });
});

describe('authorizePublish hook', () => {
  const hooks = () => {
    const counters = createBrokerCounters();
    return { counters, h: createAccessControl({ gateways: hashes, counters, logger: silentLogger }) };
  };
  const run = (h: ReturnType<typeof hooks>['h'], clientId: string | null, packet: PublishPacket) =>
    new Promise<Error | null>((resolve) =>
      h.authorizePublish(clientId === null ? null : ({ id: clientId } as Client), packet, (err) => resolve(err ?? null)),
    );
  const packet = (topic: string, retain: boolean): PublishPacket => ({
    cmd: 'publish',
    topic,
    payload: Buffer.from('x'),
    qos: 1,
    retain,
    dup: false,
  });

  it('clears retain on readings and health, keeps it on status', async () => {
    const { h } = hooks();
    const readings = packet(topics.readings(GW_A), true);
    const health = packet(topics.health(GW_A), true);
    const status = packet(topics.status(GW_A), true);
    expect(await run(h, GW_A, readings)).toBeNull();
    expect(await run(h, GW_A, health)).toBeNull();
    expect(await run(h, GW_A, status)).toBeNull();
    expect([readings.retain, health.retain, status.retain]).toEqual([false, false, true]);
  });

  it("allows an orphaned will (no client) only as a configured gateway's status", async () => {
    const { h, counters } = hooks();
    expect(await run(h, null, packet(topics.status(GW_B), true))).toBeNull();
    expect(await run(h, null, packet(topics.status('gw-unknown'), true))).toBeInstanceOf(Error);
    expect(await run(h, null, packet(topics.readings(GW_B), false))).toBeInstanceOf(Error);
    expect(counters.publishDenied).toBe(2);
  });
});

describe('isAllowedSubscription', () => {
  it('allows only the own ack topic and alert levels', () => {
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/gw/gw-a/ack')).toBe(true);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/alerts/#')).toBe(true);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/alerts/+')).toBe(true);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/alerts/jatinangor')).toBe(true);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/alerts/a/b')).toBe(false);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/gw/gw-b/ack')).toBe(false);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/gw/gw-a/readings')).toBe(false);
    expect(isAllowedSubscription('gw-a', 'kentongan/v1/#')).toBe(false);
  });
});
