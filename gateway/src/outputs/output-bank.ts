/**
 * All local outputs of the gateway, driven by two masters: the local warning (its rules while
 * the uplink is cut off) and the server (`…/output` commands). The latest instruction wins; a
 * server command with a duration hands the outputs back to the local state when it ends.
 * Server commands are checked: a repeated `commandId` (QoS 1 redelivery) is ignored, and so is a
 * command that already expired by its own `issuedAt + durationS` (a siren must not sound hours
 * late because the broker kept the message while the gateway was away).
 */
import { outputCommandSchema, parsePayload, type OutputPattern } from '@kentongan/firmware-protocol';
import type { Logger } from 'pino';
import { CommandOutput } from './command-output.ts';
import { GpioOutput, type GpioOutputOptions } from './gpio-output.ts';
import type { OutputConfig } from './schema.ts';
import type { OutputDriver, OutputResult } from './types.ts';

/** Command ids remembered for the redelivery check; bounds memory against a flood of ids. */
const SEEN_COMMANDS = 256;

/** Counters of server output commands. */
export interface OutputCounters {
  commandsApplied: number;
  commandsInvalid: number;
  commandsDuplicate: number;
  commandsExpired: number;
  failures: number;
}

export interface OutputBankOptions {
  logger: Logger;
  now: () => Date;
  gpio?: GpioOutputOptions;
}

export class OutputBank {
  readonly counters: OutputCounters = { commandsApplied: 0, commandsInvalid: 0, commandsDuplicate: 0, commandsExpired: 0, failures: 0 };
  private drivers: OutputDriver[] = [];
  private localPattern: OutputPattern = 'off';
  private readonly current = new Map<string, OutputPattern>();
  private readonly seen: string[] = [];
  private revertTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    configs: readonly OutputConfig[],
    private readonly opts: OutputBankOptions,
  ) {
    this.log = opts.logger.child({ component: 'outputs' });
    this.drivers = configs.map((c) => this.build(c));
  }

  /** The pattern each output runs now (what the last instruction set). */
  patterns(): Record<string, OutputPattern> {
    return Object.fromEntries(this.drivers.map((d) => [d.id, this.current.get(d.id) ?? 'off']));
  }

  /** The local warning's pattern for every output. */
  async driveLocal(pattern: OutputPattern): Promise<OutputResult[]> {
    this.localPattern = pattern;
    clearTimeout(this.revertTimer);
    return this.run(this.drivers, pattern, 'local');
  }

  /** A raw `…/output` payload from the server. Never throws; bad input is counted and logged. */
  async handleCommand(payload: Buffer): Promise<OutputResult[]> {
    const parsed = parsePayload(outputCommandSchema, payload);
    if (!parsed.ok) {
      this.counters.commandsInvalid++;
      this.log.warn({ error: parsed.error.slice(0, 300) }, 'invalid output command ignored');
      return [];
    }
    const cmd = parsed.value;
    if (this.seen.includes(cmd.commandId)) {
      this.counters.commandsDuplicate++;
      return [];
    }
    this.seen.push(cmd.commandId);
    if (this.seen.length > SEEN_COMMANDS) this.seen.shift();
    const endMs = Date.parse(cmd.issuedAt) + cmd.durationS * 1000;
    if (cmd.pattern !== 'off' && endMs <= this.opts.now().getTime()) {
      this.counters.commandsExpired++;
      this.log.warn({ commandId: cmd.commandId, issuedAt: cmd.issuedAt }, 'output command expired before it arrived; ignored');
      return [];
    }
    const targets = cmd.outputId === undefined ? this.drivers : this.drivers.filter((d) => d.id === cmd.outputId);
    if (targets.length === 0) {
      this.counters.commandsInvalid++;
      this.log.warn({ outputId: cmd.outputId }, 'output command for an unknown output ignored');
      return [];
    }
    this.counters.commandsApplied++;
    this.log.info({ commandId: cmd.commandId, pattern: cmd.pattern, durationS: cmd.durationS, reason: cmd.reason.slice(0, 100) }, 'output command from the server');
    clearTimeout(this.revertTimer);
    if (cmd.pattern !== 'off' && cmd.durationS > 0) {
      // After the command's time, the outputs go back to what the local state asks for.
      this.revertTimer = setTimeout(() => void this.run(targets, this.localPattern, 'revert'), endMs - this.opts.now().getTime());
    }
    return this.run(targets, cmd.pattern, 'server');
  }

  /** New output definitions (remote config): old drivers are closed (left off), new ones built. */
  async replace(configs: readonly OutputConfig[]): Promise<void> {
    await this.close();
    this.drivers = configs.map((c) => this.build(c));
    if (this.localPattern !== 'off') await this.run(this.drivers, this.localPattern, 'local');
  }

  async close(): Promise<void> {
    clearTimeout(this.revertTimer);
    await Promise.all(this.drivers.map((d) => d.close()));
    this.current.clear();
  }

  private async run(targets: readonly OutputDriver[], pattern: OutputPattern, source: string): Promise<OutputResult[]> {
    const results = await Promise.all(targets.map((d) => d.run(pattern)));
    for (const r of results) {
      this.current.set(r.outputId, pattern);
      if (!r.ok) {
        this.counters.failures++;
        this.log.error({ outputId: r.outputId, pattern, source, error: r.error }, 'output not driven');
      }
    }
    return results;
  }

  private build(c: OutputConfig): OutputDriver {
    return c.kind === 'gpio' ? new GpioOutput(c, this.opts.gpio) : new CommandOutput(c);
  }
}
