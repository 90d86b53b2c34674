/**
 * The frame guard in front of the real aedes broker (127.0.0.1:0), driven by raw TCP sockets for
 * hostile frames and by mqtt.js for normal traffic.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { MAX_PAYLOAD_BYTES, topics } from '@kentongan/firmware-protocol';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBroker, type EmbeddedBroker } from '../../src/broker/broker.ts';
import { hashPassword } from '../../src/broker/passwords.ts';
import { GW_A, PASSWORD_A, silentLogger } from '../helpers/fixtures.ts';
import { endAllClients, gatewayClient, waitFor } from '../helpers/mqtt.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const str = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
/** MQTT 3.1.1 CONNECT (§3.1) with user name and password, clean session, keep-alive 60 s. */
function connectPacket(id: string, user: string, pass: string): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(id), str(user), str(pass)]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

interface Raw {
  socket: Socket;
  received: Buffer[];
  closed: Promise<number>;
}
/** Opens a raw socket; `closed` resolves with the ms from open to close. */
function raw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const started = Date.now();
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined); // a reset while writing is expected here
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, received, closed }));
    socket.once('error', reject);
  });
}

let hash: string;
beforeAll(async () => {
  hash = await hashPassword(PASSWORD_A);
});

describe('MQTT frame guard', () => {
  let broker: EmbeddedBroker;
  let port: number;
  let received: { topic: string; size: number }[];
  const sockets: Socket[] = [];

  beforeEach(async () => {
    received = [];
    broker = await createBroker({
      host: '127.0.0.1',
      port: 0,
      gateways: new Map([[GW_A, hash]]),
      logger: silentLogger,
      onGatewayMessage: (_gw, topic, payload) => received.push({ topic, size: payload.length }),
    });
    port = await broker.listen();
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await endAllClients();
    await broker.close();
  });

  it('drops an unauthenticated CONNECT declaring 200 MiB at once, and keeps serving gateways', async () => {
    const r = await raw(port);
    sockets.push(r.socket);
    r.socket.write(Buffer.from([0x10, ...varint(200 * 1024 * 1024)]));
    r.socket.write(Buffer.alloc(64 * 1024, 0x41)); // the start of the "body"
    expect(await r.closed).toBeLessThan(2000);
    expect(broker.counters.oversizePackets).toBe(1);
    expect(broker.counters.authFailures).toBe(0);

    const gw = await gatewayClient(broker.url(), GW_A, PASSWORD_A);
    await gw.publishAsync(topics.readings(GW_A), '{"x":1}', { qos: 1 });
    await waitFor(() => received.length === 1, 2000, 'message at ingest');
  });

  it('lets an authenticated gateway publish the largest allowed payload', async () => {
    const gw = await gatewayClient(broker.url(), GW_A, PASSWORD_A);
    await gw.publishAsync(topics.readings(GW_A), Buffer.alloc(MAX_PAYLOAD_BYTES, 0x7b), { qos: 1 });
    await waitFor(() => received.length === 1, 3000, 'big message at ingest');
    expect(received[0]).toEqual({ topic: topics.readings(GW_A), size: MAX_PAYLOAD_BYTES });
    expect(broker.counters.oversizePackets).toBe(0);
  });

  it('drops an authenticated gateway whose packet is over payload limit + 1 KiB', async () => {
    const gw = await gatewayClient(broker.url(), GW_A, PASSWORD_A);
    const closed = new Promise<void>((resolve) => gw.once('close', () => resolve()));
    gw.publish(topics.readings(GW_A), Buffer.alloc(MAX_PAYLOAD_BYTES + 1025, 0x7b), { qos: 0 });
    await closed;
    expect(broker.counters.oversizePackets).toBe(1);
    expect(received).toEqual([]);
  });

  it('passes a CONNECT sent one byte at a time unchanged (CONNACK 0)', async () => {
    const r = await raw(port);
    sockets.push(r.socket);
    for (const b of connectPacket(GW_A, GW_A, PASSWORD_A)) {
      r.socket.write(Buffer.from([b]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => Buffer.concat(r.received).length >= 4, 3000, 'CONNACK');
    expect([...Buffer.concat(r.received).subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
    expect(broker.counters.badFrames + broker.counters.oversizePackets).toBe(0);
  });

  it('drops a 5 KiB CONNECT, a first packet that is not CONNECT and a five-byte length', async () => {
    const frames = [
      Buffer.concat([Buffer.from([0x10, ...varint(5 * 1024)]), Buffer.alloc(5 * 1024)]),
      Buffer.from([0xc0, 0x00]), // PINGREQ first
      Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ];
    for (const f of frames) {
      const r = await raw(port);
      sockets.push(r.socket);
      r.socket.write(f);
      expect(await r.closed).toBeLessThan(2000);
      expect(r.received).toEqual([]); // not even a CONNACK: aedes never saw the bytes
    }
    expect(broker.counters.oversizePackets).toBe(1);
    expect(broker.counters.badFrames).toBe(2);
  });
});
