/**
 * Counters the gateway keeps since start, and the public stats shape built from them.
 * Every refused frame, ignored channel, dropped reading and server rejection is counted here,
 * so nothing disappears without a number going up.
 */
import type { PortState } from './transport/serial-line-source.ts';

/** Snapshot returned by `RunningGateway.stats()`. Counts are since this process started. */
export interface GatewayStats {
  /** Readings committed to the disk queue. */
  readingsAccepted: number;
  /** Readings published and acknowledged by the broker (PUBACK), resends included. */
  published: number;
  /** Readings removed from the queue because the server's ack said stored (or duplicate). */
  acked: number;
  queueDepth: number;
  /** Seconds the oldest queued reading has waited; null when empty. */
  oldestQueuedAgeS: number | null;
  /**
   * Frames not turned into data, by reason: every FrameErrorCode of the line protocol, plus
   * `unknown_sensor` (id not configured on that port), `duplicate_seq` (repeated frame),
   * `unexpected_kind` (a gateway command received from the sensor side), `store_failed`.
   */
  rejectedFrames: Record<string, number>;
  /**
   * Bytes of noise dropped in front of a valid frame on the same line (the codec resynchronises
   * on the line's last `$`, SPEC §2). Lines of noise alone are counted in `rejectedFrames`.
   */
  noiseBytes: number;
  /** Channel values ignored inside accepted frames: `unmapped_channel`, `bad_counter`, `bad_value`. */
  ignoredChannels: Record<string, number>;
  /** Readings the server refused for good (ack `rejected`); removed from the queue. */
  rejectedByServer: number;
  /** Readings deleted unsent because the queue was full (see README, queue policy). */
  dropped: number;
  /** Missing sequence numbers per sensor id. */
  gaps: Record<string, number>;
  /** ERR frames received from sensors. */
  sensorErrors: number;
  /** HEL frames received (sensor boots). */
  sensorBoots: number;
  /** Acks that failed validation or did not cover their batch; ignored. */
  badAcks: number;
  /**
   * Acks for a batch of another queue (a batch id with another queue id, or without one): sent
   * for this gateway's previous database and kept by the broker's persistent session; ignored.
   */
  staleAcks: number;
  /** Queued readings that failed readingSchema before publishing (a gateway bug); deleted from the queue. */
  invalidReadings: number;
  /** Batches whose envelope failed readingsBatchSchema (a gateway bug); not published, readings kept. */
  invalidBatches: number;
  /** Times the broker refused the ack subscription (SUBACK 0x80); the connection is dropped and retried. */
  ackSubscribeRefused: number;
  /** Batches sent again (ack timeout or reconnect). */
  resentBatches: number;
  /** Readings the queue bound deleted, by class since start, and the total since the file was created. */
  droppedByClass: { health: number; hazard: number; total: number };
  /** Backlog still to replay (readings, an upper bound) and batches in flight per lane. */
  replay: { backlog: number; inFlightLive: number; inFlightReplay: number };
  /** MQTT connections lost and re-established since start. */
  reconnects: number;
  /** The gateway's own clock: offset to the server (s, null before an ack told), ok, clamped reading timestamps. */
  clock: { offsetS: number | null; ok: boolean; clampedReadings: number };
  connected: boolean;
  ports: Record<string, PortState>;
}

export interface SensorHealth {
  lastSeen: Date | null;
  batteryV: number | null;
  gaps: number;
}

export class GatewayCounters {
  readingsAccepted = 0;
  published = 0;
  acked = 0;
  rejectedByServer = 0;
  sensorErrors = 0;
  sensorBoots = 0;
  noiseBytes = 0;
  badAcks = 0;
  staleAcks = 0;
  invalidReadings = 0;
  invalidBatches = 0;
  ackSubscribeRefused = 0;
  resentBatches = 0;
  reconnects = 0;
  readonly rejectedFrames: Record<string, number> = {};
  readonly ignoredChannels: Record<string, number> = {};
  readonly sensors = new Map<string, SensorHealth>();

  constructor(sensorIds: readonly string[]) {
    for (const id of sensorIds) this.sensors.set(id, { lastSeen: null, batteryV: null, gaps: 0 });
  }

  reject(code: string): void {
    this.rejectedFrames[code] = (this.rejectedFrames[code] ?? 0) + 1;
  }

  ignore(code: string): void {
    this.ignoredChannels[code] = (this.ignoredChannels[code] ?? 0) + 1;
  }

  gapsBySensor(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, s] of this.sensors) out[id] = s.gaps;
    return out;
  }
}
