/** Timers that only fire when the test says so (the dispatcher's back-off without waiting). */
import type { Timers } from '../../src/notify/dispatcher.ts';

export function manualTimers() {
  let next = 0;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      pending.set(++next, { fn, ms });
      return next;
    },
    clearTimeout(h) {
      pending.delete(h as number);
    },
  };
  return {
    timers,
    /** Delays of the timers still armed. */
    delays: () => [...pending.values()].map((p) => p.ms),
    fireAll() {
      const all = [...pending.values()];
      pending.clear();
      for (const p of all) p.fn();
    },
  };
}
