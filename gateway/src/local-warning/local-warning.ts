/**
 * Warning when cut off (issue 3 item 6). The gateway runs its local rules (the server's rule
 * definitions, pushed with its config, evaluated by the shared `createDetector`) on every reading
 * it commits, online or not, so windows and hold times are warm when the link drops. When the
 * uplink has been down longer than `offlineAfterMs` the gateway is "cut off": a level change of a
 * public rule then drives the outputs with the pattern of the highest public level and is recorded
 * durably; the records go to the server on `…/alarms` when the link is back.
 *
 * Once the local warning has started a pattern it keeps following the local levels, also after
 * the link returns, until they are back to Normal: a siren does not stop because 4G came back
 * while the river is still high. A server `output` command overrides it (OutputBank).
 * Technician rules (sensor health) never drive a siren.
 */
import { LEVELS, audienceOf, levelRank, type Detector, type Level, type Reading, type Rule, type RuleChange, type RuleReading } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import type { OutputBank } from '../outputs/output-bank.ts';
import { patternForLevel } from '../outputs/patterns.ts';
import type { OutputResult } from '../outputs/types.ts';
import type { SessionPublish } from '../publish/mqtt-publisher.ts';
import { AlarmStore } from './alarm-store.ts';
import { AlarmUploader } from './alarm-uploader.ts';
import type { ControlDatabase } from './control-db.ts';

/** `createDetector(rules, snapshot?)` of the shared rules module. */
export type DetectorFactory = (rules: readonly Rule[], snapshot?: unknown) => Detector;

export interface LocalWarningSettings {
  localRules: readonly Rule[];
  offlineAfterMs: number;
}

export interface LocalWarningOptions {
  db: ControlDatabase;
  gatewayId: string;
  settings: LocalWarningSettings;
  outputs: OutputBank;
  createDetector: DetectorFactory;
  ackTimeoutMs: number;
  logger: Logger;
  now: () => Date;
  /** How often link time and deadman rules are checked; default 1000 ms. */
  tickMs?: number;
}

/** What the local warning did since start. */
export interface LocalWarningStats {
  cutOff: boolean;
  offlineSince: string | null;
  levels: Record<string, Level>;
  pattern: string;
  alarmsRecorded: number;
  alarmsPending: number;
  alarmsUploaded: number;
}

export class LocalWarning {
  private detector: Detector;
  private rulesJson: string;
  private settings: LocalWarningSettings;
  private downSinceMs: number | null;
  private cutOff = false;
  private pattern: ReturnType<typeof patternForLevel> = 'off';
  private recorded = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly store: AlarmStore;
  private readonly uploader: AlarmUploader;
  private readonly log: Logger;
  /** Serialises output changes and records, so they happen in the order of the changes. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LocalWarningOptions) {
    this.log = opts.logger.child({ component: 'local-warning' });
    this.settings = opts.settings;
    this.store = new AlarmStore(opts.db, opts.now);
    this.uploader = new AlarmUploader({ store: this.store, gatewayId: opts.gatewayId, ackTimeoutMs: opts.ackTimeoutMs, logger: opts.logger, now: opts.now });
    this.rulesJson = JSON.stringify(opts.settings.localRules);
    this.detector = this.buildDetector(opts.settings.localRules);
    // The gateway starts without a link: the offline clock runs from start.
    this.downSinceMs = opts.now().getTime();
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 1000);
  }

  stats(): LocalWarningStats {
    return {
      cutOff: this.cutOff,
      offlineSince: this.downSinceMs === null ? null : new Date(this.downSinceMs).toISOString(),
      levels: this.detector.levels(),
      pattern: this.pattern,
      alarmsRecorded: this.recorded,
      alarmsPending: this.store.pending(),
      alarmsUploaded: this.uploader.uploaded,
    };
  }

  /** Readings just committed to the queue. Never throws (a detector failure is logged). */
  onReadings(readings: readonly Reading[]): void {
    const input: RuleReading[] = readings.map((r) => ({
      sensorId: r.sensorId,
      quantity: r.quantity,
      value: r.value,
      unit: r.unit,
      tsMs: Date.parse(r.ts),
      quality: r.quality ?? 'good',
    }));
    this.evaluate(() => this.detector.apply(input));
  }

  onUp(publish: SessionPublish): void {
    if (this.cutOff) this.log.info({ offlineSince: new Date(this.downSinceMs ?? 0).toISOString() }, 'uplink back: uploading local alarms / jaringan pulih');
    this.downSinceMs = null;
    this.cutOff = false;
    this.uploader.onUp(publish);
  }

  onDown(): void {
    this.downSinceMs ??= this.opts.now().getTime();
    this.uploader.onDown();
  }

  onAck(ack: Parameters<AlarmUploader['onAck']>[0]): boolean {
    return this.uploader.onAck(ack);
  }

