/**
 * The GSM modem channel: SMS through a modem on a serial port with AT commands (3GPP TS 27.005),
 * so warnings go out when the internet is down.
 *
 * Init (on the first send, or `start()`): `AT` (sync), `ATE0`, `AT+CMEE=1` (numeric errors),
 * `AT+CPIN?` (SIM; the PIN is sent if asked and configured), `AT+CSQ` (signal), `AT+CREG?`
 * (registration), `AT+CMGF=0`, `AT+CSMP` (delivery reports in text mode), `AT+CNMI=2,1,0,1,0`
 * (new SMS announced as `+CMTI`, delivery reports as `+CDS`).
 *
 * Sending: GSM-7 text that is safe in text mode and fits one SMS goes in text mode
 * (`AT+CMGF=1`, `AT+CMGS="+62…"`, text, Ctrl-Z); anything else (Unicode, `@`, long text) in PDU
 * mode, UCS-2 where needed, split into concatenated parts. A multipart message that fails
 * half-way is retried whole (at least once: the first parts may arrive twice).
 *
 * Incoming SMS (`+CMTI`): read in PDU mode, deleted from the SIM; `STOP` or `BERHENTI` calls
 * `onStopRequest(phone)`. Phone numbers are never logged.
 */
import type { Logger } from 'pino';
import type { ChannelConfig } from '../../../config/schema.ts';
import { NotifyError, type ChannelContext, type ChannelHealth, type NotificationChannel, type OutboundNotification } from '../../channel.ts';
import { ErrorCounter } from '../error-counter.ts';
import { AtSession, type AtCommand, type AtPort } from './at-session.ts';
import { modemError } from './errors.ts';
import { isTextModeSafe } from './gsm7.ts';
import { decodeDeliver, decodeStatusReport, encodeSubmit } from './pdu.ts';
import { openSerialAtPort, type ClosableAtPort } from './serial-port.ts';

export type GsmModemConfig = Extract<ChannelConfig, { kind: 'gsm-modem' }>;

/** Opens the modem's port; tests may pass another opener, the default is serialport 13. */
export type PortOpener = (path: string, baudRate: number, onClose: () => void) => Promise<ClosableAtPort>;

export interface ModemHealth extends ChannelHealth {
  state: 'closed' | 'ready' | 'failed';
  sim: 'unknown' | 'ready' | 'missing' | 'pin';
  /** `+CREG` stat: 1 home, 5 roaming (registered); 0, 2, 3, 4 not. */
  registration: number | null;
  registered: boolean;
  /** `+CSQ` rssi 0-31 (99 unknown) and the same in dBm (-113 + 2 * rssi). */
  signalRssi: number | null;
  signalDbm: number | null;
  sent: number;
  partsSent: number;
  deliveredReports: number;
  failedReports: number;
  incoming: number;
  stopRequests: number;
  garbageLines: number;
  overlongLines: number;
  timeouts: number;
}

const STOP_WORDS = /^\W*(STOP|BERHENTI)\b/i;
/** Registration older than this is checked again before a send. */
const REGISTRATION_MAX_AGE_MS = 30_000;

export interface GsmModemChannel extends NotificationChannel {
  health(): ModemHealth;
  start(): void;
  close(): Promise<void>;
}

