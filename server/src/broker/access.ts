/**
 * Who may connect, publish and subscribe on the embedded broker (DESIGN "Security", SPEC §5):
 * - connect: only gateways from config, `username` = `clientId` = gateway id, scrypt-checked
 *   password; anything else gets CONNACK 4 (bad username or password) and is counted. After 5
 *   failures from one address in a minute, that address gets CONNACK 5 (not authorized) without a
 *   password check for the rest of the minute (auth-throttle.ts), counted apart.
 * - publish: a gateway only below its own `kentongan/v1/gw/<id>/`, and only the kinds it sends
 *   (readings, status, health, config-status, alarms) — never an ack, a config or an output
 *   command, never another gateway's topics. A refused publish
 *   closes the connection (MQTT 3.1.1 has no negative PUBACK) and is counted.
 * - subscribe: a gateway only to its own ack, config and output topics and to area alert levels (for sirens and
 *   displays); other filters get SUBACK 0x80 (failure) and are counted, the connection stays.
 * The server itself publishes with `broker.publish`, which no client can impersonate.
 */
import {
  ID_PATTERN,
  TOPIC_ROOT,
  parseGatewayTopic,
  topics,
  type GatewayTopicKind,
} from '@kentongan/firmware-protocol';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { AuthThrottle } from './auth-throttle.ts';
import { verifyPassword } from './passwords.ts';

/** Counters of refused broker operations. */
export interface BrokerCounters {
  /** CONNECTs refused after a password check (CONNACK 4). */
  authFailures: number;
  /** CONNECTs refused unchecked while their address backs off (CONNACK 5). */
  authThrottled: number;
  publishDenied: number;
  subscribeDenied: number;
  connections: number;
  /** Connections dropped for a packet declaring more than the size limit in force. */
  oversizePackets: number;
  /** Connections dropped for another framing violation (see frame-scanner.ts). */
  badFrames: number;
}

export function createBrokerCounters(): BrokerCounters {
  return {
    authFailures: 0,
    authThrottled: 0,
    publishDenied: 0,
    subscribeDenied: 0,
    connections: 0,
    oversizePackets: 0,
    badFrames: 0,
  };
}

/** Kinds a gateway may publish below its own root. */
const GATEWAY_PUBLISH_KINDS: ReadonlySet<string> = new Set<GatewayTopicKind>(['readings', 'status', 'health', 'config-status', 'alarms']);
/** Kinds a gateway may publish retained (birth/will, and which config it runs); others lose the flag. */
const RETAINED_KINDS: ReadonlySet<string> = new Set<GatewayTopicKind>(['status', 'config-status']);
/** Checked against when the gateway id is unknown, so refusing takes as long as checking. */
const DUMMY_HASH = 'scrypt$32768$8$1$I5oNDDq/eLgRMSr/Nt/4GQ==$HnCYIU2zy0h7tA+8ltz6hYmcuLka2oCHhPZ909dZyHc=';
/** MQTT CONNACK return codes 4 and 5 (MQTT 3.1.1 §3.2.2.3). */
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

export interface AccessControlOptions {
  /** Gateway id -> password hash, from config. */
  gateways: ReadonlyMap<string, string>;
  counters: BrokerCounters;
  logger: Logger;
  /** Clock of the failed-login back-off; `Date.now` by default. */
  now?: () => number;
  /** The password check; `verifyPassword` by default (tests pass a recording one). */
  verify?: (password: Buffer | string, hash: string) => Promise<boolean>;
}

export type AccessHooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

export function createAccessControl(opts: AccessControlOptions): AccessHooks {
  const { gateways, counters } = opts;
  const log = opts.logger.child({ component: 'broker-auth' });
  const verify = opts.verify ?? verifyPassword;
  const throttle = new AuthThrottle(opts.now ? { now: opts.now } : {});

  type Done = (err: AuthenticateError | null, ok: boolean | null) => void;
  const refuse = (client: Client, reason: string, done: Done) => {
    counters.authFailures++;
    const remoteAddress = remoteAddressOf(client);
    throttle.recordFailure(remoteAddress);
    log.warn({ clientId: safeId(client.id), remoteAddress, reason }, 'connection refused');
    const err = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD });
    done(err as AuthenticateError, false);
  };

  return {
    authenticate(client, username, password, done) {
      const remoteAddress = remoteAddressOf(client);
      if (throttle.isBlocked(remoteAddress)) {
        counters.authThrottled++;
        log.warn({ clientId: safeId(client.id), remoteAddress }, 'connection refused: too many failed logins');
        const err = Object.assign(new Error('not authorized'), { returnCode: NOT_AUTHORIZED });
        done(err as AuthenticateError, false);
        return;
      }
      const hash = username !== undefined ? gateways.get(username) : undefined;
      verify(password ?? Buffer.alloc(0), hash ?? DUMMY_HASH).then(
        (ok) => {
          if (username === undefined || username !== client.id) return refuse(client, 'username_not_client_id', done);
          if (hash === undefined) return refuse(client, 'unknown_gateway', done);
          if (!password || !ok) return refuse(client, 'wrong_password', done);
          log.info({ gatewayId: client.id }, 'gateway authenticated');
          done(null, true);
        },
        () => refuse(client, 'verify_failed', done),
      );
    },

    authorizePublish(client, packet, done) {
      const target = parseGatewayTopic(packet.topic);
      // client is null only for a will left by a connection that is gone (aedes docs): a will
      // can only be a status message of a configured gateway.
      const owner = client ? client.id : target?.gatewayId;
      const allowed =
        target !== null &&
        owner !== undefined &&
        target.gatewayId === owner &&
        gateways.has(owner) &&
        (client ? GATEWAY_PUBLISH_KINDS.has(target.kind) : target.kind === 'status');
      if (!allowed) {
        counters.publishDenied++;
        log.warn({ clientId: client ? safeId(client.id) : null, topic: packet.topic.slice(0, 128) }, 'publish refused');
        done(new Error('publish not authorized'));
        return;
      }
      // Only status and config-status are retained; a retained batch would sit in broker memory.
      if (!RETAINED_KINDS.has(target.kind)) packet.retain = false;
      done(null);
    },

    authorizeSubscribe(client, sub, done) {
      if (isAllowedSubscription(client.id, sub.topic)) {
        done(null, sub);
        return;
      }
      counters.subscribeDenied++;
      log.warn({ clientId: safeId(client.id), topic: sub.topic.slice(0, 128) }, 'subscribe refused');
      done(null, null);
    },
  };
}

/** Own ack, config and output topics, or area alert levels: all (`#`, `+`) or one area. */
export function isAllowedSubscription(gatewayId: string, filter: string): boolean {
  if (filter === topics.ack(gatewayId) || filter === topics.config(gatewayId) || filter === topics.output(gatewayId)) return true;
  const alertsRoot = `${TOPIC_ROOT}/alerts/`;
  if (!filter.startsWith(alertsRoot)) return false;
  const rest = filter.slice(alertsRoot.length);
  return rest === '#' || rest === '+' || ID_PATTERN.test(rest);
}

/** The peer address kept by the connection (GuardedConnection or a plain socket). */
function remoteAddressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: unknown } | undefined;
  return typeof conn?.remoteAddress === 'string' ? conn.remoteAddress : 'unknown';
}

function safeId(id: string | undefined): string {
  return (id ?? '').slice(0, 64);
}
