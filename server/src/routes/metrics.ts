/**
 * `GET /metrics`: counters in the Prometheus text exposition format (version 0.0.4, written by
 * hand: prom-client is not a dependency), or as JSON with `?format=json`.
 */
import { levelRank } from '@kentongan/firmware-protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps, RouteOptions } from './deps.ts';
import { metricsQuery } from './schemas.ts';

interface Sample {
  labels?: Record<string, string>;
  value: number;
}
interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

export const metricsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/metrics',
    { schema: { summary: 'Metrik (teks Prometheus atau JSON) / metrics (Prometheus text or JSON)', tags: ['system'], querystring: metricsQuery } },
    async (request, reply) => {
      const metrics = collect(deps);
      if (request.query.format === 'json') {
        return reply.send(
          Object.fromEntries(
            metrics.map((m) => [m.name, m.samples.length === 1 && !m.samples[0]!.labels ? m.samples[0]!.value : m.samples]),
          ),
        );
      }
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(toPrometheus(metrics));
    },
  );
};

export function collect(deps: AppDeps): Metric[] {
  const ing = deps.ingest.counters;
  const brk = deps.broker.counters;
  const eng = deps.engine.stats();
  const one = (name: string, type: Metric['type'], help: string, value: number): Metric => ({
    name,
    help,
    type,
    samples: [{ value }],
  });
  let storeReadings = Number.NaN;
  try {
    storeReadings = deps.store.count();
  } catch {
    // reported as NaN; /health says degraded
  }
  return [
    one('kentongan_uptime_seconds', 'gauge', 'Seconds since the server started', (deps.now().getTime() - deps.startedAt.getTime()) / 1000),
    one('kentongan_batches_received_total', 'counter', 'Messages received on readings topics', ing.batchesReceived),
    one('kentongan_batches_acked_total', 'counter', 'Acks published to gateways', ing.batchesAcked),
    one('kentongan_readings_stored_total', 'counter', 'Readings newly stored', ing.readingsStored),
    one('kentongan_readings_duplicate_total', 'counter', 'Redelivered readings already stored', ing.duplicates),
    one('kentongan_readings_conflict_total', 'counter', 'Duplicate keys carrying different data', ing.conflicts),
    one('kentongan_readings_rejected_total', 'counter', 'Readings refused as invalid', ing.readingsRejected),
    one('kentongan_readings_unregistered_sensor_total', 'counter', 'Stored readings of sensors not in config', ing.readingsUnregisteredSensor),
    one('kentongan_readings_wrong_gateway_total', 'counter', 'Readings refused: sensor bound to another gateway', ing.readingsWrongGateway),
    one('kentongan_readings_future_not_evaluated_total', 'counter', 'Readings stored but kept from detection: stamped too far in the future', ing.readingsFutureNotEvaluated),
    one('kentongan_ingest_flushes_total', 'counter', 'Group commits of queued batches', ing.flushes),
    one('kentongan_ingest_flush_failures_total', 'counter', 'Group commits that failed (nothing in them acked)', ing.flushFailures),
    {
      name: 'kentongan_ingest_rejected_total',
      help: 'Whole MQTT messages refused, by reason',
      type: 'counter',
      samples: Object.entries(ing.rejected).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    one('kentongan_gateway_status_messages_total', 'counter', 'Valid gateway status messages', ing.statusMessages),
    one('kentongan_gateway_health_messages_total', 'counter', 'Valid gateway health messages', ing.healthMessages),
    one('kentongan_ack_publish_errors_total', 'counter', 'Acks that could not be published', ing.ackPublishErrors),
    one('kentongan_alert_engine_errors_total', 'counter', 'Exceptions from the alert engine during ingest', ing.engineErrors),
    one('kentongan_mqtt_auth_failures_total', 'counter', 'Refused MQTT connections', brk.authFailures),
    one('kentongan_mqtt_auth_throttled_total', 'counter', 'MQTT connections refused unchecked after repeated failed logins', brk.authThrottled),
    one('kentongan_mqtt_oversize_packets_total', 'counter', 'MQTT connections dropped for a packet over the size limit', brk.oversizePackets),
    one('kentongan_mqtt_bad_frames_total', 'counter', 'MQTT connections dropped for another framing violation', brk.badFrames),
    one('kentongan_mqtt_publish_denied_total', 'counter', 'Refused MQTT publishes', brk.publishDenied),
    one('kentongan_mqtt_subscribe_denied_total', 'counter', 'Refused MQTT subscriptions', brk.subscribeDenied),
    one('kentongan_mqtt_connections_total', 'counter', 'TCP connections accepted by the broker', brk.connections),
    one('kentongan_mqtt_clients', 'gauge', 'Authenticated MQTT clients connected now', deps.broker.connectedClients()),
    one('kentongan_store_readings', 'gauge', 'Readings held by the store', storeReadings),
    {
      name: 'kentongan_sensor_sequence_gaps',
      help: 'Missing sequence numbers per sensor, server view, all epochs',
      type: 'gauge',
      samples: gapsBySensor(deps),
    },
    one('kentongan_alerts_raised_total', 'counter', 'Alerts opened', eng.alertsRaised),
    one('kentongan_alert_max_level', 'gauge', 'Highest level reached (0 Normal .. 3 Awas)', levelRank(eng.maxLevel)),
    {
      name: 'kentongan_area_level',
      help: 'Current level per area (0 Normal .. 3 Awas)',
      type: 'gauge',
      samples: Object.entries(deps.engine.areaLevels()).map(([area, level]) => ({ labels: { area }, value: levelRank(level) })),
    },
    one('kentongan_notifications_sent_total', 'counter', 'Notifications delivered', eng.notificationsSent),
    one('kentongan_notifications_failed_total', 'counter', 'Notifications given up on', eng.notificationsFailed),
    one('kentongan_notifications_pending', 'gauge', 'Notifications waiting in the outbox', eng.notificationsPending),
  ];
}

function gapsBySensor(deps: AppDeps): Sample[] {
  const gaps = new Map<string, number>();
  try {
    for (const s of deps.store.sequenceStats()) gaps.set(s.sensorId, (gaps.get(s.sensorId) ?? 0) + s.gaps);
  } catch {
    return [];
  }
  return [...gaps].map(([sensor, value]) => ({ labels: { sensor }, value }));
}

export function toPrometheus(metrics: readonly Metric[]): string {
  const lines: string[] = [];
  for (const m of metrics) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) lines.push(`${m.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
