// Kentongan operator dashboard: plain browser JavaScript, no build step, no network beyond this
// server (control rooms and field laptops may have no internet). Polls the HTTP API; every text
// from the server is inserted with textContent, never as HTML.
const API = '/api/v1';
const POLL_MS = 2000;
const LEVEL_WORDS = {
  Normal: 'Normal', Waspada: 'Waspada — siapkan rencana / be prepared',
  Siaga: 'Siaga — bersiap mengungsi / get ready to leave', Awas: 'AWAS — segera mengungsi / evacuate now',
};
const STATE_WORDS = { open: 'Terbuka / Open', acknowledged: 'Diketahui / Acknowledged', resolved: 'Selesai / Resolved' };
const wib = new Intl.DateTimeFormat('id-ID', {
  timeZone: 'Asia/Jakarta', day: '2-digit', month: '2-digit', year: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});
const fmt = (iso) => (iso ? `${wib.format(new Date(iso)).replace(/\./g, ':')}` : '—');

/** Creates an element; strings become text nodes (never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

async function getJson(path) {
  const res = await fetch(API + path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

let selected = null; // { sensorId, quantity, unit }
const areaNames = new Map();
const siteNames = new Map();

function renderAreas({ areas }) {
  for (const a of areas) areaNames.set(a.id, a.name);
  document.getElementById('areas').replaceChildren(
    ...areas.map((a) =>
      el('div', { class: `card lvl-${a.level}`, 'data-area': a.id, 'data-level': a.level },
        el('span', {}, a.name), el('b', {}, a.level), el('small', {}, LEVEL_WORDS[a.level] ?? '')),
    ),
  );
}

function renderAlerts({ alerts }) {
  const active = alerts.filter((a) => a.state !== 'resolved');
  document.getElementById('no-alerts').hidden = active.length > 0;
  document.querySelector('#alerts tbody').replaceChildren(
    ...active.map((a) =>
      el('tr', { 'data-alert': a.id },
        el('td', {}, el('span', { class: `badge lvl-${a.level}` }, a.level)),
        el('td', {}, areaNames.get(a.areaId) ?? a.areaId),
        el('td', {}, `${siteNames.get(a.siteId) ?? a.siteId} (${a.sensorId})`),
        el('td', {}, `${a.evidence.value} ${a.evidence.unit} ≥ ${a.evidence.threshold} — ${fmt(a.evidence.ts)}`),
        el('td', {}, fmt(a.openedAt)),
        el('td', {}, STATE_WORDS[a.state] ?? a.state, a.acknowledgedBy ? el('div', { class: 'muted' }, `oleh / by ${a.acknowledgedBy}`) : ''),
        el('td', {},
          a.state === 'open' ? el('button', { onclick: () => act(a, 'acknowledge') }, 'Ketahui / Acknowledge') : '',
          el('button', { onclick: () => act(a, 'resolve') }, 'Selesaikan / Resolve')),
      ),
    ),
  );
}

function renderResolved({ alerts }) {
  document.querySelector('#resolved tbody').replaceChildren(
    ...alerts.slice(0, 20).map((a) =>
      el('tr', {},
        el('td', {}, el('span', { class: `badge lvl-${a.maxLevel}` }, a.maxLevel)),
        el('td', {}, areaNames.get(a.areaId) ?? a.areaId),
        el('td', {}, siteNames.get(a.siteId) ?? a.siteId),
        el('td', {}, fmt(a.openedAt)), el('td', {}, fmt(a.resolvedAt)),
        el('td', {}, a.resolvedBy ?? ''), el('td', {}, a.note ?? '')),
    ),
  );
}

function renderSites({ sites }) {
  for (const s of sites) siteNames.set(s.id, s.name);
  document.getElementById('sites').replaceChildren(
    ...sites.map((site) =>
      el('div', { class: 'site' },
        el('h3', {}, `${site.name} — ${site.areaName ?? site.areaId}`),
        ...site.sensors.map((sensor) =>
          el('div', { class: 'sensor', 'data-sensor': sensor.id },
            el('span', {}, `${sensor.id} (${sensor.type})`),
            ...sensor.latest.map((v) =>
              el('span', {},
                el('span', { class: 'value' }, `${v.value} ${v.unit}`), ' ',
                el('span', { class: 'muted' }, `${v.quantity} · ${fmt(v.ts)}${v.quality === 'suspect' ? ' · mencurigakan / suspect' : ''}`), ' ',
                el('button', { onclick: () => select(sensor.id, v.quantity, v.unit) }, 'Grafik / Chart'))),
            sensor.latest.length === 0 ? el('span', { class: 'muted' }, 'belum ada data / no data yet') : '',
            sensor.sequence.gaps > 0 ? el('span', { class: 'muted' }, `celah / gaps: ${sensor.sequence.gaps}`) : ''),
        ),
      ),
    ),
  );
  if (!selected) {
    const first = sites.flatMap((s) => s.sensors).find((s) => s.latest.length);
    if (first) select(first.id, first.latest[0].quantity, first.latest[0].unit);
  }
}

function renderGateways({ gateways }) {
  document.querySelector('#gateways tbody').replaceChildren(
    ...gateways.map((g) => {
      const rejected = g.lastHealth ? Object.values(g.lastHealth.rejectedFrames).reduce((a, b) => a + b, 0) : 0;
      return el('tr', { 'data-gateway': g.id },
        el('td', {}, g.id),
        el('td', {}, g.state === 'online' ? 'Daring / Online' : 'LURING / OFFLINE'),
        el('td', {}, g.lastHealth ? String(g.lastHealth.queueDepth) : '—'),
        el('td', {}, String(rejected)),
        el('td', {}, fmt(g.lastMessageAt)));
    }),
  );
}

function select(sensorId, quantity, unit) {
  selected = { sensorId, quantity, unit };
  document.getElementById('chart-title').textContent = `${sensorId} · ${quantity} (${unit})`;
  refreshChart();
}

async function refreshChart() {
  if (!selected) return;
  const { sensorId, quantity } = selected;
  const data = await getJson(`/sensors/${encodeURIComponent(sensorId)}/readings?quantity=${quantity}&limit=2000`);
  drawChart(data.readings);
}

function drawChart(readings) {
  const svg = document.getElementById('chart');
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  if (readings.length < 2) return;
  const xs = readings.map((r) => Date.parse(r.ts));
  const ys = readings.map((r) => r.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const W = 800, H = 220, P = 36;
  const px = (x) => P + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * P);
  const py = (y) => H - P + ((y0 - y) / (y1 - y0)) * (H - 2 * P);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', readings.map((r, i) => `${px(xs[i]).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#1565c0');
  line.setAttribute('stroke-width', '2');
  const label = (x, y, text, anchor = 'start') => {
    const t = document.createElementNS(ns, 'text');
    Object.entries({ x, y, 'font-size': 12, 'text-anchor': anchor }).forEach(([k, v]) => t.setAttribute(k, v));
    t.textContent = text;
    return t;
  };
  svg.append(line, label(4, P - 8, `${y1.toFixed(1)}`), label(4, H - P, `${y0.toFixed(1)}`),
    label(P, H - 6, fmt(new Date(x0).toISOString())), label(W - P, H - 6, fmt(new Date(x1).toISOString()), 'end'));
}

async function act(alert, verb) {
  const dialog = document.getElementById('action');
  const form = dialog.querySelector('form');
  document.getElementById('action-title').textContent =
    `${verb === 'acknowledge' ? 'Ketahui / Acknowledge' : 'Selesaikan / Resolve'}: ${alert.level} — ${siteNames.get(alert.siteId) ?? alert.siteId}`;
  document.getElementById('action-error').textContent = '';
  form.reset();
  dialog.showModal();
  const answer = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (answer !== 'ok') return;
  const body = { by: form.elements.by.value, note: form.elements.note.value || null };
  const res = await fetch(`${API}/alerts/${encodeURIComponent(alert.id)}/${verb}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) {
    const err = await res.json().catch(() => ({}));
    alertError(err.error?.message ?? `HTTP ${res.status}`);
  }
  refresh();
}

function alertError(message) {
  const conn = document.getElementById('conn');
  conn.textContent = `Gagal / Failed: ${message}`;
  conn.className = 'conn bad';
}

async function refresh() {
  const conn = document.getElementById('conn');
  try {
    const [areas, sites, active, resolved, gateways] = await Promise.all([
      getJson('/areas'), getJson('/sites'), getJson('/alerts?state=active'), getJson('/alerts?state=resolved&limit=20'), getJson('/gateways'),
    ]);
    renderAreas(areas);
    renderSites(sites);
    renderAlerts(active);
    renderResolved(resolved);
    renderGateways(gateways);
    await refreshChart();
    conn.textContent = `Terhubung / Connected — diperbarui / updated ${fmt(new Date().toISOString())}`;
    conn.className = 'conn';
  } catch (err) {
    conn.textContent = `Tidak terhubung ke server / Not connected: ${err.message}`;
    conn.className = 'conn bad';
  }
}

setInterval(() => (document.getElementById('clock').textContent = `${fmt(new Date().toISOString())} WIB`), 1000);
refresh();
setInterval(refresh, POLL_MS);
