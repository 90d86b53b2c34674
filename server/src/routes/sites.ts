/**
 * `GET /sites`: every configured site with its sensors, the latest value per quantity and the
 * server's view of sequence gaps. Sites, sensors and areas come from config (kept in memory);
 * values from the reading store.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SequenceStats, StoredReading } from '../storage/reading-store.ts';
import type { RouteOptions } from './deps.ts';
import { sitesResponse } from './schemas.ts';
import { toWib } from './time.ts';

export const sitesRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/sites',
    { schema: { summary: 'Lokasi, sensor dan nilai terakhir / sites, sensors and latest values', tags: ['sites'], response: { 200: sitesResponse } } },
    async () => {
      const { config, store } = deps;
      const latestBySensor = groupBy(store.latest(), (r) => r.sensorId);
      const seqBySensor = groupBy(store.sequenceStats(), (s) => s.sensorId);
      const areaName = new Map(config.areas.map((a) => [a.id, a.name]));
      const configured = new Set(config.sensors.map((s) => s.id));
      return {
        sites: config.sites.map((site) => ({
          id: site.id,
          name: site.name,
          areaId: site.areaId,
          areaName: areaName.get(site.areaId) ?? null,
          lat: site.lat,
          lon: site.lon,
          sensors: config.sensors
            .filter((s) => s.siteId === site.id)
            .map((s) => ({
              id: s.id,
              type: s.type,
              latest: (latestBySensor.get(s.id) ?? []).map(latestValue),
              sequence: summarize(seqBySensor.get(s.id) ?? []),
            })),
        })),
        unregisteredSensors: [...latestBySensor.keys()].filter((id) => !configured.has(id)).sort(),
      };
    },
  );
};

function latestValue(r: StoredReading) {
  return {
    quantity: r.quantity,
    value: r.value,
    unit: r.unit,
    ts: r.ts,
    tsLocal: toWib(r.ts),
    quality: r.quality,
    receivedAt: r.receivedAt,
    gatewayId: r.gatewayId,
  };
}

function summarize(stats: readonly SequenceStats[]) {
  return {
    // sequenceStats() lists the newest epoch first.
    currentEpoch: stats[0]?.epoch ?? null,
    received: stats.reduce((n, s) => n + s.received, 0),
    gaps: stats.reduce((n, s) => n + s.gaps, 0),
  };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
