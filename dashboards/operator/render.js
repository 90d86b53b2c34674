// Renders API responses into the page. Every string from the server goes through `el` (text
// nodes only). Names of areas and sites come from the lookup `names` that app.js keeps.
import { HAZARD_WORDS, LEVEL_WORDS, QUANTITY_WORDS, STATE_WORDS, TYPE_WORDS, ago, el, fmt, unitText } from './format.js';

/** A reading older than this is flagged: the sensor or its gateway may have stopped. */
const STALE_MS = 30 * 60 * 1000;

/** The engine resolves on its own as `rule:<id>` when readings are back to Normal. */
const resolver = (by) => (by?.startsWith('rule:') ? `otomatis / automatic (aturan / rule ${by.slice(5)})` : by ?? '');

/** A WIB time that never breaks across lines. */
const time = (iso) => el('span', { class: 'time' }, fmt(iso));

const badge = (level) => el('span', { class: `badge lvl-${level}` }, level);

export function renderAreas({ areas }) {
  document.getElementById('areas').replaceChildren(
    ...areas.map((a) =>
      el('div', { class: `card lvl-${a.level}`, 'data-area': a.id, 'data-level': a.level },
        el('span', { class: 'card-name' }, a.name),
        el('b', {}, a.level),
        el('span', { class: 'card-words' }, LEVEL_WORDS[a.level] ?? ''),
        a.activeAlerts > 0
          ? el('small', {}, `${a.activeAlerts} peringatan aktif / active alert${a.activeAlerts > 1 ? 's' : ''}`)
          : null),
    ),
  );
}

/** Active alerts, open ones first (they still need someone), then the highest level. */
export function renderAlerts({ alerts }, names, onAct) {
  const rank = { Normal: 0, Waspada: 1, Siaga: 2, Awas: 3 };
  const active = alerts
    .filter((a) => a.state !== 'resolved')
    .sort((a, b) => (a.state === 'open' ? 0 : 1) - (b.state === 'open' ? 0 : 1) || rank[b.level] - rank[a.level]);
  document.getElementById('no-alerts').hidden = active.length > 0;
  document.getElementById('alerts').hidden = active.length === 0;
  document.querySelector('#alerts tbody').replaceChildren(
    ...active.map((a) =>
      el('tr', { 'data-alert': a.id, class: `state-${a.state} row-${a.level}` },
        el('td', {}, badge(a.level), el('div', { class: 'muted' }, HAZARD_WORDS[a.hazard] ?? a.hazard)),
        el('td', {}, names.areas.get(a.areaId) ?? a.areaId),
        el('td', {}, names.sites.get(a.siteId) ?? a.siteId, el('div', { class: 'muted' }, a.sensorId)),
        el('td', {},
          el('span', { class: 'value' }, `${a.evidence.value} ${unitText(a.evidence.unit)}`),
          el('span', { class: 'muted' }, ` ≥ ${a.evidence.threshold} ${unitText(a.evidence.unit)} (batas / threshold)`),
          el('div', { class: 'muted' }, time(a.evidence.ts))),
        el('td', {}, time(a.openedAt), el('div', { class: 'muted' }, ago(a.openedAt))),
        el('td', {},
          el('span', { class: 'state' }, STATE_WORDS[a.state] ?? a.state),
          a.acknowledgedBy ? el('div', {}, `oleh / by ${a.acknowledgedBy}`) : null,
          a.note ? el('div', { class: 'note' }, `Catatan / Note: ${a.note}`) : null),
        el('td', { class: 'actions' },
          a.state === 'open' ? el('button', { class: 'primary', onclick: () => onAct(a, 'acknowledge') }, 'Ketahui / Acknowledge') : null,
          el('button', { onclick: () => onAct(a, 'resolve') }, 'Selesaikan / Resolve')),
      ),
    ),
  );
}

export function renderResolved({ alerts }, names) {
  document.getElementById('no-resolved').hidden = alerts.length > 0;
  document.getElementById('resolved').hidden = alerts.length === 0;
  document.querySelector('#resolved tbody').replaceChildren(
    ...alerts.map((a) =>
      el('tr', { 'data-alert': a.id },
        el('td', {}, badge(a.maxLevel)),
        el('td', {}, names.areas.get(a.areaId) ?? a.areaId),
        el('td', {}, names.sites.get(a.siteId) ?? a.siteId),
        el('td', {}, time(a.openedAt)),
        el('td', {}, time(a.resolvedAt)),
        el('td', {}, resolver(a.resolvedBy)),
        el('td', { class: 'note' }, a.note ?? '')),
    ),
  );
}

function latestValue(sensorId, v, onChart, nowMs) {
  const stale = nowMs - Date.parse(v.ts) > STALE_MS;
  return el('div', { class: `reading${stale ? ' stale' : ''}`, 'data-quantity': v.quantity },
    el('span', { class: 'muted' }, QUANTITY_WORDS[v.quantity] ?? v.quantity),
    el('span', { class: 'value' }, `${v.value} ${unitText(v.unit)}`),
    el('span', { class: 'muted' }, `${fmt(v.ts)} · ${ago(v.ts, nowMs)}`),
    stale ? el('span', { class: 'warn' }, 'data lama / stale') : null,
    v.quality === 'suspect' ? el('span', { class: 'warn' }, 'mencurigakan / suspect') : null,
    el('button', { onclick: () => onChart(sensorId, v.quantity, v.unit) }, 'Grafik / Chart'));
}

export function renderSites({ sites, unregisteredSensors }, onChart, nowMs = Date.now(), gaps = {}) {
  document.getElementById('sites').replaceChildren(
    ...sites.map((site) =>
      el('div', { class: 'site', 'data-site': site.id },
        el('h3', {}, site.name, el('span', { class: 'muted' }, ` — ${site.areaName ?? site.areaId}`)),
        ...site.sensors.map((sensor) =>
          el('div', { class: 'sensor', 'data-sensor': sensor.id },
            el('div', { class: 'sensor-id' }, sensor.id, el('div', { class: 'muted' }, TYPE_WORDS[sensor.type] ?? sensor.type)),
            el('div', { class: 'readings' },
              ...sensor.latest.map((v) => latestValue(sensor.id, v, onChart, nowMs)),
              sensor.latest.length === 0 ? el('span', { class: 'muted' }, 'belum ada data / no data yet') : null,
              (gaps[sensor.id] ?? 0) > 0
                ? el('span', { class: 'warn' }, `data hilang / missing readings: ${gaps[sensor.id]}`)
                : null)),
        ),
      ),
    ),
    unregisteredSensors.length > 0
      ? el('p', { class: 'warn' }, `Sensor tak terdaftar / Unregistered sensors: ${unregisteredSensors.join(', ')}`)
      : '',
  );
}

export function renderGateways({ gateways }) {
  document.querySelector('#gateways tbody').replaceChildren(
    ...gateways.map((g) => {
      const rejected = g.lastHealth ? Object.values(g.lastHealth.rejectedFrames).reduce((a, b) => a + b, 0) : 0;
      return el('tr', { 'data-gateway': g.id },
        el('td', {}, g.id),
        el('td', {}, g.state === 'online'
          ? el('span', { class: 'ok' }, 'Daring / Online')
          : el('span', { class: 'warn' }, 'Luring / Offline')),
        el('td', {}, g.lastHealth ? String(g.lastHealth.queueDepth) : '—'),
        el('td', {}, String(rejected)),
        el('td', {}, time(g.lastMessageAt), g.lastMessageAt ? el('div', { class: 'muted' }, ago(g.lastMessageAt)) : null));
    }),
  );
}
