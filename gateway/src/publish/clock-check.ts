/**
 * The gateway's judgement of its own clock. Two signals:
 * - the server's time in each ack (`serverTime`, optional in the contract): offset = server time
 *   minus the gateway clock at the ack's arrival, corrected by half the round trip when the batch
 *   was sent once (a resent batch's round trip is unknown, so its ack is not used);
 * - a floor (`clock.notBefore`): a clock before it is wrong whatever the server says (a Pi
 *   without battery-backed clock starting after a power cut at its last saved time or at 1970).
 * A wrong clock is said in the health message (`clock.ok: false`) and logged as a warning when it
 * becomes wrong and as info when it is right again; the status is not a reason to stop: readings are
 * still keyed by sequence, and their timestamps stay monotonic (queue/sensor-clock.ts).
 */
import type { Logger } from 'pino';

export interface ClockView {
  /** Server clock minus gateway clock in seconds, from the latest usable ack; null before one. */
  offsetS: number | null;
  ok: boolean;
}

export class ClockCheck {
  private offsetMs: number | null = null;
  private wrong = false;

  constructor(
    private readonly opts: { maxOffsetS: number; notBefore: string; now: () => Date; logger: Logger },
  ) {}

  /** Takes the server's time from an ack; `rttMs` null when the round trip is unknown (resent batch). */
  onServerTime(serverTime: string, rttMs: number | null): void {
    const server = Date.parse(serverTime);
    if (!Number.isFinite(server) || rttMs === null || rttMs < 0) return;
    // The server stamped the ack somewhere in the round trip; the middle is the best guess (error ≤ rtt/2).
    this.offsetMs = server + rttMs / 2 - this.opts.now().getTime();
    this.evaluate();
  }

  view(): ClockView {
    this.evaluate();
    return { offsetS: this.offsetMs === null ? null : Math.round(this.offsetMs) / 1000, ok: !this.wrong };
  }

  private evaluate(): void {
    const now = this.opts.now().getTime();
    const beforeFloor = !(now >= Date.parse(this.opts.notBefore));
    const offTooFar = this.offsetMs !== null && Math.abs(this.offsetMs) > this.opts.maxOffsetS * 1000;
    const wrong = beforeFloor || offTooFar;
    if (wrong === this.wrong) return;
    this.wrong = wrong;
    const fields = { offsetS: this.offsetMs === null ? null : this.offsetMs / 1000, gatewayTime: Number.isFinite(now) ? new Date(now).toISOString() : 'invalid', maxOffsetS: this.opts.maxOffsetS };
    if (wrong) {
      this.opts.logger.warn({ ...fields, beforeFloor, notBefore: this.opts.notBefore }, 'gateway clock is wrong / jam gateway salah: check NTP or the RTC');
    } else {
      this.opts.logger.info(fields, 'gateway clock agrees with the server again');
    }
  }
}
