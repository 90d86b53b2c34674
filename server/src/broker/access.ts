/**
 * Who may connect, publish and subscribe on the embedded broker (DESIGN "Security", SPEC §5):
 * - connect: only gateways from config, `username` = `clientId` = gateway id, scrypt-checked
 *   password; anything else gets CONNACK 4 (bad username or password) and is counted.
 * - publish: a gateway only below its own `kentongan/v1/gw/<id>/`, and only the kinds it sends
 *   (readings, status, health) — never an ack, never another gateway's topics. A refused publish
 *   closes the connection (MQTT 3.1.1 has no negative PUBACK) and is counted.
 * - subscribe: a gateway only to its own ack topic and to area alert levels (for sirens and
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
import { verifyPassword } from './passwords.ts';

/** Counters of refused broker operations. */
export interface BrokerCounters {
  authFailures: number;
  publishDenied: number;
  subscribeDenied: number;
  connections: number;
}

export function createBrokerCounters(): BrokerCounters {
  return { authFailures: 0, publishDenied: 0, subscribeDenied: 0, connections: 0 };
}

/** Kinds a gateway may publish below its own root. */
const GATEWAY_PUBLISH_KINDS: ReadonlySet<string> = new Set<GatewayTopicKind>(['readings', 'status', 'health']);
/** Checked against when the gateway id is unknown, so refusing takes as long as checking. */
const DUMMY_HASH = 'scrypt$32768$8$1$I5oNDDq/eLgRMSr/Nt/4GQ==$HnCYIU2zy0h7tA+8ltz6hYmcuLka2oCHhPZ909dZyHc=';
/** MQTT CONNACK return code 4 (MQTT 3.1.1 §3.2.2.3). */
const BAD_USERNAME_OR_PASSWORD = 4;

export interface AccessControlOptions {
  /** Gateway id -> password hash, from config. */
  gateways: ReadonlyMap<string, string>;
  counters: BrokerCounters;
  logger: Logger;
}

export type AccessHooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

export function createAccessControl(opts: AccessControlOptions): AccessHooks {
  const { gateways, counters } = opts;
  const log = opts.logger.child({ component: 'broker-auth' });

  const refuse = (client: Client, reason: string, done: (err: AuthenticateError | null, ok: boolean | null) => void) => {
    counters.authFailures++;
    log.warn({ clientId: safeId(client.id), reason }, 'connection refused');
    const err = Object.assign(new Error('bad username or password'), { returnCode: BAD_USERNAME_OR_PASSWORD });
    done(err as AuthenticateError, false);
  };

  return {
    authenticate(client, username, password, done) {
      const hash = username !== undefined ? gateways.get(username) : undefined;
      verifyPassword(password ?? Buffer.alloc(0), hash ?? DUMMY_HASH).then(
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
      // Only status is retained (birth/will); a retained batch would sit in broker memory.
      if (target.kind !== 'status') packet.retain = false;
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

/** Own ack topic, or area alert levels: all (`#`, `+`) or one area. */
export function isAllowedSubscription(gatewayId: string, filter: string): boolean {
  if (filter === topics.ack(gatewayId)) return true;
  const alertsRoot = `${TOPIC_ROOT}/alerts/`;
  if (!filter.startsWith(alertsRoot)) return false;
  const rest = filter.slice(alertsRoot.length);
  return rest === '#' || rest === '+' || ID_PATTERN.test(rest);
}

function safeId(id: string | undefined): string {
  return (id ?? '').slice(0, 64);
}
