/**
 * End-to-end test of the operator dashboard in a real browser (Debian's Chromium through
 * playwright-core; no browser is ever downloaded). A real server (SQLite in a temp folder,
 * embedded broker, real alert engine) gets a readings batch from an mqtt.js gateway client, the
 * alert opens at Awas, and an operator acknowledges and resolves it through the page.
 *
 * The steps share one server and one page and run in order (vitest runs a file's tests
 * sequentially): Awas shown -> acknowledged -> resolved -> what the page loaded and logged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ackSchema, topics, type ReadingInput } from '@kentongan/firmware-protocol';
import { hashPassword, parseServerConfig, startServer, type RunningServer } from '@kentongan/server';
import mqtt from 'mqtt';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GATEWAY_ID, demoServerConfig } from '../../simulators/src/demo/deployment.ts';

/** The page polls every 2 s; give a busy 2-core machine room for a couple of rounds. */
const WAIT = { timeout: 6000 };
const PASSWORD = 'sandi-gateway-uji-123';
const SENSOR = 'ckr-wl-01';
const OPERATOR = 'Siti Rahmawati';
/** A note that would run script if the page ever inserted server text as HTML. */
const HOSTILE_NOTE = '<img src=x onerror=alert(1)> <script>alert(2)</script>';
const RESOLVE_NOTE = 'Air surut, warga kembali / water receded';
/** Water level (cm) rising through Waspada (60), Siaga (160) and Awas (210; 2 readings confirm). */
const LEVELS_CM = [45, 70, 110, 165, 180, 205, 214, 223, 231];
const LATEST_CM = LEVELS_CM[LEVELS_CM.length - 1]!;

interface ApiAlert {
  id: string;
  level: string;
  state: string;
  acknowledgedBy: string | null;
  resolvedBy: string | null;
  note: string | null;
}

let dir = '';
let server: RunningServer | null = null;
let browser: Browser | null = null;
let page: Page;
let origin = '';
const requests: string[] = [];
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
const dialogsFired: string[] = [];
/** The one alert this run opens; set by the first step. */
let alertId = '';

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${origin}/api/v1${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** Publishes one batch as the demo gateway (MQTT 3.1.1) and returns the server's ack. */
async function publishReadings(mqttUrl: string, readings: ReadingInput[]) {
  const client = await mqtt.connectAsync(mqttUrl, {
    clientId: DEMO_GATEWAY_ID,
    username: DEMO_GATEWAY_ID,
    password: PASSWORD,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    const batchId = 'uji-dasbor-1';
    const acked = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ack within 5 s')), 5000);
      client.on('message', (topic, payload) => {
        if (topic !== topics.ack(DEMO_GATEWAY_ID)) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()));
      });
    });
    await client.subscribeAsync(topics.ack(DEMO_GATEWAY_ID), { qos: 1 });
    const batch = { v: 1, gatewayId: DEMO_GATEWAY_ID, batchId, sentAt: new Date().toISOString(), readings };
    await client.publishAsync(topics.readings(DEMO_GATEWAY_ID), JSON.stringify(batch), { qos: 1 });
    return ackSchema.parse(await acked);
  } finally {
    await client.endAsync();
  }
}

/** Opens the action dialog from the active row's button, fills it and submits. */
async function submitThroughUi(buttonName: RegExp, by: string, note: string) {
  const dialog = page.locator('dialog#action');
  if (!(await dialog.isVisible())) {
    await page.locator('#alerts tbody tr').getByRole('button', { name: buttonName }).click();
    await expect.poll(() => dialog.isVisible(), WAIT).toBe(true);
  }
  await dialog.getByLabel(/Nama petugas/).fill(by);
  await dialog.getByLabel(/Catatan/).fill(note);
  await dialog.getByRole('button', { name: /Kirim/ }).click();
}

