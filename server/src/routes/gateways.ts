/**
 * `GET /gateways`: configured gateways (and any other the server heard from) with their
 * connection state, last birth/will status and last health report. `state` is the broker's
 * view (connected now); `lastStatus` is what the gateway itself last said.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { GatewayStateRecord } from '../storage/gateway-state-store.ts';
import type { RouteOptions } from './deps.ts';
import { gatewaysResponse } from './schemas.ts';
import { toWib } from './time.ts';

export const gatewayRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/gateways',
    { schema: { summary: 'Gateway dan kesehatannya / gateways and their health', tags: ['gateways'], response: { 200: gatewaysResponse } } },
    async () => {
      const states = deps.gatewayState.list();
      const activity = deps.ingest.gatewayActivity();
      const connected = deps.broker.connectedGateways();
      const configured = new Set(deps.config.gateways.map((g) => g.id));
      const ids = [...new Set([...configured, ...states.keys()])];
      return {
        gateways: ids.map((id) => {
          const st = states.get(id);
          const act = activity.get(id);
          return {
            id,
            configured: configured.has(id),
            state: connected.has(id) ? ('online' as const) : ('offline' as const),
            lastStatus: st?.status
              ? {
                  state: st.status.state,
                  ts: st.status.ts,
                  software: st.status.software ?? null,
                  receivedAt: st.statusReceivedAt ?? st.status.ts,
                }
              : null,
            lastHealth: health(st),
            lastMessageAt: act?.lastMessageAt ?? null,
            lastBatchAt: act?.lastBatchAt ?? null,
          };
        }),
      };
    },
  );
};

function health(st: GatewayStateRecord | undefined) {
  if (!st?.health) return null;
  const h = st.health;
  return {
    ts: h.ts,
    tsLocal: toWib(h.ts),
    receivedAt: st.healthReceivedAt ?? h.ts,
    uptimeS: h.uptimeS,
    queueDepth: h.queueDepth,
    oldestQueuedAgeS: h.oldestQueuedAgeS,
    rejectedFrames: h.rejectedFrames,
    sensors: h.sensors,
  };
}
