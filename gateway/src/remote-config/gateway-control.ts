/**
 * The gateway's control plane, on the same MQTT session as its readings: remote configuration
 * (`…/config` in, `…/config-status` out), server output commands (`…/output` in) and the local
 * warning with its alarm upload (`…/alarms` out, acks on `…/ack`). Built before the rest of the
 * gateway, because a persisted remote config decides which ports and sensors it opens.
 */
import { topics, type Ack } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import { openControlDatabase, type ControlDatabase } from '../local-warning/control-db.ts';
import { LocalWarning, type DetectorFactory, type LocalWarningStats } from '../local-warning/local-warning.ts';
import { OutputBank, type OutputBankOptions, type OutputCounters } from '../outputs/output-bank.ts';
import type { SessionHooks, SessionPublish } from '../publish/mqtt-publisher.ts';
import { RemoteConfig, type RemoteConfigCounters } from './remote-config.ts';

export interface GatewayControlOptions {
  fileConfig: GatewayConfig;
  logger: Logger;
  now: () => Date;
  createDetector: DetectorFactory;
  /** GPIO pattern timings (tests). */
  gpio?: OutputBankOptions['gpio'];
  /** Local warning tick period (tests); default 1000 ms. */
  tickMs?: number;
}

/** What `RunningGateway.controlStats()` returns. */
export interface ControlStats {
  config: { appliedVersion: number; refusedVersion: number | null; error: string | null } & RemoteConfigCounters;
  localWarning: LocalWarningStats;
  outputs: { patterns: Record<string, string> } & OutputCounters;
}

export class GatewayControl {
  readonly remote: RemoteConfig;
  readonly outputs: OutputBank;
  readonly localWarning: LocalWarning;
  readonly session: SessionHooks;
  private readonly db: ControlDatabase;
  private outputsJson: string;

  constructor(opts: GatewayControlOptions) {
    const id = opts.fileConfig.gatewayId;
    this.db = openControlDatabase(opts.fileConfig.dataDir);
    try {
      this.remote = new RemoteConfig({ db: this.db, fileConfig: opts.fileConfig, logger: opts.logger, now: opts.now });
      const config = this.remote.current().config;
      this.outputs = new OutputBank(config.outputs, { logger: opts.logger, now: opts.now, ...(opts.gpio ? { gpio: opts.gpio } : {}) });
      this.localWarning = new LocalWarning({
        db: this.db,
        gatewayId: id,
        settings: { localRules: config.localRules, offlineAfterMs: config.offlineAfterMs },
        outputs: this.outputs,
        createDetector: opts.createDetector,
        ackTimeoutMs: config.mqtt.ackTimeoutMs,
        logger: opts.logger,
        now: opts.now,
        ...(opts.tickMs ? { tickMs: opts.tickMs } : {}),
      });
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.outputsJson = JSON.stringify(this.remote.current().config.outputs);
    const configTopic = topics.config(id);
    const outputTopic = topics.output(id);
    this.session = {
      subscriptions: [configTopic, outputTopic],
      onMessage: (topic, payload) => {
        if (topic === configTopic) void this.remote.handlePush(payload);
        else if (topic === outputTopic) void this.outputs.handleCommand(payload);
      },
      onAck: (ack: Ack) => this.localWarning.onAck(ack),
      onUp: (publish: SessionPublish) => {
        this.remote.onUp(publish);
        this.localWarning.onUp(publish);
      },
      onDown: () => {
        this.remote.onDown();
        this.localWarning.onDown();
      },
    };
  }

  /** The config to start with (the persisted remote one over the file). */
  config(): GatewayConfig {
    return this.remote.current().config;
  }

  /** The local parts of a new config (rules, offline limit, outputs). */
  async applyLocal(config: GatewayConfig): Promise<void> {
    this.localWarning.reconfigure({ localRules: config.localRules, offlineAfterMs: config.offlineAfterMs });
    const json = JSON.stringify(config.outputs);
    if (json === this.outputsJson) return;
    this.outputsJson = json;
    await this.outputs.replace(config.outputs);
  }

  stats(): ControlStats {
    const st = this.remote.status();
    return {
      config: { appliedVersion: st.appliedVersion, refusedVersion: st.refusedVersion ?? null, error: st.error ?? null, ...this.remote.counters },
      localWarning: this.localWarning.stats(),
      outputs: { patterns: this.outputs.patterns(), ...this.outputs.counters },
    };
  }

  async stop(): Promise<void> {
    // A push being applied finishes first (the applier skips the ports once the gateway stops).
    await Promise.race([this.remote.settled(), new Promise((r) => setTimeout(r, 5000))]);
    await this.localWarning.stop();
    await this.outputs.close();
    this.db.close();
  }
}