  /** New rules or offline limit (remote config). Same rules keep the detector's state. */
  reconfigure(settings: LocalWarningSettings): void {
    this.settings = settings;
    const json = JSON.stringify(settings.localRules);
    if (json !== this.rulesJson) {
      this.rulesJson = json;
      // The running state is handed over: unchanged rules keep their windows and levels.
      this.saveSnapshot();
      this.detector = this.buildDetector(settings.localRules);
      this.log.info({ rules: settings.localRules.length }, 'local rules replaced');
    }
  }

  /** Waits for pending output changes and records (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.uploader.close();
    await this.chain;
    this.saveSnapshot();
  }

  private tick(): void {
    const nowMs = this.opts.now().getTime();
    if (!this.cutOff && this.downSinceMs !== null && nowMs - this.downSinceMs >= this.settings.offlineAfterMs) {
      this.cutOff = true;
      this.log.warn({ offlineSince: new Date(this.downSinceMs).toISOString(), offlineAfterMs: this.settings.offlineAfterMs }, 'uplink down too long: local rules drive the outputs / gateway terputus, peringatan lokal aktif');
      // A level already raised before the cut-off is driven now.
      this.enqueue([], true);
    }
    this.evaluate(() => this.detector.tick(nowMs));
  }

  private evaluate(run: () => RuleChange[]): void {
    let changes: RuleChange[];
    try {
      changes = run();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'local rule evaluation failed');
      return;
    }
    if (changes.length > 0 || this.cutOff) this.enqueue(changes, false);
  }

  private enqueue(changes: RuleChange[], entering: boolean): void {
    const cutOff = this.cutOff;
    const offlineSince = this.downSinceMs === null ? null : new Date(this.downSinceMs).toISOString();
    const levels = this.detector.levels();
    this.chain = this.chain
      .then(() => this.act(changes, levels, cutOff, offlineSince, entering))
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'local warning step failed'));
  }

  private async act(changes: RuleChange[], levels: Record<string, Level>, cutOff: boolean, offlineSince: string | null, entering: boolean): Promise<void> {
    const target = patternForLevel(this.maxPublicLevel(levels));
    // The local warning takes the outputs only while cut off; once it has them it follows the
    // levels down to Normal even if the link came back.
    const owns = cutOff || this.pattern !== 'off';
    let results: OutputResult[] | null = null;
    if (owns && target !== this.pattern) {
      results = await this.opts.outputs.driveLocal(target);
      this.log.warn({ pattern: target, from: this.pattern, cutOff }, 'local outputs driven / sirine lokal');
      this.pattern = target;
    }
    if (entering && results === null) return;
    for (const change of changes) {
      if (change.audience !== 'public' && !cutOff) continue;
      if (!cutOff && results === null) continue; // online and nothing driven: the server has it
      const alarm = this.store.add({
        ruleId: change.ruleId.slice(0, 64),
        hazard: change.hazard,
        kind: change.kind,
        from: change.from,
        to: change.to,
        at: new Date(change.atMs).toISOString(),
        offlineSince,
        evidence: {
          sensorId: change.evidence.sensorId,
          quantity: change.evidence.quantity,
          value: change.evidence.value,
          unit: change.evidence.unit.slice(0, 16),
          threshold: change.evidence.threshold,
          description: { id: change.evidence.description.id.slice(0, 200), en: change.evidence.description.en.slice(0, 200) },
        },
        output: { pattern: this.pattern, results: (results ?? []).slice(0, 16) },
      });
      this.recorded++;
      this.log.warn({ alarmId: alarm.alarmId, ruleId: alarm.ruleId, from: alarm.from, to: alarm.to, at: alarm.at }, 'local alarm recorded');
    }
    if (changes.length > 0) this.uploader.pump();
  }

  private maxPublicLevel(levels: Record<string, Level>): Level {
    let max: Level = LEVELS[0];
    for (const [ruleId, level] of Object.entries(levels)) {
      if (this.audienceOf(ruleId) === 'public' && levelRank(level) > levelRank(max)) max = level;
    }
    return max;
  }

  private audienceOf(ruleId: string): 'public' | 'technician' {
    const rule = this.settings.localRules.find((r) => r.id === ruleId);
    return rule ? audienceOf(rule) : 'technician';
  }

  /** The saved state is offered for every rule set: the detector keeps only what still fits each rule. */
  private buildDetector(rules: readonly Rule[]): Detector {
    const row = this.opts.db.prepare('SELECT snapshot_json FROM detector_state WHERE id = 1').get() as { snapshot_json: string } | undefined;
    let snapshot: unknown;
    try {
      snapshot = row ? JSON.parse(row.snapshot_json) : undefined;
    } catch {
      snapshot = undefined;
    }
    return this.opts.createDetector(rules, snapshot);
  }

  private saveSnapshot(): void {
    try {
      this.opts.db
        .prepare('INSERT INTO detector_state (id, rules_json, snapshot_json) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET rules_json = excluded.rules_json, snapshot_json = excluded.snapshot_json')
        .run(this.rulesJson, JSON.stringify(this.detector.snapshot()));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'local detector state not saved');
    }
  }
}
