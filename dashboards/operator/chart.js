// The history chart: plain SVG, drawn at the element's real width so text stays readable.
// The right edge is the end of the requested window (now): a sensor that stopped shows as a gap.
import { el, fmtShort, unitText } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const LEVEL_COLOURS = { Waspada: '#b58100', Siaga: '#ef6c00', Awas: '#c62828' };

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** About `count` round tick values covering [lo, hi]. */
function ticks(lo, hi, count = 4) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

/**
 * Draws `history` (a `/sensors/:id/readings` response) into `svg`; `thresholds` are the
 * `{ level, value }` of active alerts on this sensor, drawn as dashed lines.
 */
export function drawChart(svg, history, unit, thresholds = []) {
  const W = Math.max(320, Math.round(svg.clientWidth || 800));
  const H = 240;
  const left = 64, right = 16, top = 14, bottom = 30;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const readings = history.readings;
  const note = document.getElementById('chart-note');
  note.replaceChildren(history.truncated ? el('span', { class: 'warn' }, 'hanya data terbaru / newest readings only') : '');
  if (readings.length < 2) {
    svg.append(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'chart-empty' },
      'Belum cukup data dalam 24 jam terakhir / Not enough data in the last 24 h'));
    return;
  }
  const xs = readings.map((r) => Date.parse(r.ts));
  const ys = readings.map((r) => r.value);
  const x0 = Math.max(Date.parse(history.from), Math.min(...xs));
  const x1 = Math.max(Date.parse(history.to), ...xs);
  const lines = thresholds.map((t) => t.value);
  let y0 = Math.min(...ys, ...lines);
  let y1 = Math.max(...ys, ...lines);
  const pad = (y1 - y0) * 0.08 || 1;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x) => left + ((x - x0) / (x1 - x0 || 1)) * (W - left - right);
  const py = (y) => top + ((y1 - y) / (y1 - y0)) * (H - top - bottom);

  for (const v of ticks(y0, y1)) {
    svg.append(
      svgEl('line', { x1: left, x2: W - right, y1: py(v), y2: py(v), class: 'grid' }),
      svgEl('text', { x: left - 6, y: py(v) + 4, 'text-anchor': 'end', class: 'axis' }, `${v} ${unitText(unit)}`),
    );
  }
  for (const t of thresholds) {
    const colour = LEVEL_COLOURS[t.level] ?? '#555';
    svg.append(
      svgEl('line', { x1: left, x2: W - right, y1: py(t.value), y2: py(t.value), stroke: colour, 'stroke-dasharray': '6 4', 'stroke-width': 1.5 }),
      svgEl('text', { x: W - right - 4, y: py(t.value) - 4, 'text-anchor': 'end', fill: colour, class: 'axis' },
        `batas ${t.level} / ${t.level} threshold ${t.value} ${unitText(unit)}`),
    );
  }
  const points = readings.map((r, i) => `${px(xs[i]).toFixed(1)},${py(ys[i]).toFixed(1)}`).join(' ');
  svg.append(svgEl('polyline', { points, fill: 'none', stroke: '#1565c0', 'stroke-width': 2, 'stroke-linejoin': 'round' }));
  if (readings.length <= 120) {
    for (let i = 0; i < readings.length; i++) svg.append(svgEl('circle', { cx: px(xs[i]), cy: py(ys[i]), r: 2.5, fill: '#1565c0' }));
  }
  const axisY = H - bottom + 18;
  svg.append(
    svgEl('text', { x: left, y: axisY, class: 'axis' }, `${fmtShort(x0)} WIB`),
    svgEl('text', { x: W - right, y: axisY, 'text-anchor': 'end', class: 'axis' }, `${fmtShort(x1)} WIB`),
  );
}
