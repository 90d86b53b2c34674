/**
 * CAP 1.2 and Atom output for integrators (BMKG, BNPB, alert hubs):
 *
 *   GET /api/v1/cap/alerts/:alertId.xml        latest CAP message of an alert
 *   GET /api/v1/cap/messages/:identifier.xml   one CAP message (the feed links these)
 *   GET /feeds/alerts.atom                     Atom feed of current alerts (registered without prefix)
 *
 * Content types: `application/cap+xml`, `application/atom+xml`. Links are absolute: from
 * `cap.publicBaseUrl`, else from the request's host.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/schema.ts';
import { ATOM_PATH, atomFeed, capMessageUrl, feedEntries } from '../cap/atom.ts';
import type { CapLog, CapRecord } from '../cap/cap-log.ts';
import { capXml, type CapGeometry } from '../cap/cap-xml.ts';
import type { RouteOptions } from './deps.ts';
import { HttpError } from './error-handler.ts';
import type { NotifyDeps } from './notify-deps.ts';

type CapRouteOptions = RouteOptions & { notify: NotifyDeps };

/** The site's polygon, else its area's, else a circle around the site. */
export function geometryOf(config: ServerConfig, siteId: string, areaId: string): CapGeometry {
  const site = config.sites.find((s) => s.id === siteId);
  const area = config.areas.find((a) => a.id === areaId);
  if (site?.polygon) return { polygon: site.polygon };
  if (area?.polygon) return { polygon: area.polygon };
  if (site) return { circle: { lat: site.lat, lon: site.lon, radiusKm: site.radiusKm ?? config.cap.defaultRadiusKm } };
  return {};
}

function baseUrl(config: ServerConfig, request: FastifyRequest): string {
  if (config.cap.publicBaseUrl) return config.cap.publicBaseUrl.replace(/\/+$/, '');
  // The Host header is client-controlled: keep only host-name characters before using it.
  const host = /^[A-Za-z0-9.[\]:-]{1,255}$/.test(request.host) ? request.host : 'localhost';
  return `${request.protocol}://${host}`;
}

export function renderCap(config: ServerConfig, cap: CapLog, rec: CapRecord, web?: string): string {
  const earlier = cap.forAlert(rec.alertId).filter((r) => r.seq < rec.seq);
  return capXml(rec, earlier, geometryOf(config, rec.alert.siteId, rec.alert.areaId), {
    senderId: config.cap.senderId,
    contact: config.cap.contact,
    web,
  });
}

/** Strips `.xml`; the id part allows what identifiers and alert ids contain. */
function xmlName(file: string): string | null {
  const m = /^([A-Za-z0-9_.:-]{1,200})\.xml$/.exec(file);
  return m ? m[1]! : null;
}

export const capRoutes: FastifyPluginAsync<CapRouteOptions> = async (app, { deps, notify }) => {
  const send = (rec: CapRecord, request: FastifyRequest) =>
    renderCap(deps.config, notify.cap, rec, capMessageUrl(baseUrl(deps.config, request), rec.identifier));

  app.get<{ Params: { file: string } }>(
    '/cap/alerts/:file',
    { schema: { summary: 'CAP 1.2 terbaru sebuah peringatan / latest CAP 1.2 message of an alert', tags: ['cap'] } },
    async (request, reply) => {
      const id = xmlName(request.params.file);
      const list = id === null ? [] : notify.cap.forAlert(id);
      const rec = list.at(-1);
      if (!rec) throw new HttpError(404, 'CAP_NOT_FOUND', 'tidak ada pesan CAP untuk peringatan ini / no CAP message for this alert');
      return reply.type('application/cap+xml; charset=utf-8').send(send(rec, request));
    },
  );

  app.get<{ Params: { file: string } }>(
    '/cap/messages/:file',
    { schema: { summary: 'Satu pesan CAP 1.2 / one CAP 1.2 message', tags: ['cap'] } },
    async (request, reply) => {
      const id = xmlName(request.params.file);
      const rec = id === null ? undefined : notify.cap.byIdentifier(id);
      if (!rec) throw new HttpError(404, 'CAP_NOT_FOUND', 'pesan CAP tidak dikenal / unknown CAP message');
      return reply.type('application/cap+xml; charset=utf-8').send(send(rec, request));
    },
  );
};

/** The Atom feed, registered at the root (a stable URL for hubs). */
export const atomRoutes: FastifyPluginAsync<CapRouteOptions> = async (app, { deps, notify }) => {
  app.get(ATOM_PATH, { schema: { summary: 'Atom feed peringatan aktif / Atom feed of current alerts', tags: ['cap'] } }, async (request, reply) => {
    const now = deps.now();
    const entries = feedEntries(notify.cap.latestPerAlert(500), now);
    const xml = atomFeed(entries, { baseUrl: baseUrl(deps.config, request), author: deps.config.notify.sender, now });
    return reply.type('application/atom+xml; charset=utf-8').send(xml);
  });
};
