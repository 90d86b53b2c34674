/** The shape every local output driver has. */
import type { OutputPattern } from '@kentongan/firmware-protocol';

/** What driving one output gave; `error` is short text for the log and the alarm record. */
export interface OutputResult {
  outputId: string;
  ok: boolean;
  error?: string;
}

export interface OutputDriver {
  readonly id: string;
  /** Starts the pattern (replacing the one running); never throws, failures come back in the result. */
  run(pattern: OutputPattern): Promise<OutputResult>;
  /** Stops timers and leaves the output off. */
  close(): Promise<void>;
}
