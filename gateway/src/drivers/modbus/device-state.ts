/**
 * Per-device error counters and the dead/alive state. A device that failed
 * `deadAfterFailures` requests in a row is dead: it is then tried once per back-off period
 * (min, 2×min, … capped), without retries, so a silent unit costs the bus one timeout per
 * period instead of stalling every poll of the live devices behind it.
 */
import { backoffDelayMs } from '../../transport/backoff.ts';
import type { ModbusFailureCode } from './rtu-master.ts';

/** Counters of one device since start (stats().modbus). */
export interface ModbusDeviceStats {
  sensorId: string;
  unitId: number;
  state: 'alive' | 'dead';
  requests: number;
  ok: number;
  timeouts: number;
  crcErrors: number;
  exceptions: number;
  retries: number;
  /** Polls skipped because the device was dead and its back-off had not passed. */
  skippedPolls: number;
  /** Values refused after decoding (NaN/Infinity float, bad tip counter). */
  badValues: number;
  lastOk: string | null;
  /** Latest device-health values without a quantity (solar voltage, tamper). */
  health: Record<string, number>;
}

export class DeviceState {
  readonly stats: ModbusDeviceStats;
  private failuresInRow = 0;
  private deadAttempt = 0;
  private retryAtMs = 0;

  constructor(
    sensorId: string,
    unitId: number,
    private readonly policy: { deadAfterFailures: number; deadBackoff: { minMs: number; maxMs: number } },
  ) {
    this.stats = { sensorId, unitId, state: 'alive', requests: 0, ok: 0, timeouts: 0, crcErrors: 0, exceptions: 0, retries: 0, skippedPolls: 0, badValues: 0, lastOk: null, health: {} };
  }

  get dead(): boolean {
    return this.stats.state === 'dead';
  }

  /** False while a dead device's back-off has not passed (the poll is skipped and counted). */
  mayPoll(nowMs: number): boolean {
    if (!this.dead || nowMs >= this.retryAtMs) return true;
    this.stats.skippedPolls++;
    return false;
  }

  /** Records a success; returns true when a dead device came back. */
  succeeded(now: Date): boolean {
    this.stats.requests++;
    this.stats.ok++;
    this.stats.lastOk = now.toISOString();
    this.failuresInRow = 0;
    const revived = this.dead;
    this.stats.state = 'alive';
    this.deadAttempt = 0;
    return revived;
  }

  /** Records a failure; returns true when this failure made the device dead. */
  failed(code: ModbusFailureCode, nowMs: number): boolean {
    this.stats.requests++;
    if (code === 'timeout' || code === 'closed') this.stats.timeouts++;
    else if (code === 'crc') this.stats.crcErrors++;
    else this.stats.exceptions++;
    // An exception is an answer: the device is alive, it only refuses this read.
    if (code === 'exception') {
      this.failuresInRow = 0;
      return false;
    }
    if (code === 'closed') return false; // a port problem is not the device's fault
    this.failuresInRow++;
    if (this.dead) {
      this.deadAttempt++;
      this.retryAtMs = nowMs + backoffDelayMs(this.deadAttempt, this.policy.deadBackoff.minMs, this.policy.deadBackoff.maxMs);
      return false;
    }
    if (this.failuresInRow < this.policy.deadAfterFailures) return false;
    this.stats.state = 'dead';
    this.deadAttempt = 0;
    this.retryAtMs = nowMs + this.policy.deadBackoff.minMs;
    return true;
  }
}
