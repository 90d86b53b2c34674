// Words and formatting shared by the dashboard: Bahasa Indonesia first, English after " / ".
// Times are always shown in WIB (Asia/Jakarta, UTC+7), whatever the browser's own time zone.

/**
 * What each level asks of people (BNPB practice). An area is Normal when it has no active alert,
 * which is not the same as safe (an operator may have resolved an alert while water is high), so
 * Normal does not say "aman".
 */
export const LEVEL_WORDS = {
  Normal: 'Tidak ada peringatan aktif / No active alert',
  Waspada: 'Waspada — siapkan rencana / be prepared',
  Siaga: 'Siaga — bersiap mengungsi / get ready to leave',
  Awas: 'AWAS — segera mengungsi / evacuate now',
};

export const STATE_WORDS = {
  open: 'Terbuka, belum diketahui / Open, not yet acknowledged',
  acknowledged: 'Diketahui / Acknowledged',
  resolved: 'Selesai / Resolved',
};

/** Quantities as an operator names them (the API uses code names such as `water_level`). */
export const QUANTITY_WORDS = {
  water_level: 'Tinggi muka air / Water level',
  rain: 'Curah hujan / Rainfall',
  displacement: 'Pergeseran tanah / Ground displacement',
  tilt_x: 'Kemiringan X / Tilt X',
  tilt_y: 'Kemiringan Y / Tilt Y',
  battery_voltage: 'Tegangan baterai / Battery voltage',
  temperature: 'Suhu / Temperature',
};

/** Sensor types from the server config; unknown types are shown as they are. */
export const TYPE_WORDS = {
  water_level: 'pengukur muka air / water-level gauge',
  rain: 'penakar hujan / rain gauge',
  extensometer: 'ekstensometer / extensometer',
  tiltmeter: 'tiltmeter',
};

export const HAZARD_WORDS = { flood: 'Banjir / Flood', landslide: 'Longsor / Landslide' };

/** Units as people write them. */
const UNIT_WORDS = { degC: '°C', deg: '°' };
export const unitText = (unit) => UNIT_WORDS[unit] ?? unit;

const wibFull = new Intl.DateTimeFormat('id-ID', {
  timeZone: 'Asia/Jakarta', day: '2-digit', month: '2-digit', year: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});
const wibShort = new Intl.DateTimeFormat('id-ID', {
  timeZone: 'Asia/Jakarta', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});
// id-ID writes "28/11/2026, 11.25.18"; colons read better next to English and match 24-hour clocks.
const clean = (s) => s.replace(/\./g, ':').replace(',', '');

/** `28/11/2026 11:25:18` in WIB, or an em dash for no time. */
export const fmt = (iso) => (iso ? clean(wibFull.format(new Date(iso))) : '—');
/** `28/11 11:25` in WIB, for chart axes. */
export const fmtShort = (ms) => clean(wibShort.format(new Date(ms)));

/** How long ago, in words: `5 menit lalu / 5 min ago`. */
export function ago(iso, nowMs = Date.now()) {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 60) return 'baru saja / just now';
  if (s < 3600) return `${Math.floor(s / 60)} menit lalu / ${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} jam lalu / ${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} hari lalu / ${Math.floor(s / 86_400)} days ago`;
}

/** Creates an element; strings become text nodes, never HTML, so server text cannot inject markup. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