/** The same, and waits for the server to accept it (the dialog closes only then). */
async function actThroughUi(buttonName: RegExp, note: string) {
  await submitThroughUi(buttonName, OPERATOR, note);
  await expect.poll(() => page.locator('dialog#action').isVisible(), WAIT).toBe(false);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kentongan-dashboard-'));
  const config = demoServerConfig({ dataDir: dir, httpPort: 0, mqttPort: 0, gatewayPasswordHash: await hashPassword(PASSWORD) });
  server = await startServer(parseServerConfig(config), {
    logger: pino({ level: 'silent' }),
    engineOptions: { consoleWriter: () => {} },
  });
  origin = server.httpUrl;

  // Readings one minute apart ending a minute ago: inside the chart's default 24 h window.
  const start = Date.now() - (LEVELS_CM.length + 1) * 60_000;
  const readings: ReadingInput[] = LEVELS_CM.map((value, i) => ({
    sensorId: SENSOR,
    epoch: 1,
    seq: i + 1,
    quantity: 'water_level',
    value,
    unit: 'cm',
    ts: new Date(start + i * 60_000).toISOString(),
  }));
  const ack = await publishReadings(server.mqttUrl, readings);
  expect(ack).toMatchObject({ stored: LEVELS_CM.length, duplicates: 0, rejected: [] });

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  // A browser far from Sumedang: the page must still show WIB.
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  page = await context.newPage();
  // Anything leaving the server's origin is recorded and refused: the page must work offline.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    return url.startsWith(`${origin}/`) ? route.continue() : route.abort('internetdisconnected');
  });
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogsFired.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${origin}/`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('operator dashboard in Chromium', () => {
  it('shows the area at Awas, one active Awas alert, the latest value and the chart', async () => {
    const card = page.locator('#areas [data-area="jatinangor"]');
    await expect.poll(() => card.getAttribute('data-level'), WAIT).toBe('Awas');
    expect(await card.innerText()).toContain('Kecamatan Jatinangor');
    expect(await card.innerText()).toMatch(/segera mengungsi/i);

    const rows = page.locator('#alerts tbody tr');
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    expect(await rows.first().locator('.badge').innerText()).toBe('Awas');
    expect(await rows.first().innerText()).toContain('Pos Duga Air Cikeruh');
    alertId = (await rows.first().getAttribute('data-alert')) ?? '';
    expect((await api<{ alert: ApiAlert }>(`/alerts/${alertId}`)).alert).toMatchObject({ level: 'Awas', state: 'open' });
    expect(await page.locator('#no-alerts').isHidden()).toBe(true);

    const sensor = page.locator(`#sites [data-sensor="${SENSOR}"]`);
    await expect.poll(() => sensor.locator('.value').first().innerText(), WAIT).toBe(`${LATEST_CM} cm`);

    const points = await page.locator('#chart polyline').first().getAttribute('points', { timeout: 5000 });
    expect(points?.trim().split(/\s+/)).toHaveLength(LEVELS_CM.length);
    expect(await page.locator('#chart-title').innerText()).toContain(SENSOR);
  });

  it('is bilingual (Bahasa Indonesia first, English alongside) and shows WIB times', async () => {
    expect(await page.locator('html').getAttribute('lang')).toBe('id');
    const text = await page.locator('body').innerText();
    for (const [id, en] of [
      ['Peringatan aktif', 'Active alerts'],
      ['Status wilayah', 'Area levels'],
      ['Lokasi dan sensor', 'Sites and sensors'],
      ['Peringatan selesai', 'Resolved alerts'],
      ['Ketahui', 'Acknowledge'],
    ]) {
      expect(text).toContain(id);
      expect(text).toContain(en);
    }
    // The alert's evidence time, in WIB whatever the browser's own time zone.
    const [alert] = (await api<{ alerts: (ApiAlert & { openedAt: string })[] }>('/alerts?state=active')).alerts;
    const wibTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Jakarta', hour: '2-digit', minute: '2-digit', hour12: false })
      .format(new Date(alert!.openedAt)).replace('.', ':');
    expect(await page.locator('#alerts tbody tr').first().innerText()).toContain(wibTime);
  });

  it('acknowledges through the dialog; a hostile note is shown as text', async () => {
    const [before] = (await api<{ alerts: ApiAlert[] }>('/alerts?state=active')).alerts;
    expect(before).toMatchObject({ state: 'open', level: 'Awas' });

    // A name of blanks passes the browser's `required` but not the server: the refusal is shown
    // in the dialog, which stays open with what was typed.
    await submitThroughUi(/Ketahui/, '   ', HOSTILE_NOTE);
    const error = page.locator('#action-error');
    await expect.poll(() => error.innerText(), WAIT).toMatch(/Gagal \/ Failed \(HTTP 400\).*body\.by/);
    expect(await page.locator('dialog#action').isVisible()).toBe(true);
    expect(await page.locator('dialog#action textarea').inputValue()).toBe(HOSTILE_NOTE);
    expect((await api<{ alert: ApiAlert }>(`/alerts/${before!.id}`)).alert.state).toBe('open');

    await actThroughUi(/Ketahui/, HOSTILE_NOTE);

    const after = (await api<{ alert: ApiAlert }>(`/alerts/${before!.id}`)).alert;
    expect(after).toMatchObject({ state: 'acknowledged', acknowledgedBy: OPERATOR, note: HOSTILE_NOTE });

    const row = page.locator(`#alerts tbody tr[data-alert="${before!.id}"]`);
    await expect.poll(() => row.innerText(), WAIT).toContain('Diketahui / Acknowledged');
    expect(await row.innerText()).toContain(OPERATOR);
    expect(await row.innerText()).toContain(HOSTILE_NOTE);
    expect(await row.getByRole('button', { name: /Ketahui/ }).count()).toBe(0);
    expect(await page.locator('main img, main script').count()).toBe(0);
    // The view an operator has while an alert is handled; looked at by a person, not asserted.
    await page.screenshot({ path: '/tmp/dashboard.png', fullPage: true });
  });

  it('resolves through the dialog: the row moves to the resolved table', async () => {
    const [active] = (await api<{ alerts: ApiAlert[] }>('/alerts?state=active')).alerts;
    await actThroughUi(/Selesaikan/, RESOLVE_NOTE);

    const after = (await api<{ alert: ApiAlert }>(`/alerts/${active!.id}`)).alert;
    expect(after).toMatchObject({ state: 'resolved', resolvedBy: OPERATOR, note: RESOLVE_NOTE });
    await expect.poll(() => page.locator('#alerts tbody tr').count(), WAIT).toBe(0);
    expect(await page.locator('#no-alerts').isVisible()).toBe(true);
    const resolved = page.locator(`#resolved tbody tr[data-alert="${active!.id}"]`);
    await expect.poll(() => resolved.count(), WAIT).toBe(1);
    expect(await resolved.innerText()).toContain(OPERATOR);
    expect(await resolved.innerText()).toContain(RESOLVE_NOTE);
    expect(await resolved.locator('.badge').innerText()).toBe('Awas');
  });

  it('loaded nothing from outside, logged no errors and fired no dialogs', async () => {
    
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    // Chromium logs every HTTP error response; the only one is the refused blank name.
    expect(consoleErrors).toEqual([
      `Failed to load resource: the server responded with a status of 400 (Bad Request) @ ${origin}/api/v1/alerts/${alertId}/acknowledge`,
    ]);
    expect(pageErrors).toEqual([]);
    expect(dialogsFired).toEqual([]);
  });
});