export function createGsmModemChannel(
  config: GsmModemConfig,
  ctx: Pick<ChannelContext, 'logger' | 'now' | 'onStopRequest'>,
  openPort: PortOpener = openSerialAtPort,
): GsmModemChannel {
  const log: Logger = ctx.logger.child({ channelId: config.id });
  const errors = new ErrorCounter();
  const h = {
    state: 'closed' as ModemHealth['state'],
    sim: 'unknown' as ModemHealth['sim'],
    registration: null as number | null,
    signalRssi: null as number | null,
    sent: 0,
    partsSent: 0,
    deliveredReports: 0,
    failedReports: 0,
    incoming: 0,
    stopRequests: 0,
  };
  let port: ClosableAtPort | null = null;
  let session: AtSession | null = null;
  let opening: Promise<AtSession> | null = null;
  let mode: 0 | 1 | null = null;
  let registeredAt = 0;
  let reference = 0;
  let closed = false;

  // Sending and reading an incoming SMS are multi-command dialogues that switch the message
  // mode: they run one after the other, never interleaved.
  let lock: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = lock.then(fn);
    lock = p.catch(() => undefined);
    return p;
  }

  const cmd = (command: AtCommand) => {
    if (!session) return Promise.reject(new NotifyError('MODEM_PORT', 'modem port not open'));
    return session.run(command);
  };
  const at = (c: string, prefixes?: string[]) => cmd({ cmd: c, timeoutMs: config.commandTimeoutMs, ...(prefixes ? { prefixes } : {}) });

  function onUnsolicited(line: string, pdu?: string): void {
    if (line.startsWith('+CMTI:')) {
      const index = /,\s*(\d+)/.exec(line)?.[1];
      if (index !== undefined) void exclusive(() => readIncoming(Number(index)));
    } else if (line.startsWith('+CDS:')) {
      try {
        let delivered: boolean;
        if (pdu !== undefined) delivered = decodeStatusReport(pdu).delivered;
        else delivered = Number(/,\s*(\d+)\s*$/.exec(line)?.[1] ?? 255) < 0x20;
        if (delivered) h.deliveredReports++;
        else h.failedReports++;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'unreadable delivery report');
      }
    }
  }

  async function readIncoming(index: number): Promise<void> {
    try {
      await setMode(0);
      const lines = await cmd({ cmd: `AT+CMGR=${index}`, timeoutMs: config.commandTimeoutMs, prefixes: ['+CMGR:'], rawLines: true });
      await at(`AT+CMGD=${index}`).catch(() => undefined);
      const pdu = lines[1];
      if (pdu === undefined) return;
      const msg = decodeDeliver(pdu);
      h.incoming++;
      if (STOP_WORDS.test(msg.text)) {
        h.stopRequests++;
        log.info({ index }, 'STOP request received');
        ctx.onStopRequest?.(msg.from);
      }
    } catch (err) {
      errors.count(modemError(err, 'reading an incoming SMS'));
      log.warn({ index, err: (err as Error).message }, 'incoming SMS not read');
    }
  }

  async function setMode(m: 0 | 1): Promise<void> {
    if (mode === m) return;
    mode = null;
    await at(`AT+CMGF=${m}`);
    mode = m;
  }

  async function checkRegistration(): Promise<void> {
    // Pick the answer's own line: an unsolicited `+CREG: <stat>` may arrive in the middle.
    const csq = (await at('AT+CSQ', ['+CSQ:'])).find((l) => /^\+CSQ:\s*\d+\s*,/.test(l));
    const rssi = Number(/\+CSQ:\s*(\d+)/.exec(csq ?? '')?.[1]);
    h.signalRssi = Number.isFinite(rssi) ? rssi : null;
    const creg = (await at('AT+CREG?', ['+CREG:'])).find((l) => /^\+CREG:\s*\d+\s*,\s*\d+/.test(l));
    const stat = Number(/\+CREG:\s*\d+\s*,\s*(\d+)/.exec(creg ?? '')?.[1]);
    h.registration = Number.isFinite(stat) ? stat : null;
    registeredAt = ctx.now().getTime();
  }

  const isRegistered = () => h.registration === 1 || h.registration === 5;

  async function init(s: AtSession): Promise<AtSession> {
    session = s;
    mode = null;
    // Stray answers (to a command that timed out, or boot messages) must not shift the dialogue.
    await s.drain(150);
    // A modem that just powered up may miss the first AT.
    let synced = false;
    for (let i = 0; i < 3 && !synced; i++) synced = await at('AT').then(() => true, () => false);
    if (!synced) throw new NotifyError('MODEM_TIMEOUT', 'modem does not answer AT');
    await at('ATE0');
    await at('AT+CMEE=1');
    let pin: string;
    try {
      pin = (await at('AT+CPIN?', ['+CPIN:']))[0] ?? '';
    } catch (err) {
      const e = modemError(err, 'the SIM check');
      if (e.code === 'MODEM_NO_SIM') h.sim = 'missing';
      throw e;
    }
    if (/SIM PIN/.test(pin)) {
      h.sim = 'pin';
      if (config.pin === undefined) throw new NotifyError('MODEM_SIM_PIN', 'SIM asks for a PIN and none is configured', { retryable: false });
      await at(`AT+CPIN="${config.pin}"`);
    } else if (!/READY/.test(pin)) {
      h.sim = 'pin';
      throw new NotifyError('MODEM_SIM_PIN', 'SIM is locked (PUK or other code)', { retryable: false });
    }
    h.sim = 'ready';
    await checkRegistration();
    await setMode(0);
    // First octet 49 = SUBMIT, relative validity, status report requested; 167 = 24 h validity.
    await at(`AT+CSMP=${config.deliveryReports ? 49 : 17},167,0,0`).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'AT+CSMP refused'));
    await at(`AT+CNMI=2,1,0,${config.deliveryReports ? 1 : 0},0`);
    h.state = 'ready';
    log.info({ rssi: h.signalRssi, registration: h.registration }, 'modem ready');
    return s;
  }

  function drop(): void {
    session?.close();
    session = null;
    opening = null;
    mode = null;
    const p = port;
    port = null;
    if (p) void p.close().catch(() => undefined);
  }

  function ready(): Promise<AtSession> {
    if (closed) return Promise.reject(new NotifyError('CHANNEL_CLOSED', 'channel closed'));
    if (session && h.state === 'ready') return Promise.resolve(session);
    opening ??= (async () => {
      try {
        if (!port) {
          port = await openPort(config.path, config.baudRate, () => {
            log.warn('modem port closed');
            h.state = 'failed';
            drop();
          });
        }
        const s = session ?? new AtSession(port, onUnsolicited);
        const out = await init(s);
        opening = null;
        return out;
      } catch (err) {
        h.state = 'failed';
        const e = modemError(err, 'init');
        opening = null;
        // A broken port is reopened next time; a silent modem is re-synced (`AT`) on the same port.
        if (e.code === 'MODEM_PORT') drop();
        throw e;
      }
    })();
    return opening;
  }

  async function sendOne(recipient: NonNullable<OutboundNotification['recipient']>): Promise<void> {
    if (!isRegistered() || ctx.now().getTime() - registeredAt > REGISTRATION_MAX_AGE_MS) await checkRegistration();
    if (!isRegistered()) throw new NotifyError('MODEM_NO_NETWORK', `modem not registered (CREG ${h.registration ?? '?'})`);
    const { address, text } = recipient;
    if (!/^\+?\d{3,20}$/.test(address)) throw new NotifyError('MODEM_BAD_NUMBER', 'not a phone number', { retryable: false });
    if (isTextModeSafe(text) && text.length <= 160) {
      await setMode(1);
      await cmd({ cmd: `AT+CMGS="${address}"`, payload: text, timeoutMs: config.sendTimeoutMs, prefixes: ['+CMGS:'] });
      h.partsSent++;
      return;
    }
    reference = (reference + 1) & 0xff;
    const pdus = encodeSubmit(address, text, { statusReport: config.deliveryReports, reference, maxParts: config.maxParts });
    await setMode(0);
    for (const pdu of pdus) {
      await cmd({ cmd: `AT+CMGS=${pdu.tpduLength}`, payload: pdu.hex, timeoutMs: config.sendTimeoutMs, prefixes: ['+CMGS:'] });
      h.partsSent++;
    }
  }

  return {
    id: config.id,
    kind: 'gsm-modem',
    maxAttempts: config.maxAttempts,
    async send({ recipient }) {
      try {
        if (!recipient) throw new NotifyError('NO_RECIPIENT', 'gsm-modem needs a recipient', { retryable: false });
        await exclusive(async () => {
          await ready();
          await sendOne(recipient);
        });
        h.sent++;
      } catch (err) {
        const e = modemError(err, 'sending');
        // After a timeout the modem state is unknown: run the init sequence again next time.
        if (e.code === 'MODEM_TIMEOUT') h.state = 'failed';
        if (e.code === 'MODEM_PORT') drop();
        if (e.code === 'MODEM_NO_SIM') h.sim = 'missing';
        errors.count(e);
        throw e;
      }
    },
    start() {
      closed = false;
      ready().catch((err: unknown) => log.warn({ code: (err as NotifyError).code }, 'modem not ready at start'));
    },
    async close() {
      closed = true;
      h.state = 'closed';
      session?.close();
      session = null;
      const p = port;
      port = null;
      await p?.close().catch(() => undefined);
    },
    health() {
      const c = session?.counters;
      return {
        errors: errors.snapshot(),
        ...h,
        registered: isRegistered(),
        signalDbm: h.signalRssi === null || h.signalRssi === 99 ? null : -113 + 2 * h.signalRssi,
        garbageLines: c?.garbageLines ?? 0,
        overlongLines: c?.overlongLines ?? 0,
        timeouts: c?.timeouts ?? 0,
      };
    },
  };
}

export type { AtPort };
