/**
 * An output driven by a program: run once per pattern change, without a shell, with `{pattern}`
 * in its arguments replaced by the pattern name (`off`, `waspada`, `siaga`, `awas`, `test`). The
 * program makes the sound or light itself. A run that fails, exits non-zero or exceeds
 * `timeoutMs` is reported as failed; output of the program is not logged (it may hold anything).
 */
import { execFile } from 'node:child_process';
import type { OutputPattern } from '@kentongan/firmware-protocol';
import type { CommandOutputConfig } from './schema.ts';
import type { OutputDriver, OutputResult } from './types.ts';

export class CommandOutput implements OutputDriver {
  readonly id: string;
  /** Runs are serialised, so an `off` can never overtake the `awas` before it. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly cfg: CommandOutputConfig) {
    this.id = cfg.id;
  }

  run(pattern: OutputPattern): Promise<OutputResult> {
    const next = this.chain.then(() => this.exec(pattern));
    this.chain = next;
    return next;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  private exec(pattern: OutputPattern): Promise<OutputResult> {
    const [file, ...args] = this.cfg.argv.map((a) => a.replaceAll('{pattern}', pattern));
    return new Promise((resolve) => {
      execFile(file!, args, { timeout: this.cfg.timeoutMs, windowsHide: true, maxBuffer: 64 * 1024 }, (err) => {
        if (!err) return resolve({ outputId: this.id, ok: true });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        const why = e.killed ? `timed out after ${this.cfg.timeoutMs} ms` : typeof e.code === 'number' ? `exit code ${e.code}` : e.message;
        resolve({ outputId: this.id, ok: false, error: `command failed: ${why}`.slice(0, 200) });
      });
    });
  }
}
