/**
 * A GSM modem simulator on a real serial port (one end of a pseudo-terminal pair, see
 * src/pty/pty-pair.ts). It speaks the AT dialogue of SIM800-class modules (3GPP TS 27.007 and
 * 27.005): `AT`, `ATE0/1`, `AT+CMEE`, `AT+CPIN`, `AT+CSQ`, `AT+CREG?`, `AT+CMGF`, `AT+CSMP`,
 * `AT+CNMI`, `AT+CMGS` in text and PDU mode (`> ` prompt, Ctrl-Z ends, ESC cancels), `AT+CMGR`,
 * `AT+CMGD`; delivery reports (`+CDS`) and incoming SMS (`+CMTI`).
 *
 * Faults, switchable at any time through `state`: SIM missing (`+CME ERROR: 10`, sends
 * `+CMS ERROR: 310`), PIN required, no network (`+CREG: 0,0`, sends `+CMS ERROR: 331`), no
 * credit (sends `+CMS ERROR: 500` or an operator-specific code), a modem that stops answering,
 * and raw bytes (`emitRaw`) or unsolicited codes before each reply (`noiseBeforeReply`).
 */
import { SerialPort } from 'serialport';
import { decodeSubmit, encodeDeliver, encodeStatusReport } from './sms-pdu.ts';

export interface ModemState {
  sim: 'ready' | 'missing' | 'pin';
  pin: string;
  network: 'home' | 'roaming' | 'none' | 'searching';
  /** false: every send fails with `failCode`. */
  credit: boolean;
  failCode: number;
  /** `+CSQ` rssi. */
  rssi: number;
  /** Stop answering (a wedged modem). */
  silent: boolean;
  /** Delivery report status for sent messages (0 delivered, 0x40+ failed). */
  reportStatus: number;
  /** Written before every reply line block (unsolicited codes mid-command). */
  noiseBeforeReply: string;
}

/** One SMS as the network got it (parts joined). */
export interface SentSms {
  to: string;
  text: string;
  mode: 'text' | 'pdu';
  ucs2: boolean;
  parts: number;
}

export interface ModemSimulator {
  state: ModemState;
  readonly sent: SentSms[];
  /** Every command line received (for tests of the dialogue). */
  readonly commands: string[];
  /** Puts an incoming SMS on the SIM and announces it (`+CMTI: "SM",<index>`). */
  injectSms(from: string, text: string): number;
  /** Writes raw bytes to the host. */
  emitRaw(text: string): void;
  /** Messages still stored on the simulated SIM. */
  readonly stored: ReadonlyMap<number, { from: string; text: string }>;
  close(): Promise<void>;
}

export const DEFAULT_MODEM_STATE: ModemState = {
  sim: 'ready',
  pin: '1234',
  network: 'home',
  credit: true,
  failCode: 500,
  rssi: 20,
  silent: false,
  reportStatus: 0,
  noiseBeforeReply: '',
};

