// Kentongan operator dashboard: plain browser JavaScript modules, no build step, nothing loaded
// from outside this server (control rooms and field laptops may have no internet). Polls the
// HTTP API every 2 s; every text from the server is inserted as text, never as HTML.
import { drawChart } from './chart.js';
import { QUANTITY_WORDS, fmt, unitText } from './format.js';
import { renderAlerts, renderAreas, renderGateways, renderResolved, renderSites } from './render.js';

const API = '/api/v1';
const POLL_MS = 2000;
const NAME_KEY = 'kentongan.operatorName';

const names = { areas: new Map(), sites: new Map() };
let selected = null; // { sensorId, quantity, unit }
let activeAlerts = [];
let pending = null; // { alert, verb } while the action dialog is open
let refreshing = false;
let refreshAgain = false; // asked for while a refresh was running (e.g. right after an action)
/** Last rendered input per section: a section is rebuilt only when its data changed, so a
 * button is not replaced under the operator's mouse between press and release. */
const lastKey = new Map();

async function getJson(path) {
  const res = await fetch(API + path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function renderIfChanged(section, data, render, extraKey = '') {
  const key = JSON.stringify(data) + extraKey;
  if (lastKey.get(section) === key) return;
  lastKey.set(section, key);
  render(data);
}

function selectSensor(sensorId, quantity, unit) {
  selected = { sensorId, quantity, unit };
  lastKey.delete('chart');
  document.getElementById('chart-title').textContent =
    `${sensorId} · ${QUANTITY_WORDS[quantity] ?? quantity} (${unitText(unit)})`;
  refreshChart().catch(showFailure);
}

async function refreshChart() {
  if (!selected) return;
  const { sensorId, quantity, unit } = selected;
  const history = await getJson(`/sensors/${encodeURIComponent(sensorId)}/readings?quantity=${encodeURIComponent(quantity)}&limit=2000`);
  const thresholds = activeAlerts
    .filter((a) => a.sensorId === sensorId && a.evidence.unit === unit)
    .map((a) => ({ level: a.level, value: a.evidence.threshold }));
  const svg = document.getElementById('chart');
  // The window moves with the clock, so compare readings (not from/to) and the drawn width.
  renderIfChanged('chart', { sensorId, quantity, readings: history.readings, thresholds },
    () => drawChart(svg, history, unit, thresholds), `|${svg.clientWidth}`);
}

async function refresh() {
  if (refreshing) { // a slow server must not pile up requests
    refreshAgain = true;
    return;
  }
  refreshing = true;
  const conn = document.getElementById('conn');
  try {
    const [areas, sites, active, resolved, gateways] = await Promise.all([
      getJson('/areas'), getJson('/sites'), getJson('/alerts?state=active'),
      getJson('/alerts?state=resolved&limit=20'), getJson('/gateways'),
    ]);
    for (const a of areas.areas) names.areas.set(a.id, a.name);
    for (const s of sites.sites) names.sites.set(s.id, s.name);
    activeAlerts = active.alerts;
    const minute = `|${Math.floor(Date.now() / 60_000)}`; // "n minutes ago" texts age
    renderIfChanged('areas', areas, renderAreas);
    // Missing readings as the gateway counts them from every frame's sequence number; the
    // server's own span count also includes numbers used by frames without readings (HEL, HBT).
    const gaps = Object.fromEntries(
      gateways.gateways.flatMap((g) => (g.lastHealth ? g.lastHealth.sensors.map((s) => [s.sensorId, s.gaps]) : [])),
    );
    renderIfChanged('sites', { sites, gaps }, (d) => renderSites(d.sites, selectSensor, Date.now(), d.gaps), minute);
    renderIfChanged('alerts', active, (d) => renderAlerts(d, names, openAction), minute);
    renderIfChanged('resolved', resolved, (d) => renderResolved(d, names));
    renderIfChanged('gateways', gateways, renderGateways, minute);
    if (!selected) {
      const first = sites.sites.flatMap((s) => s.sensors).find((s) => s.latest.length);
      if (first) selectSensor(first.id, first.latest[0].quantity, first.latest[0].unit);
    }
    await refreshChart();
    conn.textContent = `Terhubung / Connected · ${fmt(new Date().toISOString())}`;
    conn.className = 'conn';
  } catch (err) {
    showFailure(err);
  } finally {
    refreshing = false;
    if (refreshAgain) {
      refreshAgain = false;
      refresh();
    }
  }
}

function showFailure(err) {
  const conn = document.getElementById('conn');
  conn.textContent = `TIDAK TERHUBUNG, data mungkin usang / NOT CONNECTED, data may be old: ${err.message}`;
  conn.className = 'conn bad';
}

const dialog = document.getElementById('action');
const form = dialog.querySelector('form');
const actionError = document.getElementById('action-error');
const okButton = document.getElementById('action-ok');

function openAction(alert, verb) {
  pending = { alert, verb };
  document.getElementById('action-title').textContent =
    `${verb === 'acknowledge' ? 'Ketahui peringatan / Acknowledge alert' : 'Selesaikan peringatan / Resolve alert'}: ` +
    `${alert.level} — ${names.sites.get(alert.siteId) ?? alert.siteId}`;
  document.getElementById('action-hint').textContent = verb === 'acknowledge'
    ? 'Tandai bahwa petugas sudah menangani. / Mark that an operator is handling it.'
    : 'Tutup peringatan ini (mis. air sudah surut). Status wilayah turun; peringatan baru hanya dibuka bila level naik lagi. ' +
      '/ Close this alert (e.g. the water has gone down). The area level drops; a new alert opens only if the level rises again.';
  actionError.textContent = '';
  form.reset();
  form.elements.by.value = localStorage.getItem(NAME_KEY) ?? '';
  dialog.showModal();
  (form.elements.by.value ? form.elements.note : form.elements.by).focus();
}

// The form stays open until the server accepts the action, so a refusal is shown where the
// operator is looking, with what they typed still there.
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!pending) return;
  const { alert, verb } = pending;
  const body = { by: form.elements.by.value, note: form.elements.note.value.trim() === '' ? null : form.elements.note.value };
  okButton.disabled = true;
  actionError.textContent = '';
  try {
    const res = await fetch(`${API}/alerts/${encodeURIComponent(alert.id)}/${verb}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      actionError.textContent = `Gagal / Failed (HTTP ${res.status}): ${err.error?.message ?? ''}`;
      return;
    }
    localStorage.setItem(NAME_KEY, body.by.trim());
    pending = null;
    dialog.close();
    lastKey.clear();
    refresh();
  } catch (err) {
    actionError.textContent = `Server tidak terjangkau / Server unreachable: ${err.message}`;
  } finally {
    okButton.disabled = false;
  }
});
document.getElementById('action-cancel').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => (pending = null));

const tick = () => (document.getElementById('clock').textContent = `${fmt(new Date().toISOString())} WIB`);
tick();
setInterval(tick, 1000);
refresh();
setInterval(refresh, POLL_MS);
// A wider or narrower window redraws the chart at its new size on the next poll.
window.addEventListener('resize', () => lastKey.delete('chart'));
