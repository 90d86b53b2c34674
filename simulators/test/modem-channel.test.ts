/**
 * The GSM modem channel (server) against the modem simulator over a real pseudo-terminal pair:
 * the AT dialogue, text and PDU mode, multipart, delivery reports, incoming STOP, and each error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelSchema } from '../../server/src/config/schema.ts';
import { NotifyError, type OutboundNotification } from '../../server/src/notify/channel.ts';
import { channelHealthMetrics } from '../../server/src/notify/channels/health-metrics.ts';
import { createGsmModemChannel, type GsmModemChannel, type GsmModemConfig } from '../../server/src/notify/channels/gsm-modem/modem-channel.ts';
import { startModemSimulator, type ModemSimulator, type ModemState } from '../src/modem/modem-simulator.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';

let dir: string;
let pair: PtyPair;
let sim: ModemSimulator;
let channel: GsmModemChannel | null;
const stops: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kentongan-modem-'));
  pair = await openPtyPair(dir, 'modem');
  stops.length = 0;
  channel = null;
});

afterEach(async () => {
  await channel?.close();
  await sim?.close();
  await pair.close();
  await rm(dir, { recursive: true, force: true });
});

async function setup(state: Partial<ModemState> = {}, extra: Record<string, unknown> = {}) {
  sim = await startModemSimulator(pair.devicePath, state);
  const config = channelSchema.parse({ kind: 'gsm-modem', path: pair.hostPath, commandTimeoutMs: 800, sendTimeoutMs: 1500, ...extra }) as GsmModemConfig;
  channel = createGsmModemChannel(config, { logger: pino({ level: 'silent' }), now: () => new Date(), onStopRequest: (p) => stops.push(p) });
  return channel;
}

const sms = (text: string, address = '+6281234567890'): OutboundNotification => ({
  dedupeKey: 'a1:opened:Awas:modem:r-1',
  payload: {} as OutboundNotification['payload'],
  recipient: { id: 'r-1', address, language: 'id', text },
});

async function failure(p: Promise<unknown>): Promise<NotifyError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}

async function until<T>(check: () => T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('gsm-modem channel over a pseudo-terminal', () => {
  it('runs the init sequence, sends GSM-7 text in text mode and reports health', async () => {
    const ch = await setup();
    await ch.send(sms('SIAGA BANJIR Jatinangor 14:05 WIB. Siapkan tas siaga. -BPBD'));
    expect(sim.sent).toEqual([{ to: '+6281234567890', text: 'SIAGA BANJIR Jatinangor 14:05 WIB. Siapkan tas siaga. -BPBD', mode: 'text', ucs2: false, parts: 1 }]);
    expect(sim.commands.slice(0, 6)).toEqual(['AT', 'ATE0', 'AT+CMEE=1', 'AT+CPIN?', 'AT+CSQ', 'AT+CREG?']);
    expect(sim.commands).toContain('AT+CNMI=2,1,0,1,0');
    expect(ch.health()).toMatchObject({ state: 'ready', sim: 'ready', registered: true, signalRssi: 20, signalDbm: -73, sent: 1 });
    await until(() => ch.health().deliveredReports === 1);
    const metrics = Object.fromEntries(channelHealthMetrics([ch]).map((m) => [m.name, m.samples]));
    expect(metrics.kentongan_modem_signal_dbm).toEqual([{ labels: { channel: 'gsm-modem' }, value: -73 }]);
    expect(metrics.kentongan_modem_registered).toEqual([{ labels: { channel: 'gsm-modem' }, value: 1 }]);
    expect(metrics.kentongan_modem_sim_ready).toEqual([{ labels: { channel: 'gsm-modem' }, value: 1 }]);
  });

  it('sends Unicode and long text in PDU mode as concatenated UCS-2 parts', async () => {
    const ch = await setup();
    const text = `AWAS LONGSOR Cimanggung 🙏 Segera ngungsi ka tempat aman. ${'Ulah balik deui. '.repeat(5)}`;
    await ch.send(sms(text));
    await ch.send(sms('Email: bpbd@sumedang.go.id'));
    expect(sim.sent[0]).toMatchObject({ to: '+6281234567890', text, mode: 'pdu', ucs2: true });
    expect(sim.sent[0]!.parts).toBe(Math.ceil(text.length / 67));
    expect(sim.sent[1]).toMatchObject({ text: 'Email: bpbd@sumedang.go.id', mode: 'pdu', ucs2: false, parts: 1 });
    await until(() => ch.health().deliveredReports === sim.sent[0]!.parts + 1);
  });

  it('counts failed delivery reports', async () => {
    const ch = await setup({ reportStatus: 0x46 });
    await ch.send(sms('AWAS'));
    await until(() => ch.health().failedReports === 1);
  });

  it('no network: +CMS ERROR 331 / not registered is a retryable MODEM_NO_NETWORK', async () => {
    const ch = await setup({ network: 'none' });
    const e = await failure(ch.send(sms('AWAS')));
    expect([e.code, e.retryable]).toEqual(['MODEM_NO_NETWORK', true]);
    expect(ch.health()).toMatchObject({ registered: false, registration: 0, signalRssi: 99, signalDbm: null });
    // The network comes back: the next send re-checks registration and goes out.
    sim.state.network = 'home';
    await ch.send(sms('AWAS'));
    expect(sim.sent).toHaveLength(1);
    // Lost after the check: the modem itself answers 331.
    sim.state.network = 'none';
    const e2 = await failure(ch.send(sms('AWAS lagi')));
    expect(e2.code).toBe('MODEM_NO_NETWORK');
    expect(e2.message).toContain('331');
  });

  it('no credit: +CMS ERROR 500 or an operator code is a retryable MODEM_SEND_FAILED', async () => {
    const ch = await setup({ credit: false });
    const e = await failure(ch.send(sms('AWAS')));
    expect([e.code, e.retryable, e.message.includes('500')]).toEqual(['MODEM_SEND_FAILED', true, true]);
    sim.state.failCode = 532;
    const e2 = await failure(ch.send(sms('AWAS ✋')));
    expect(e2.message).toContain('532');
    sim.state.credit = true;
    await ch.send(sms('AWAS'));
    expect(sim.sent).toHaveLength(1);
    expect(ch.health().errors).toEqual({ MODEM_SEND_FAILED: 2 });
  });

  it('SIM missing: +CME ERROR 10 is MODEM_NO_SIM and shows in health', async () => {
    const ch = await setup({ sim: 'missing' });
    const e = await failure(ch.send(sms('AWAS')));
    expect(e.code).toBe('MODEM_NO_SIM');
    expect(ch.health()).toMatchObject({ sim: 'missing', state: 'failed' });
    const metrics = Object.fromEntries(channelHealthMetrics([ch]).map((m) => [m.name, m.samples]));
    expect(metrics.kentongan_modem_sim_ready).toEqual([{ labels: { channel: 'gsm-modem' }, value: 0 }]);
    expect(metrics.kentongan_channel_errors_total).toEqual([{ labels: { channel: 'gsm-modem', code: 'MODEM_NO_SIM' }, value: 1 }]);
    sim.state.sim = 'ready';
    await ch.send(sms('AWAS'));
    expect(ch.health().sim).toBe('ready');
  });

  it('SIM PIN: sent when configured, a clear non-retryable error when not', async () => {
    const withPin = await setup({ sim: 'pin' }, { pin: '1234' });
    await withPin.send(sms('AWAS'));
    expect(sim.commands).toContain('AT+CPIN="1234"');
    await withPin.close();
    await sim.close();
    const noPin = await setup({ sim: 'pin' });
    const e = await failure(noPin.send(sms('AWAS')));
    expect([e.code, e.retryable]).toEqual(['MODEM_SIM_PIN', false]);
  });

  it('incoming STOP / BERHENTI calls onStopRequest and deletes the SMS; other texts do not', async () => {
    const ch = await setup();
    ch.start();
    await until(() => ch.health().state === 'ready');
    sim.injectSms('+6281299988877', 'stop');
    sim.injectSms('+6285711122233', 'Berhenti.');
    sim.injectSms('+6281200000000', 'terima kasih');
    await until(() => ch.health().incoming === 3);
    expect(stops).toEqual(['+6281299988877', '+6285711122233']);
    expect(ch.health().stopRequests).toBe(2);
    await until(() => sim.stored.size === 0);
  });

  it('hostile modem: garbage, overlong lines and unsolicited codes mid-command do not break the dialogue', async () => {
    const ch = await setup({ noiseBeforeReply: '\r\nRING\r\n+CREG: 1\r\n\u0000\u00ff garbage %%%\r\n' });
    await ch.send(sms('AWAS BANJIR'));
    sim.emitRaw(`${'x'.repeat(5000)}\r\n`);
    sim.emitRaw('\r\n+CMTI: "SM",99\r\n');
    await ch.send(sms('AWAS ✋ banjir'));
    expect(sim.sent.map((s) => s.text)).toEqual(['AWAS BANJIR', 'AWAS ✋ banjir']);
    const h = ch.health();
    expect(h.garbageLines).toBeGreaterThan(0);
    expect(h.overlongLines).toBe(1);
    // The unknown SIM index 99 was a counted read failure, not a crash.
    await until(() => ch.health().errors.MODEM_ERROR === 1);
    expect(stops).toEqual([]);
  });

  it('a modem that stops answering times out, and the channel recovers when it answers again', async () => {
    const ch = await setup();
    await ch.send(sms('AWAS'));
    sim.state.silent = true;
    const t0 = Date.now();
    const e = await failure(ch.send(sms('AWAS 2')));
    expect(e.code).toBe('MODEM_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
    sim.state.silent = false;
    await ch.send(sms('AWAS 3'));
    expect(sim.sent.map((s) => s.text)).toContain('AWAS 3');
    expect(ch.health().timeouts + (ch.health().errors.MODEM_TIMEOUT ?? 0)).toBeGreaterThan(0);
  });

  it('an SMS arriving while a text-mode send is under way is read after it, in PDU mode', async () => {
    const ch = await setup();
    await ch.send(sms('AWAS 1'));
    const sending = ch.send(sms('AWAS 2'));
    sim.injectSms('+6281299988877', 'STOP');
    await sending;
    await ch.send(sms('AWAS 3'));
    await until(() => stops.length === 1);
    expect(sim.sent.map((s) => `${s.text}:${s.mode}`)).toEqual(['AWAS 1:text', 'AWAS 2:text', 'AWAS 3:text']);
  });

  it('an unplugged modem is a MODEM_PORT error; plugged back in, sending resumes', async () => {
    const ch = await setup();
    await ch.send(sms('AWAS 1'));
    await sim.close();
    await pair.close();
    await until(() => ch.health().state === 'failed');
    const e = await failure(ch.send(sms('AWAS 2')));
    expect(['MODEM_PORT', 'MODEM_TIMEOUT']).toContain(e.code);
    pair = await openPtyPair(dir, 'modem');
    sim = await startModemSimulator(pair.devicePath);
    await ch.send(sms('AWAS 3'));
    expect(sim.sent.map((s) => s.text)).toEqual(['AWAS 3']);
  });

  it('rejects a message without recipient or with a bad number without touching the modem', async () => {
    const ch = await setup();
    expect((await failure(ch.send({ dedupeKey: 'k', payload: {} as OutboundNotification['payload'] }))).code).toBe('NO_RECIPIENT');
    const e = await failure(ch.send(sms('AWAS', '+62812";ATD112;')));
    expect([e.code, e.retryable]).toEqual(['MODEM_BAD_NUMBER', false]);
    expect(sim.commands.some((c) => c.includes('ATD'))).toBe(false);
  });
});