/** Opens `devicePath` (the device end of a pty pair) and answers AT commands on it. */
export async function startModemSimulator(devicePath: string, initial: Partial<ModemState> = {}): Promise<ModemSimulator> {
  const port = new SerialPort({ path: devicePath, baudRate: 9600, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('error', () => undefined);
  const state: ModemState = { ...DEFAULT_MODEM_STATE, ...initial };
  const sent: SentSms[] = [];
  const commands: string[] = [];
  const stored = new Map<number, { from: string; text: string }>();
  const partial = new Map<string, (string | undefined)[]>();
  let echo = true;
  let cmee = 0;
  let cmgf = 0;
  let ds = 0;
  let mr = 0;
  let nextIndex = 1;
  let buf = '';
  /** Set while waiting for the message body after the `> ` prompt. */
  let prompt: { kind: 'text'; to: string } | { kind: 'pdu'; length: number } | null = null;

  const write = (s: string) => {
    if (!state.silent) port.write(s, 'latin1');
  };
  const reply = (...lines: string[]) => write(state.noiseBeforeReply + lines.map((l) => `\r\n${l}\r\n`).join(''));
  const cme = (n: number) => reply(cmee ? `+CME ERROR: ${n}` : 'ERROR');
  const cms = (n: number) => reply(`+CMS ERROR: ${n}`);
  const registered = () => state.sim === 'ready' && (state.network === 'home' || state.network === 'roaming');

  function sendFailure(): number | null {
    if (state.sim !== 'ready') return 310;
    if (!registered()) return 331;
    if (!state.credit) return state.failCode;
    return null;
  }

  function accept(to: string, srr: boolean): number {
    mr = (mr + 1) & 0xff;
    const ref = mr;
    if (srr && ds === 1) {
      setTimeout(() => {
        if (cmgf === 0) {
          const pdu = encodeStatusReport(ref, to, state.reportStatus);
          write(`\r\n+CDS: ${(pdu.length - 2) / 2}\r\n${pdu}\r\n`);
        } else {
          write(`\r\n+CDS: 6,${ref},"${to}",145,"26/11/28,09:00:00+28","26/11/28,09:00:05+28",${state.reportStatus}\r\n`);
        }
      }, 20);
    }
    return ref;
  }

  function onBody(body: string): void {
    const p = prompt!;
    prompt = null;
    const fail = sendFailure();
    if (p.kind === 'text') {
      if (fail !== null) return cms(fail);
      sent.push({ to: p.to, text: body.replace(/\r/g, '\n'), mode: 'text', ucs2: false, parts: 1 });
      return reply(`+CMGS: ${accept(p.to, csmpSrr)}`, 'OK');
    }
    let d;
    try {
      d = decodeSubmit(body.trim());
    } catch {
      return cms(304);
    }
    if (d.tpduLength !== p.length) return cms(304);
    if (fail !== null) return cms(fail);
    const ref = accept(d.to, d.statusReport);
    if (!d.concat) sent.push({ to: d.to, text: d.text, mode: 'pdu', ucs2: d.ucs2, parts: 1 });
    else {
      const key = `${d.to}:${d.concat.reference}`;
      const parts = partial.get(key) ?? new Array<string | undefined>(d.concat.total).fill(undefined);
      parts[d.concat.seq - 1] = d.text;
      partial.set(key, parts);
      if (parts.every((x) => x !== undefined)) {
        partial.delete(key);
        sent.push({ to: d.to, text: parts.join(''), mode: 'pdu', ucs2: d.ucs2, parts: parts.length });
      }
    }
    reply(`+CMGS: ${ref}`, 'OK');
  }

  let csmpSrr = false;

  function onCommand(line: string): void {
    commands.push(line);
    if (echo) write(`${line}\r`);
    const u = line.toUpperCase();
    let m: RegExpExecArray | null;
    if (u === 'AT') return reply('OK');
    if ((m = /^ATE([01])$/.exec(u))) {
      echo = m[1] === '1';
      return reply('OK');
    }
    if ((m = /^AT\+CMEE=([012])$/.exec(u))) {
      cmee = Number(m[1]);
      return reply('OK');
    }
    if (u === 'AT+CPIN?') {
      if (state.sim === 'missing') return cme(10);
      return reply(state.sim === 'pin' ? '+CPIN: SIM PIN' : '+CPIN: READY', 'OK');
    }
    if ((m = /^AT\+CPIN="?(\d+)"?$/.exec(u))) {
      if (state.sim === 'missing') return cme(10);
      if (m[1] !== state.pin) return cme(16);
      state.sim = 'ready';
      return reply('OK');
    }
    if (u === 'AT+CSQ') return reply(`+CSQ: ${registered() ? state.rssi : 99},0`, 'OK');
    if (u === 'AT+CREG?') {
      const stat = !registered() ? (state.network === 'searching' ? 2 : 0) : state.network === 'home' ? 1 : 5;
      return reply(`+CREG: 0,${stat}`, 'OK');
    }
    if ((m = /^AT\+CMGF=([01])$/.exec(u))) {
      cmgf = Number(m[1]);
      return reply('OK');
    }
    if ((m = /^AT\+CSMP=(\d+),/.exec(u))) {
      csmpSrr = (Number(m[1]) & 0x20) !== 0;
      return reply('OK');
    }
    if ((m = /^AT\+CNMI=\d,\d,\d,(\d),\d$/.exec(u))) {
      ds = Number(m[1]);
      return reply('OK');
    }
    if ((m = /^AT\+CMGS="(\+?\d{3,20})"$/.exec(u)) && cmgf === 1) {
      prompt = { kind: 'text', to: m[1]! };
      return write('\r\n> ');
    }
    if ((m = /^AT\+CMGS=(\d{1,3})$/.exec(u)) && cmgf === 0) {
      prompt = { kind: 'pdu', length: Number(m[1]) };
      return write('\r\n> ');
    }
    if ((m = /^AT\+CMGR=(\d+)$/.exec(u))) {
      const msg = stored.get(Number(m[1]));
      if (!msg) return cms(321);
      if (cmgf === 0) {
        const pdu = encodeDeliver(msg.from, msg.text);
        return reply(`+CMGR: 0,,${(pdu.length - 2) / 2}`, pdu, 'OK');
      }
      return reply(`+CMGR: "REC UNREAD","${msg.from}",,"26/11/28,09:00:00+28"`, msg.text, 'OK');
    }
    if ((m = /^AT\+CMGD=(\d+)/.exec(u))) {
      stored.delete(Number(m[1]));
      return reply('OK');
    }
    reply('ERROR');
  }

  port.on('data', (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    for (;;) {
      if (prompt) {
        const end = buf.search(/[\u001a\u001b]/);
        if (end < 0) {
          if (buf.length > 4096) buf = '';
          return;
        }
        const body = buf.slice(0, end);
        const cancelled = buf[end] === '\u001b';
        buf = buf.slice(end + 1);
        if (cancelled) {
          prompt = null;
          reply('OK');
        } else onBody(body);
        continue;
      }
      const cr = buf.search(/[\r\n]/);
      if (cr < 0) {
        if (buf.length > 4096) buf = '';
        return;
      }
      const line = buf.slice(0, cr).trim();
      buf = buf.slice(cr + 1);
      if (line.length > 0) onCommand(line);
    }
  });

  return {
    state,
    sent,
    commands,
    stored,
    injectSms(from, text) {
      const index = nextIndex++;
      stored.set(index, { from, text });
      write(`\r\n+CMTI: "SM",${index}\r\n`);
      return index;
    },
    emitRaw: (text) => port.write(text, 'latin1'),
    close: () => new Promise<void>((res) => (port.isOpen ? port.close(() => res()) : res())),
  };
}
