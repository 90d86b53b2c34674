/** Counts failed sends per `NotifyError` code, for a channel's `health()` and metrics. */
import { NotifyError } from '../channel.ts';

export class ErrorCounter {
  readonly counts: Record<string, number> = {};

  /** Counts `err` by its code (`OTHER` for non-NotifyErrors) and returns it, for `throw counter.count(e)`. */
  count<E>(err: E): E {
    const code = err instanceof NotifyError ? err.code : 'OTHER';
    this.counts[code] = (this.counts[code] ?? 0) + 1;
    return err;
  }

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }
}
