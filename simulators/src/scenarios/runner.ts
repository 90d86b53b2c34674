/**
 * Plays a scenario in accelerated time: every `tickS` scenario seconds each sensor reports,
 * which takes `tickS / speed` real seconds. Progress is reported so a person sees the run move.
 */
import { SimulatedSensor } from '../sensors/simulated-sensor.ts';
import type { Scenario } from './schema.ts';

export interface RunProgress {
  /** Scenario seconds elapsed. */
  t: number;
  durationS: number;
  frames: number;
}

export interface ScenarioRunOptions {
  /** Scenario seconds per real second. */
  speed: number;
  /** Where each sensor's frames go, by sensor id. */
  sinkFor: (sensorId: string) => (frame: string) => void;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
}

export class ScenarioRunner {
  readonly sensors: SimulatedSensor[];

  constructor(
    readonly scenario: Scenario,
    private readonly options: ScenarioRunOptions,
  ) {
    this.sensors = scenario.sensors.map(
      (spec) => new SimulatedSensor(spec, options.sinkFor(spec.id), scenario.heartbeatEveryTicks, scenario.durationS),
    );
  }

  /** Channel values sent in reading frames so far, summed over sensors. */
  channelValuesSent(): number {
    return this.sensors.reduce((n, s) => n + s.counters.channelValues, 0);
  }

  framesSent(): number {
    return this.sensors.reduce((n, s) => n + s.counters.frames, 0);
  }

  /** Runs from boot to the end of the scenario (or until aborted). */
  async run(): Promise<void> {
    const { scenario, options } = this;
    const tickMs = (scenario.tickS * 1000) / options.speed;
    for (const s of this.sensors) s.boot();
    const start = performance.now();
    for (let i = 0, t = 0; t <= scenario.durationS; i++, t = i * scenario.tickS) {
      if (options.signal?.aborted) return;
      for (const s of this.sensors) s.tick(t);
      options.onProgress?.({ t, durationS: scenario.durationS, frames: this.framesSent() });
      // Pace against the start time, not the previous tick, so delays do not accumulate.
      const wait = start + (i + 1) * tickMs - performance.now();
      if (wait > 0) await sleep(wait, options.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
