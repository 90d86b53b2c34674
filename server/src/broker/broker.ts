/**
 * The embedded MQTT broker: aedes (MQTT 3.1.1 only) on a plain TCP server. Created first and
 * listened on later, so that everything that handles messages is wired before a gateway can
 * connect. Messages from authenticated gateways reach `onGatewayMessage` through aedes'
 * `published` hook; the server's own messages (acks, area levels) go out through
 * `broker.publish`, which no client can impersonate.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { MAX_PAYLOAD_BYTES } from '@kentongan/firmware-protocol';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { ServerError } from '../errors.ts';
import { createAccessControl, createBrokerCounters, type AccessControlOptions, type BrokerCounters } from './access.ts';
import { MqttFrameScanner, type FrameLimits } from './frame-scanner.ts';
import { GuardedConnection } from './guarded-connection.ts';

export interface BrokerOptions {
  host: string;
  /** 0 picks a free port; `listen()` reports the actual one. */
  port: number;
  /** Gateway id -> password hash. */
  gateways: ReadonlyMap<string, string>;
  logger: Logger;
  /** Called synchronously for every message an authenticated gateway published. */
  onGatewayMessage: (gatewayId: string, topic: string, payload: Buffer) => void;
  /** Clock for the failed-login back-off; `Date.now` by default. */
  now?: AccessControlOptions['now'];
}

/** Most TCP connections at once: one per gateway plus sirens and tools; bounds memory. */
const MAX_CONNECTIONS = 1024;

/**
 * Packet size limits checked on the fixed header, before aedes buffers anything. Once
 * authenticated: the largest payload (MAX_PAYLOAD_BYTES) plus 1 KiB for topic and packet id.
 * Before: 4 KiB, far above a CONNECT with a 32-character id, user name and password (no will
 * of that size is sent by our gateways), and 8 KiB in all, since mqtt.js waits for CONNACK.
 */
export const FRAME_LIMITS: FrameLimits = {
  maxRemainingLength: MAX_PAYLOAD_BYTES + 1024,
  preAuthMaxRemainingLength: 4 * 1024,
  preAuthMaxBytes: 8 * 1024,
};

export interface EmbeddedBroker {
  readonly counters: BrokerCounters;
  /** Starts accepting connections; resolves with the bound port. */
  listen(): Promise<number>;
  /** `mqtt://host:port`, valid after `listen()`. */
  url(): string;
  /** Publishes a server message; resolves once aedes has taken it. */
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Ids of gateways connected now. */
  connectedGateways(): ReadonlySet<string>;
  connectedClients(): number;
  /** Closes every client, the broker and the TCP server. Idempotent. */
  close(): Promise<void>;
}

export async function createBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.logger.child({ component: 'broker' });
  const counters = createBrokerCounters();
  const connected = new Map<string, Client>();
  const access = createAccessControl({
    gateways: opts.gateways,
    counters,
    logger: opts.logger,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const aedes = await Aedes.createBroker({
    ...access,
    authenticate(client, username, password, done) {
      access.authenticate(client, username, password, (err, ok) => {
        // Raise the frame limit before aedes sends CONNACK, so the first big batch is let through.
        if (!err && ok && client.conn instanceof GuardedConnection) client.conn.markAuthenticated();
        done(err, ok);
      });
    },
    // Gateway ids are up to 32 characters (ID_PATTERN); aedes' default limit is 23.
    maxClientsIdLength: 64,
    published(packet, client, done) {
      if (client) {
        try {
          const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
          opts.onGatewayMessage(client.id, packet.topic, payload);
        } catch (err) {
          // Ingest counts and swallows bad input itself; reaching here is a bug, never a crash.
          log.error({ err, gatewayId: client.id }, 'message handler threw');
        }
      }
      done(null);
    },
  });
  aedes.on('clientReady', (client) => {
    connected.set(client.id, client);
    log.info({ gatewayId: client.id }, 'gateway connected');
  });
  aedes.on('clientDisconnect', (client) => {
    // A reconnect with the same id replaces the old client before the old one is gone.
    if (connected.get(client.id) === client) connected.delete(client.id);
    log.info({ gatewayId: client.id }, 'gateway disconnected');
  });
  aedes.on('clientError', (client, err) => log.warn({ clientId: client.id?.slice(0, 64), err: err.message }, 'client error'));
  aedes.on('connectionError', (_client, err) => log.warn({ err: err.message }, 'connection error'));

  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    counters.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const conn = new GuardedConnection(socket, new MqttFrameScanner(FRAME_LIMITS), (v) => {
      if (v.violation === 'oversize') counters.oversizePackets++;
      else counters.badFrames++;
      log.warn(
        { remoteAddress: conn.remoteAddress, violation: v.violation, packetType: v.packetType, remainingLength: v.remainingLength, limit: v.limit },
        'connection dropped: bad MQTT frame',
      );
    });
    aedes.handle(conn);
  });
  tcp.maxConnections = MAX_CONNECTIONS;
  let port = 0;
  let closing: Promise<void> | null = null;

  return {
    counters,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(opts.port, opts.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      }).catch((err: unknown) => {
        throw new ServerError('MQTT_LISTEN_FAILED', `cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`, {
          cause: err,
        });
      });
      port = (tcp.address() as AddressInfo).port;
      log.info({ host: opts.host, port }, 'broker listening');
      return port;
    },
    url: () => `mqtt://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    publish(topic, payload, options) {
      const packet: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
        qos: options.qos,
        retain: options.retain,
        dup: false,
      };
      return new Promise((resolve, reject) => {
        if (aedes.closed) {
          reject(new ServerError('MQTT_CLOSED', 'broker is closed'));
          return;
        }
        aedes.publish(packet, (err) => (err ? reject(err) : resolve()));
      });
    },
    connectedGateways: () => new Set(connected.keys()),
    connectedClients: () => connected.size,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const s of sockets) s.destroy();
        if (tcp.listening) await new Promise<void>((resolve) => tcp.close(() => resolve()));
        log.info('broker closed');
      })();
      return closing;
    },
  };
}
