/**
 * Builds the periodic health payload (healthSchema): queue depth and age, refused frames by
 * reason, per sensor when it was last heard, its battery and its sequence gaps; and the optional
 * fields (SPEC §5.3.5): readings dropped by the queue bound, replay backlog, reconnects, the
 * gateway's view of its own clock and the link quality when known.
 */
import { PROTOCOL_VERSION, healthSchema, type GatewayHealth } from '@kentongan/firmware-protocol';
import type { DiskQueue } from '../queue/disk-queue.ts';
import type { GatewayCounters } from '../stats.ts';
import type { ClockView } from './clock-check.ts';
import type { LinkQuality } from './link-quality.ts';

export function buildHealth(input: {
  gatewayId: string;
  now: Date;
  startedAt: Date;
  queue: DiskQueue;
  counters: GatewayCounters;
  replayBacklog?: number;
  clock?: ClockView & { clampedReadings: number };
  link?: LinkQuality;
}): GatewayHealth {
  const { counters } = input;
  const health: GatewayHealth = {
    v: PROTOCOL_VERSION,
    gatewayId: input.gatewayId,
    ts: input.now.toISOString(),
    uptimeS: Math.max(0, (input.now.getTime() - input.startedAt.getTime()) / 1000),
    queueDepth: input.queue.depth(),
    oldestQueuedAgeS: input.queue.oldestAgeS(),
    rejectedFrames: { ...counters.rejectedFrames },
    sensors: [...counters.sensors].map(([sensorId, s]) => ({
      sensorId,
      lastSeen: s.lastSeen ? s.lastSeen.toISOString() : null,
      batteryV: s.batteryV,
      gaps: s.gaps,
    })),
    droppedReadings: input.queue.droppedCounts().total,
    reconnects: counters.reconnects,
  };
  if (input.replayBacklog !== undefined) health.replayBacklog = input.replayBacklog;
  if (input.clock) health.clock = input.clock;
  if (input.link) health.link = input.link;
  // Our own output must meet the contract; a failure here is a bug, reported by the caller.
  return healthSchema.parse(health);
}
