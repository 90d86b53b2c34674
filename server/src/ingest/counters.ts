/** Ingest counters: plain numbers, exposed by `/api/v1/metrics` and `RunningServer.stats()`. */

/** Why a whole MQTT message was refused (`kentongan_ingest_rejected_total{reason}`). */
export const INGEST_REJECT_REASONS = [
  'too_large',
  'invalid_json',
  'invalid_envelope',
  'unsupported_version',
  'gateway_mismatch',
  'invalid_status',
  'invalid_health',
  'wrong_topic',
  'store_failed',
] as const;
export type IngestRejectReason = (typeof INGEST_REJECT_REASONS)[number];

export interface IngestCounters {
  /** Messages on a readings topic, valid or not. */
  batchesReceived: number;
  /** Acks the broker accepted for delivery. */
  batchesAcked: number;
  /** Readings newly committed. */
  readingsStored: number;
  /** Readings the store already had (redeliveries). */
  duplicates: number;
  /** Duplicates whose data differed from what was stored (a reused sequence number). */
  conflicts: number;
  /** Single readings refused (in an otherwise valid batch, or all of a refused batch). */
  readingsRejected: number;
  /** Stored readings from sensors the config does not list. */
  readingsUnregisteredSensor: number;
  /** Readings refused because their sensor is bound to another gateway. */
  readingsWrongGateway: number;
  /** Readings stored but kept from detection: stamped too far in the future. */
  readingsFutureNotEvaluated: number;
  statusMessages: number;
  healthMessages: number;
  /** Whole messages refused, by reason. */
  rejected: Record<IngestRejectReason, number>;
  ackPublishErrors: number;
  /** Exceptions thrown by the alert engine while evaluating stored readings. */
  engineErrors: number;
  /** Group commits run (each writes one or more batches in one transaction). */
  flushes: number;
  /** Group transactions that failed; their batches were then retried one by one. */
  flushFailures: number;
}

export function createIngestCounters(): IngestCounters {
  return {
    batchesReceived: 0,
    batchesAcked: 0,
    readingsStored: 0,
    duplicates: 0,
    conflicts: 0,
    readingsRejected: 0,
    readingsUnregisteredSensor: 0,
    readingsWrongGateway: 0,
    readingsFutureNotEvaluated: 0,
    statusMessages: 0,
    healthMessages: 0,
    rejected: Object.fromEntries(INGEST_REJECT_REASONS.map((r) => [r, 0])) as Record<IngestRejectReason, number>,
    ackPublishErrors: 0,
    engineErrors: 0,
    flushes: 0,
    flushFailures: 0,
  };
}
