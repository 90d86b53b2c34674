/**
 * One simulated sensor speaking the Kentongan line protocol: HEL at boot, RDG each tick,
 * HBT every few ticks, ACK to gateway commands. It only produces frames; where they go
 * (a pseudo-terminal, a mock port, a test buffer) is the caller's `write`.
 */
import { SEQ_MODULO, decodeLine, encodeMessage, type Channels } from '@kentongan/firmware-protocol';
import { interpolate, seededRandom } from '../scenarios/curves.ts';
import type { SensorSpec } from '../scenarios/schema.ts';

export interface SensorCounters {
  frames: number;
  readingFrames: number;
  /** Channel values sent in RDG frames: what the gateway should turn into readings. */
  channelValues: number;
}

export class SimulatedSensor {
  readonly counters: SensorCounters = { frames: 0, readingFrames: 0, channelValues: 0 };
  private seq = 0;
  private ticks = 0;
  private readonly rainMm = new Map<string, number>();
  private lastT = 0;
  private readonly random: () => number;

  constructor(
    readonly spec: SensorSpec,
    private readonly write: (frame: string) => void,
    private readonly heartbeatEveryTicks = 10,
    private readonly durationS = 86400,
  ) {
    this.random = seededRandom(spec.id);
  }

  /** Boot: announce ourselves. A real sensor restarts its sequence at 0 on boot. */
  boot(): void {
    this.seq = 0;
    this.send({ kind: 'HEL', sensorId: this.spec.id, seq: this.nextSeq(), protocol: 1, sensorType: this.spec.type, firmware: this.spec.firmware });
  }

  /** One reporting interval at scenario time `t` seconds. */
  tick(t: number): void {
    const dt = Math.max(0, t - this.lastT);
    this.lastT = t;
    const channels: Channels = {};
    for (const [name, ch] of Object.entries(this.spec.channels)) {
      if (ch.kind === 'curve') {
        const noise = ch.noise ? (this.random() * 2 - 1) * ch.noise : 0;
        channels[name] = Number((interpolate(ch.points, t) + noise).toFixed(ch.decimals));
      } else {
        // Integrate the rain rate (midpoint rule) into cumulative millimetres, report whole tips.
        const mm = (this.rainMm.get(name) ?? 0) + (interpolate(ch.rateMmPerH, t - dt / 2) * dt) / 3600;
        this.rainMm.set(name, mm);
        channels[name] = Math.floor(mm / ch.mmPerTip + 1e-9) % SEQ_MODULO;
      }
    }
    this.send({ kind: 'RDG', sensorId: this.spec.id, seq: this.nextSeq(), channels });
    this.counters.readingFrames++;
    this.counters.channelValues += Object.keys(channels).length;
    if (++this.ticks % this.heartbeatEveryTicks === 0) {
      const { startV, endV } = this.spec.battery;
      const battV = startV + ((endV - startV) * Math.min(t, this.durationS)) / this.durationS;
      this.send({ kind: 'HBT', sensorId: this.spec.id, seq: this.nextSeq(), channels: { batt_v: Number(battV.toFixed(2)), uptime_s: Math.round(t) } });
    }
  }

  /** Handles a line from the gateway: answers commands addressed to this sensor. */
  onLine(line: string): void {
    const decoded = decodeLine(line);
    if (!decoded.ok || decoded.message.kind !== 'CMD' || decoded.message.sensorId !== this.spec.id) return;
    this.send({ kind: 'ACK', sensorId: this.spec.id, seq: this.nextSeq(), commandSeq: decoded.message.seq, status: 'OK', detail: '' });
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % SEQ_MODULO;
    return s;
  }

  private send(message: Parameters<typeof encodeMessage>[0]): void {
    this.counters.frames++;
    this.write(encodeMessage(message));
  }
}
