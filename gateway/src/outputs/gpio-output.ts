/**
 * A relay on a GPIO line through the kernel's sysfs interface (`/sys/class/gpio`): export the
 * line, set it as an output starting inactive (`direction` = `low`/`high`, which sets the level
 * in the same write, so the relay never glitches on), then write `value` 1/0 as the pattern runs.
 * sysfs GPIO is deprecated upstream but still built into Raspberry Pi OS kernels; where it is
 * missing, use a `command` output with `gpioset` (README "Outputs").
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputPattern } from '@kentongan/firmware-protocol';
import { OutputError } from './errors.ts';
import { PATTERN_CYCLES, type PatternCycle } from './patterns.ts';
import type { GpioOutputConfig } from './schema.ts';
import type { OutputDriver, OutputResult } from './types.ts';

export interface GpioOutputOptions {
  /** Pattern timings; tests pass short ones. */
  cycles?: Readonly<Record<OutputPattern, PatternCycle | null>>;
}

export class GpioOutput implements OutputDriver {
  readonly id: string;
  private timer: NodeJS.Timeout | undefined;
  private prepared = false;
  private readonly cycles;
  private readonly dir: string;

  constructor(
    private readonly cfg: GpioOutputConfig,
    opts: GpioOutputOptions = {},
  ) {
    this.id = cfg.id;
    this.cycles = opts.cycles ?? PATTERN_CYCLES;
    this.dir = join(cfg.sysfsRoot, `gpio${cfg.line}`);
  }

  async run(pattern: OutputPattern): Promise<OutputResult> {
    clearTimeout(this.timer);
    this.timer = undefined;
    try {
      this.prepare();
      const cycle = this.cycles[pattern];
      if (!cycle) {
        this.write(false);
      } else {
        this.cycle(cycle);
      }
      return { outputId: this.id, ok: true };
    } catch (err) {
      return { outputId: this.id, ok: false, error: (err as Error).message.slice(0, 200) };
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Leave the relay off when the gateway stops; a failure here has nowhere to go but the log.
    try {
      if (this.prepared) this.write(false);
    } catch {
      /* the line stays as it was */
    }
  }

  private cycle(c: PatternCycle): void {
    this.write(true);
    if (c.offMs === 0 && !c.once) return; // steady on
    this.timer = setTimeout(() => {
      try {
        this.write(false);
      } catch {
        return;
      }
      if (c.once) return;
      this.timer = setTimeout(() => {
        try {
          this.cycle(c);
        } catch {
          /* next run() reports it */
        }
      }, c.offMs);
    }, c.onMs);
  }

  private prepare(): void {
    if (this.prepared) return;
    try {
      if (!existsSync(this.dir)) writeFileSync(join(this.cfg.sysfsRoot, 'export'), String(this.cfg.line));
      // `low`/`high` set direction and initial level in one write; inactive first.
      writeFileSync(join(this.dir, 'direction'), this.cfg.activeLow ? 'high' : 'low');
    } catch (err) {
      throw new OutputError('gpio_failed', `gpio${this.cfg.line}: ${(err as Error).message}`, { cause: err });
    }
    this.prepared = true;
  }

  private write(active: boolean): void {
    const level = active !== this.cfg.activeLow ? '1' : '0';
    try {
      writeFileSync(join(this.dir, 'value'), level);
    } catch (err) {
      throw new OutputError('gpio_failed', `gpio${this.cfg.line}: ${(err as Error).message}`, { cause: err });
    }
  }
}
