/**
 * The AT dialogue with a modem (3GPP TS 27.007 / 27.005): one command at a time, each with a
 * timeout; final result codes `OK`, `ERROR`, `+CME ERROR: n`, `+CMS ERROR: n`; the `> ` prompt
 * of `AT+CMGS`; unsolicited result codes (`+CMTI`, `+CDS`, `RING`…) handed to a callback even in
 * the middle of a command. Lines are bounded: garbage, overlong lines and unexpected lines are
 * counted and dropped, never fatal.
 */

/** What the session needs from a serial port. */
export interface AtPort {
  write(data: string): void;
  /** Registers the byte listener; returns nothing. */
  onData(fn: (chunk: Buffer) => void): void;
}

/** A final error result. `kind` says which family; `code` is the number (-1 for plain ERROR). */
export class AtError extends Error {
  constructor(
    readonly kind: 'ERROR' | 'CME' | 'CMS' | 'TIMEOUT' | 'CLOSED',
    readonly atCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'AtError';
  }
}

export interface AtCommand {
  /** Command without the trailing CR, e.g. `AT+CSQ`. */
  cmd: string;
  timeoutMs: number;
  /** Information lines with these prefixes belong to the command (e.g. `+CSQ:`), others are unsolicited. */
  prefixes?: readonly string[];
  /** Also collect lines without a `+` prefix (PDU lines after `+CMGR:`). */
  rawLines?: boolean;
  /** Sent after the `> ` prompt, followed by Ctrl-Z (0x1A). */
  payload?: string;
}

/** Unsolicited codes; a `+CDS`/`+CMT` header is followed by one PDU line. */
const URC_PREFIXES = ['+CMTI:', '+CDS:', '+CDSI:', '+CMT:', 'RING', '+CREG:', '+CLIP:', 'NO CARRIER', '+CUSD:', '+CPIN:', 'Call Ready', 'SMS Ready', 'RDY'];
const URC_WITH_PDU = ['+CDS:', '+CMT:'];
/** Longest line kept; a modem line is far shorter (a PDU line is at most ~360 hex digits). */
export const MAX_LINE = 1024;

export interface AtCounters {
  garbageLines: number;
  overlongLines: number;
  unsolicited: number;
  timeouts: number;
}

interface Pending {
  command: AtCommand;
  lines: string[];
  resolve(lines: string[]): void;
  reject(err: AtError): void;
  timer: NodeJS.Timeout;
  waitingPrompt: boolean;
}

export class AtSession {
  private buf = '';
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private urcPdu: string | null = null;
  private closed = false;
  private lastDataAt = 0;
  readonly counters: AtCounters = { garbageLines: 0, overlongLines: 0, unsolicited: 0, timeouts: 0 };

  constructor(
    private readonly port: AtPort,
    /** An unsolicited line; for `+CDS:`/`+CMT:` with the PDU line that followed. */
    private readonly onUnsolicited: (line: string, pdu?: string) => void,
  ) {
    port.onData((chunk) => this.onData(chunk));
  }

  /** Runs a command after the ones before it; resolves with its information lines. */
  run(command: AtCommand): Promise<string[]> {
    const p = this.queue.then(() => this.exec(command));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Waits until the line has been quiet for `quietMs` (at most `maxMs`), dropping what arrives:
   * late answers to a timed-out command would otherwise be taken as answers to the next ones.
   */
  drain(quietMs: number, maxMs = 1000): Promise<void> {
    const p = this.queue.then(
      () =>
        new Promise<void>((resolve) => {
          const start = Date.now();
          let last = this.lastDataAt;
          const tick = () => {
            if (this.lastDataAt !== last) last = this.lastDataAt;
            if (Date.now() - Math.max(last, start) >= quietMs || Date.now() - start >= maxMs) {
              this.buf = '';
              resolve();
            } else setTimeout(tick, Math.min(quietMs, 25));
          };
          setTimeout(tick, Math.min(quietMs, 25));
        }),
    );
    this.queue = p;
    return p;
  }

  /** Fails the running command and every later one. */
  close(): void {
    this.closed = true;
    if (this.pending) this.finish(new AtError('CLOSED', -1, 'port closed'));
  }

  private exec(command: AtCommand): Promise<string[]> {
    if (this.closed) return Promise.reject(new AtError('CLOSED', -1, 'port closed'));
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counters.timeouts++;
        if (command.payload !== undefined && this.pending?.waitingPrompt) {
          // ESC cancels a half-entered message so the modem is ready for the next command.
          this.port.write('\u001b');
        }
        this.finish(new AtError('TIMEOUT', -1, `no answer to ${command.cmd.slice(0, 12)} within ${command.timeoutMs} ms`));
      }, command.timeoutMs);
      this.pending = { command, lines: [], resolve, reject, timer, waitingPrompt: command.payload !== undefined };
      this.port.write(`${command.cmd}\r`);
    });
  }

  private finish(result: string[] | AtError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    if (result instanceof AtError) p.reject(result);
    else p.resolve(result);
  }

  private onData(chunk: Buffer): void {
    this.lastDataAt = Date.now();
    this.buf += chunk.toString('latin1');
    for (;;) {
      const p = this.pending;
      if (p?.waitingPrompt) {
        const m = /^[\r\n]*> ?/.exec(this.buf);
        if (m) {
          this.buf = this.buf.slice(m[0].length);
          p.waitingPrompt = false;
          this.port.write(`${p.command.payload ?? ''}\u001a`);
          continue;
        }
      }
      const nl = this.buf.search(/[\r\n]/);
      if (nl < 0) {
        if (this.buf.length > MAX_LINE) {
          this.counters.overlongLines++;
          this.buf = '';
        }
        return;
      }
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line.length === 0) continue;
      if (line.length > MAX_LINE) {
        this.counters.overlongLines++;
        continue;
      }
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (this.urcPdu !== null) {
      const header = this.urcPdu;
      this.urcPdu = null;
      if (/^[0-9A-Fa-f]+$/.test(line)) {
        this.counters.unsolicited++;
        this.onUnsolicited(header, line);
        return;
      }
      // Text-mode +CDS has no PDU line: the header alone is the report.
      this.counters.unsolicited++;
      this.onUnsolicited(header);
    }
    const p = this.pending;
    if (p) {
      if (line === 'OK') return this.finish(p.lines);
      if (line === 'ERROR') return this.finish(new AtError('ERROR', -1, 'ERROR'));
      const err = /^\+(CME|CMS) ERROR:\s*(\d+)/.exec(line);
      if (err) return this.finish(new AtError(err[1] as 'CME' | 'CMS', Number(err[2]), line));
      // Echo before ATE0 took effect.
      if (line === p.command.cmd) return;
      if (p.command.prefixes?.some((x) => line.startsWith(x))) {
        p.lines.push(line);
        return;
      }
      if (p.command.rawLines && !line.startsWith('+') && p.lines.length > 0) {
        p.lines.push(line);
        return;
      }
    }
    if (URC_PREFIXES.some((x) => line.startsWith(x))) {
      if (URC_WITH_PDU.some((x) => line.startsWith(x)) && /^\+(CDS|CMT):\s*(?:"[^"]*")?\s*,?\s*\d+\s*$/.test(line)) {
        // PDU-mode header `+CDS: <length>`: the PDU is on the next line.
        this.urcPdu = line;
        return;
      }
      this.counters.unsolicited++;
      this.onUnsolicited(line);
      return;
    }
    this.counters.garbageLines++;
  }
}
