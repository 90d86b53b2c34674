/**
 * Builds the periodic health payload (healthSchema): queue depth and age, refused frames by
 * reason, and per sensor when it was last heard, its battery and its sequence gaps.
 */
import { PROTOCOL_VERSION, healthSchema, type GatewayHealth } from '@kentongan/firmware-protocol';
import type { DiskQueue } from '../queue/disk-queue.ts';
import type { GatewayCounters } from '../stats.ts';

export function buildHealth(input: {
  gatewayId: string;
  now: Date;
  startedAt: Date;
  queue: DiskQueue;
  counters: GatewayCounters;
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
  };
  // Our own output must meet the contract; a failure here is a bug, reported by the caller.
  return healthSchema.parse(health);
}
