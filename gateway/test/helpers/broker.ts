/**
 * A real aedes broker on 127.0.0.1 port 0, and a test client that plays the Kentongan server:
 * it subscribes to a gateway's readings, validates each batch and can ack it with ackSchema.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ackSchema, readingSchema, readingsBatchSchema, topics, type Ack, type Reading } from '@kentongan/firmware-protocol';
import { Aedes, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export interface TestBroker {
  url: string;
  port: number;
  broker: Aedes;
  /** Connected broker clients by client id. */
  clients: Map<string, Client>;
  close(): Promise<void>;
}

/**
 * `auth`: when given, only these username/password pairs may connect (others get "not authorized").
 * `authorizeSubscribe`: when given, decides each subscription (return false to refuse it: SUBACK 0x80).
 */
export async function startBroker(
  port = 0,
  auth?: Record<string, string>,
  authorizeSubscribe?: (clientId: string | undefined, topic: string) => boolean,
): Promise<TestBroker> {
  const broker = await Aedes.createBroker({
    ...(auth
      ? {
          authenticate: (_client, username, password, done) => {
            const ok = username !== undefined && auth[username] !== undefined && auth[username] === password?.toString();
            done(null, ok);
          },
        }
      : {}),
    ...(authorizeSubscribe
      ? { authorizeSubscribe: (client, sub, done) => done(null, authorizeSubscribe(client?.id, sub.topic) ? sub : null) }
      : {}),
  });
  const clients = new Map<string, Client>();
  broker.on('client', (c) => clients.set(c.id, c));
  broker.on('clientDisconnect', (c) => {
    if (clients.get(c.id) === c) clients.delete(c.id);
  });
  const server: Server = createServer(broker.handle as (socket: import('node:net').Socket) => void);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    broker,
    clients,
    close: async () => {
      for (const c of clients.values()) c.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export interface ReceivedBatch {
  batchId: string;
  readings: Reading[];
}

/** Plays the server side of the contract for one gateway. */
export class FakeServer {
  readonly batches: ReceivedBatch[] = [];
  readonly invalid: string[] = [];
  readonly statuses: { state: string; retain: boolean }[] = [];
  readonly health: unknown[] = [];
  /** Ack every batch as soon as it arrives. */
  autoAck = false;
  private constructor(
    readonly client: MqttClient,
    readonly gatewayId: string,
  ) {}

  static async connect(url: string, gatewayId: string, credentials: { username?: string; password?: string } = {}): Promise<FakeServer> {
    const client = await mqtt.connectAsync(url, { ...credentials, protocolVersion: 4, clientId: `server-${gatewayId}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
    const fake = new FakeServer(client, gatewayId);
    client.on('message', (topic, payload, packet) => fake.onMessage(topic, payload, packet.retain));
    await client.subscribeAsync([topics.readings(gatewayId), topics.status(gatewayId), topics.health(gatewayId)], { qos: 1 });
    return fake;
  }

  /** Every reading received, in arrival order (resends included). */
  readings(): Reading[] {
    return this.batches.flatMap((b) => b.readings);
  }

  /** Distinct readings by the server's idempotency key. */
  uniqueReadings(): Reading[] {
    const seen = new Map<string, Reading>();
    for (const r of this.readings()) seen.set(`${r.sensorId}/${r.epoch}/${r.seq}/${r.quantity}`, r);
    return [...seen.values()];
  }

  async ack(batch: ReceivedBatch, overrides: Partial<Ack> = {}): Promise<void> {
    const ack: Ack = ackSchema.parse({ v: 1, batchId: batch.batchId, stored: batch.readings.length, duplicates: 0, rejected: [], ...overrides });
    await this.client.publishAsync(topics.ack(this.gatewayId), JSON.stringify(ack), { qos: 1 });
  }

  async sendRawAck(payload: string): Promise<void> {
    await this.client.publishAsync(topics.ack(this.gatewayId), payload, { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onMessage(topic: string, payload: Buffer, retain: boolean): void {
    const json = JSON.parse(payload.toString());
    if (topic === topics.status(this.gatewayId)) {
      this.statuses.push({ state: json.state, retain });
      return;
    }
    if (topic === topics.health(this.gatewayId)) {
      this.health.push(json);
      return;
    }
    const envelope = readingsBatchSchema.safeParse(json);
    if (!envelope.success) {
      this.invalid.push(payload.toString().slice(0, 200));
      return;
    }
    const readings = envelope.data.readings.map((r) => readingSchema.parse(r));
    const batch = { batchId: envelope.data.batchId, readings };
    this.batches.push(batch);
    if (this.autoAck) void this.ack(batch);
  }
}
