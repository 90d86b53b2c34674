/**
 * Reads the MQTT fixed header of every packet as bytes arrive, before aedes sees them, so an
 * oversized packet is refused from its header alone. aedes' parser (mqtt-packet) buffers any
 * declared length up to 256 MB: without this check an unauthenticated CONNECT declaring 200 MiB
 * makes the server hold the bytes as they come.
 *
 * MQTT 3.1.1 §2.2: a packet is one type byte, a "remaining length" of 1–4 bytes (7 bits each,
 * least significant first, high bit = more bytes follow, §2.2.3), then that many bytes. Bodies
 * are skipped, not copied: the cost is a few operations per packet.
 */

/** Why a connection was refused; stable strings for logs. */
export type FrameViolation =
  /** A packet declares more than the limit in force (`limit`). */
  | 'oversize'
  /** A fifth remaining-length byte (§2.2.3 allows at most four). */
  | 'malformed_length'
  /** The first packet is not CONNECT (§3.1: it must be). */
  | 'not_connect'
  /** More bytes than one CONNECT needs arrived before authentication finished. */
  | 'too_much_before_auth';

export type FrameVerdict =
  | { ok: true }
  | { ok: false; violation: FrameViolation; packetType: number; remainingLength: number; limit: number };

/** Byte limits on packets; both on the remaining length (bytes after the fixed header). */
export interface FrameLimits {
  /** Largest packet accepted once the client is authenticated. */
  maxRemainingLength: number;
  /** Largest packet accepted before (the CONNECT itself: id, user name, password, will). */
  preAuthMaxRemainingLength: number;
  /** All bytes accepted before authentication (CONNECT plus anything pipelined behind it). */
  preAuthMaxBytes: number;
}

const CONNECT = 1;
const MAX_LENGTH_BYTES = 4;

/** Incremental scanner for one connection; headers may be split across chunks at any byte. */
export class MqttFrameScanner {
  private phase: 'type' | 'length' | 'body' = 'type';
  private packetType = 0;
  private remainingLength = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;
  private packets = 0;
  private preAuthBytes = 0;
  private authed = false;
  private failed: FrameVerdict | null = null;

  constructor(private readonly limits: FrameLimits) {}

  /** The client passed authentication: larger packets are allowed from the next header on. */
  authenticated(): void {
    this.authed = true;
  }

  /** Scans one chunk; once a violation is found every later call returns it again. */
  feed(chunk: Uint8Array): FrameVerdict {
    if (this.failed) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        i += skip;
        this.bodyLeft -= skip;
        if (this.bodyLeft === 0) this.phase = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.phase === 'type') {
        this.packetType = byte >> 4;
        if (this.packets === 0 && this.packetType !== CONNECT) return this.fail('not_connect', 0);
        this.phase = 'length';
        this.remainingLength = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // phase 'length'
      this.remainingLength += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === MAX_LENGTH_BYTES) return this.fail('malformed_length', 0);
        continue;
      }
      const limit = this.authed ? this.limits.maxRemainingLength : this.limits.preAuthMaxRemainingLength;
      if (this.remainingLength > limit) return this.fail('oversize', limit);
      this.packets++;
      this.bodyLeft = this.remainingLength;
      this.phase = this.bodyLeft > 0 ? 'body' : 'type';
    }
    // Checked after the headers, so an oversized header in the same chunk is reported as such.
    if (!this.authed) {
      this.preAuthBytes += chunk.length;
      if (this.preAuthBytes > this.limits.preAuthMaxBytes) return this.fail('too_much_before_auth', this.limits.preAuthMaxBytes);
    }
    return { ok: true };
  }

  private fail(violation: FrameViolation, limit: number): FrameVerdict {
    this.failed = { ok: false, violation, packetType: this.packetType, remainingLength: this.remainingLength, limit };
    return this.failed;
  }
}
