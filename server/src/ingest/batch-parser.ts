/**
 * Turns a readings payload into valid readings and per-index rejections, without throwing.
 * The envelope is checked first; each reading is then validated on its own, so one bad reading
 * does not cost the good ones around it (SPEC §5).
 */
import {
  MAX_BATCH_READINGS,
  MAX_PAYLOAD_BYTES,
  PROTOCOL_VERSION,
  formatZodError,
  readingSchema,
  readingsBatchSchema,
  type Reading,
  type ReadingsBatchEnvelope,
} from '@kentongan/firmware-protocol';
import type { IngestRejectReason } from './counters.ts';

/** Longest reason string an ack may carry (ackSchema). */
export const MAX_REASON_LENGTH = 200;

export interface Rejection {
  index: number;
  reason: string;
}

export type ParsedBatch =
  | { ok: true; envelope: ReadingsBatchEnvelope; valid: Reading[]; rejected: Rejection[] }
  | {
      ok: false;
      reason: IngestRejectReason;
      error: string;
      /**
       * Present when the batch can still be answered: its id was readable. The ack then rejects
       * every reading, so the gateway drops garbage instead of resending it forever.
       */
      refuse?: { batchId: string; rejected: Rejection[] };
    };

/**
 * @param payload raw MQTT payload.
 * @param topicGatewayId the gateway id of the topic (= the authenticated client).
 */
/**
 * Parses and validates one readings message. `checkReading` may refuse a schema-valid reading
 * for a reason of the deployment (e.g. a sensor bound to another gateway); it returns the
 * reason, or null to accept.
 */
export function parseBatch(
  payload: Buffer,
  topicGatewayId: string,
  checkReading: (reading: Reading) => string | null = () => null,
): ParsedBatch {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: 'too_large', error: `payload too large: ${payload.length} > ${MAX_PAYLOAD_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'invalid_json', error: `invalid JSON: ${(err as Error).message}` };
  }
  const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  // A different protocol version is not garbage: a newer gateway's data must not be dropped for
  // good. It stays unacknowledged (and so queued on the gateway) until the server is upgraded.
  if (obj && typeof obj.v === 'number' && obj.v !== PROTOCOL_VERSION) {
    return { ok: false, reason: 'unsupported_version', error: `unsupported protocol version ${obj.v}` };
  }
  const envelope = readingsBatchSchema.safeParse(json);
  if (!envelope.success) {
    const error = formatZodError(envelope.error);
    return { ok: false, reason: 'invalid_envelope', error, ...refusal(obj, `batch rejected: ${error}`) };
  }
  if (envelope.data.gatewayId !== topicGatewayId) {
    const error = `gatewayId "${envelope.data.gatewayId}" does not match the topic's gateway "${topicGatewayId}"`;
    return { ok: false, reason: 'gateway_mismatch', error, ...refusal(obj, `batch rejected: ${error}`) };
  }
  const valid: Reading[] = [];
  const rejected: Rejection[] = [];
  envelope.data.readings.forEach((raw, index) => {
    const r = readingSchema.safeParse(raw);
    if (!r.success) {
      rejected.push({ index, reason: truncate(formatZodError(r.error).replaceAll('\n', '; ')) });
      return;
    }
    const refused = checkReading(r.data);
    if (refused === null) valid.push(r.data);
    else rejected.push({ index, reason: truncate(refused) });
  });
  return { ok: true, envelope: envelope.data, valid, rejected };
}

function refusal(obj: Record<string, unknown> | null, reason: string): { refuse?: { batchId: string; rejected: Rejection[] } } {
  const batchId = obj?.batchId;
  if (typeof batchId !== 'string' || batchId.length < 1 || batchId.length > 64) return {};
  const count = Array.isArray(obj?.readings) ? Math.min(obj.readings.length, MAX_BATCH_READINGS) : 0;
  const why = truncate(reason.replaceAll('\n', '; '));
  return { refuse: { batchId, rejected: Array.from({ length: count }, (_, index) => ({ index, reason: why })) } };
}

function truncate(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
