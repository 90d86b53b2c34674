/**
 * Renders one CAP 1.2 message (OASIS Common Alerting Protocol v1.2, namespace
 * urn:oasis:names:tc:emergency:cap:1.2) with two `<info>` blocks: Bahasa Indonesia (`id-ID`)
 * and English (`en-US`). Element order follows the schema's sequences (CAP-v1.2.xsd next to
 * this file); the tests validate the output with xmllint against that schema.
 * `<area>`: the site's polygon, else its area's polygon, else a circle around the site
 * (`lat,lon radius-km`, WGS 84), with `areaDesc` "site, area".
 */
import type { Level } from '@kentongan/firmware-protocol';
import { formatValue, formatWib } from '../notify/messages.ts';
import type { CapRecord } from './cap-log.ts';
import { CAP_CATEGORY, CAP_LEVEL_FIELDS, capDateTime } from './mapping.ts';
import { el, xmlText } from './xml.ts';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';

/** Where the alert applies. */
export interface CapGeometry {
  polygon?: readonly (readonly [number, number])[] | undefined;
  circle?: { lat: number; lon: number; radiusKm: number } | undefined;
}

export interface CapOptions {
  /** CAP `<sender>` (no spaces, commas, `<` or `&`). */
  senderId: string;
  contact?: string | undefined;
  /** Absolute URL of a page about the alert (`<web>`), optional. */
  web?: string | undefined;
}

const EVENT = {
  flood: { id: 'Banjir', en: 'Flood' },
  landslide: { id: 'Tanah longsor', en: 'Landslide' },
} as const;

const INSTRUCTION: Record<Level, { id: string; en: string }> = {
  Normal: {
    id: 'Situasi kembali normal. Tetap berhati-hati dan ikuti informasi resmi BPBD.',
    en: 'The situation is back to normal. Stay careful and follow official BPBD information.',
  },
  Waspada: {
    id: 'Siapkan rencana evakuasi dan tas siaga bencana, pantau informasi resmi.',
    en: 'Prepare your evacuation plan and emergency bag, follow official information.',
  },
  Siaga: {
    id: 'Bersiap mengungsi: amankan dokumen dan barang berharga, periksa jalur evakuasi.',
    en: 'Get ready to evacuate: secure documents and valuables, check your evacuation route.',
  },
  Awas: {
    id: 'SEGERA MENGUNGSI ke tempat aman (dataran tinggi, jauh dari sungai, lereng dan tebing).',
    en: 'EVACUATE NOW to a safe place (high ground, away from rivers, slopes and cliffs).',
  },
};

/** CAP coordinates: decimal degrees, at most 6 decimals (about 0.1 m). */
function coord(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

function polygonText(points: readonly (readonly [number, number])[]): string {
  const ring = [...points];
  const first = ring[0]!;
  const last = ring[ring.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) ring.push(first);
  return ring.map(([lat, lon]) => `${coord(lat)},${coord(lon)}`).join(' ');
}

function headline(rec: CapRecord, lang: 'id' | 'en'): string {
  const place = `${rec.siteName}, ${rec.areaName}`;
  const event = EVENT[rec.alert.hazard][lang].toUpperCase();
  if (rec.change === 'resolved') return lang === 'id' ? `AMAN: ${event} di ${place} kembali Normal` : `ALL CLEAR: ${event} at ${place} back to Normal`;
  const level = rec.to.toUpperCase();
  const head =
    rec.change === 'escalated'
      ? lang === 'id' ? `NAIK ke ${level}` : `UP to ${level}`
      : rec.change === 'deescalated'
        ? lang === 'id' ? `TURUN ke ${level}` : `DOWN to ${level}`
        : level;
  return `${head} ${event} ${lang === 'id' ? 'di' : 'at'} ${place}`.slice(0, 160);
}

function description(rec: CapRecord, lang: 'id' | 'en'): string {
  const place = `${rec.siteName}, ${rec.areaName}`;
  const { value, unit, ts, threshold } = rec.alert.evidence;
  const q = rec.quantity ?? '';
  if (rec.change === 'resolved') {
    return lang === 'id'
      ? `Status ${EVENT[rec.alert.hazard].id.toLowerCase()} di ${place} dinyatakan kembali Normal pada ${formatWib(rec.sent)}.`
      : `The ${EVENT[rec.alert.hazard].en.toLowerCase()} status at ${place} was declared back to Normal at ${formatWib(rec.sent)}.`;
  }
  return lang === 'id'
    ? `Tingkat ${rec.to} di ${place}: ${q} ${formatValue(value, 'id')} ${unit} (ambang ${formatValue(threshold, 'id')} ${unit}), diukur ${formatWib(ts)}.`
    : `Level ${rec.to} at ${place}: ${q} ${formatValue(value, 'en')} ${unit} (threshold ${formatValue(threshold, 'en')} ${unit}), measured ${formatWib(ts)}.`;
}

function areaXml(rec: CapRecord, geo: CapGeometry): string {
  const parts = [el('areaDesc', `${rec.siteName}, ${rec.areaName}`)];
  if (geo.polygon && geo.polygon.length >= 3) parts.push(el('polygon', polygonText(geo.polygon)));
  else if (geo.circle) parts.push(el('circle', `${coord(geo.circle.lat)},${coord(geo.circle.lon)} ${coord(geo.circle.radiusKm)}`));
  return `<area>${parts.join('')}</area>`;
}

function infoXml(rec: CapRecord, lang: 'id' | 'en', geo: CapGeometry, opts: CapOptions): string {
  const level: Level = rec.change === 'resolved' ? 'Normal' : rec.to;
  const f = CAP_LEVEL_FIELDS[level];
  const parts = [
    el('language', lang === 'id' ? 'id-ID' : 'en-US'),
    el('category', CAP_CATEGORY[rec.alert.hazard]),
    el('event', EVENT[rec.alert.hazard][lang]),
    el('responseType', f.responseType),
    el('urgency', f.urgency),
    el('severity', f.severity),
    el('certainty', f.certainty),
    `<eventCode>${el('valueName', 'kentongan:level')}${el('value', level)}</eventCode>`,
    el('senderName', rec.sender),
    el('headline', headline(rec, lang)),
    el('description', description(rec, lang)),
    el('instruction', INSTRUCTION[level][lang]),
    ...(opts.web ? [el('web', opts.web)] : []),
    ...(opts.contact ? [el('contact', opts.contact)] : []),
    `<parameter>${el('valueName', 'kentongan:alertId')}${el('value', rec.alertId)}</parameter>`,
    areaXml(rec, geo),
  ];
  return `  <info>\n    ${parts.join('\n    ')}\n  </info>`;
}

/** The CAP 1.2 XML document of `rec`; `earlier` are the alert's previous messages (for `references`). */
export function capXml(rec: CapRecord, earlier: readonly CapRecord[], geo: CapGeometry, opts: CapOptions): string {
  const refs = earlier.map((e) => `${opts.senderId},${e.identifier},${capDateTime(e.sent)}`).join(' ');
  const head = [
    el('identifier', rec.identifier),
    el('sender', opts.senderId),
    el('sent', capDateTime(rec.sent)),
    el('status', 'Actual'),
    el('msgType', rec.msgType),
    el('scope', 'Public'),
    ...(refs ? [el('references', refs)] : []),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<alert xmlns="${CAP_NAMESPACE}">`,
    `  ${head.join('\n  ')}`,
    infoXml(rec, 'id', geo, opts),
    infoXml(rec, 'en', geo, opts),
    '</alert>',
    '',
  ].join('\n');
}

export { xmlText };
