/**
 * Remote configuration (SPEC §5.8): the server publishes `{v, version, config}` retained on
 * `…/config`; the gateway validates it, persists it, applies it and reports on `…/config-status`
 * (retained). A push is refused, and the running config kept, when the payload is not a valid
 * envelope (size, JSON, types), when its version is older than the applied one (a replay), or
 * when its config fails the gateway's own schema; the status then carries `refusedVersion` and
 * the `path: message` lines. The same version as the applied one is the retained message coming
 * back on every reconnect: it only re-reports the status.
 *
 * Persist before apply: after a crash in between, the next start runs the new config (it passed
 * validation), never a half-applied one.
 */
import {
  MAX_CONFIG_ERROR_CHARS,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  configPushSchema,
  parsePayload,
  topics,
  type ConfigStatus,
} from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import type { ControlDatabase } from '../local-warning/control-db.ts';
import type { SessionPublish } from '../publish/mqtt-publisher.ts';
import { mergeRemoteConfig } from './merge.ts';

export interface RemoteConfigOptions {
  db: ControlDatabase;
  /** The configuration from the local file (with the password). */
  fileConfig: GatewayConfig;
  logger: Logger;
  now: () => Date;
}

/** Counters of config pushes since start. */
export interface RemoteConfigCounters {
  applied: number;
  refused: number;
  /** Pushes of the version already applied (the retained message redelivered on reconnect). */
  unchanged: number;
}

export class RemoteConfig {
  readonly counters: RemoteConfigCounters = { applied: 0, refused: 0, unchanged: 0 };
  private version = 0;
  private config: GatewayConfig;
  private refusal: { version: number | null; error: string } | undefined;
  private publish: SessionPublish | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Resolved by setApplier: a retained push may arrive before the gateway is assembled. */
  private readonly applier: Promise<(config: GatewayConfig) => Promise<void>>;
  private resolveApplier!: (apply: (config: GatewayConfig) => Promise<void>) => void;
  private readonly log: Logger;

  constructor(private readonly opts: RemoteConfigOptions) {
    this.log = opts.logger.child({ component: 'remote-config' });
    this.applier = new Promise((resolve) => (this.resolveApplier = resolve));
    this.config = opts.fileConfig;
    this.loadPersisted();
  }

  /** The config to run: the persisted remote one merged over the file, or the file alone. */
  current(): { config: GatewayConfig; version: number } {
    return { config: this.config, version: this.version };
  }

  /** What applies a new config to the running gateway (set once the gateway is assembled). */
  setApplier(apply: (config: GatewayConfig) => Promise<void>): void {
    this.resolveApplier(apply);
  }

  /** Resolves when the pushes received so far are handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  status(): ConfigStatus {
    const s: ConfigStatus = { v: PROTOCOL_VERSION, gatewayId: this.opts.fileConfig.gatewayId, appliedVersion: this.version, ts: this.opts.now().toISOString() };
    if (this.refusal) {
      s.refusedVersion = this.refusal.version;
      s.error = this.refusal.error;
    }
    return s;
  }

  /** A raw `…/config` payload. Serialised: one push is applied at a time. Never throws. */
  handlePush(payload: Buffer): Promise<void> {
    this.chain = this.chain.then(() => this.process(payload)).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'config push failed'));
    return this.chain;
  }

  onUp(publish: SessionPublish): void {
    this.publish = publish;
    this.report();
  }

  onDown(): void {
    this.publish = undefined;
  }

  private async process(payload: Buffer): Promise<void> {
    const parsed = parsePayload(configPushSchema, payload);
    if (!parsed.ok) return this.refuse(versionOf(payload), parsed.error);
    const { version, config } = parsed.value;
    if (version === this.version) {
      this.counters.unchanged++;
      this.report();
      return;
    }
    if (version < this.version) {
      return this.refuse(version, `version: ${version} is older than the applied version ${this.version} (a replay); kept ${this.version}`);
    }
    const merged = mergeRemoteConfig(this.opts.fileConfig, config);
    if (!merged.ok) return this.refuse(version, merged.error);
    // Persist first, then apply (see the file comment).
    this.opts.db
      .prepare(
        `INSERT INTO applied_config (id, version, config_json, applied_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, config_json = excluded.config_json, applied_at = excluded.applied_at`,
      )
      .run(version, JSON.stringify(config), this.opts.now().toISOString());
    const previous = this.version;
    this.version = version;
    this.config = merged.config;
    this.refusal = undefined;
    await (await this.applier)(merged.config);
    this.counters.applied++;
    this.log.info({ version, previous }, 'remote config applied');
    this.report();
  }

  private refuse(version: number | null, error: string): void {
    this.counters.refused++;
    this.refusal = { version, error: clip(error) };
    this.log.warn({ refusedVersion: version, appliedVersion: this.version, error: clip(error).slice(0, 500) }, 'remote config refused; the running config is kept');
    this.report();
  }

  private report(): void {
    const publish = this.publish;
    if (!publish) return; // sent on the next onUp
    publish(topics.configStatus(this.opts.fileConfig.gatewayId), JSON.stringify(this.status()), { qos: 1, retain: true }).catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'config status not published; sent again on reconnect'),
    );
  }

  private loadPersisted(): void {
    const row = this.opts.db.prepare('SELECT version, config_json FROM applied_config WHERE id = 1').get() as { version: number; config_json: string } | undefined;
    if (!row) return;
    let pushed: unknown;
    try {
      pushed = JSON.parse(row.config_json);
    } catch {
      pushed = null;
    }
    const merged = typeof pushed === 'object' && pushed !== null ? mergeRemoteConfig(this.opts.fileConfig, pushed as Record<string, unknown>) : { ok: false as const, error: '(root): stored config is not an object' };
    if (!merged.ok) {
      // The local file changed under it (e.g. a port renamed): run the file, say why.
      this.refusal = { version: row.version, error: clip(`stored config no longer valid with the local file: ${merged.error}`) };
      this.log.error({ version: row.version, error: merged.error.slice(0, 500) }, 'stored remote config invalid; running the local file');
      return;
    }
    this.version = row.version;
    this.config = merged.config;
    this.log.info({ version: row.version }, 'remote config loaded from disk');
  }
}

/** The version of a refused payload, when one can be read, for the status. */
function versionOf(payload: Buffer): number | null {
  if (payload.length > MAX_PAYLOAD_BYTES) return null;
  try {
    const v = (JSON.parse(payload.toString()) as { version?: unknown }).version;
    return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
  } catch {
    return null;
  }
}

function clip(text: string): string {
  return text.length <= MAX_CONFIG_ERROR_CHARS ? text : `${text.slice(0, MAX_CONFIG_ERROR_CHARS - 1)}…`;
}
