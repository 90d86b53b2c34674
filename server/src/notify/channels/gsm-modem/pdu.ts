/**
 * SMS PDUs (3GPP TS 23.040): SMS-SUBMIT encoding for sending, SMS-DELIVER and SMS-STATUS-REPORT
 * decoding for incoming messages and delivery reports. Hex strings as the modem takes them in
 * PDU mode (`AT+CMGF=0`, 3GPP TS 27.005 §3).
 *
 * Long text is split into parts with a concatenation user data header (UDH IE 0x00, 8-bit
 * reference): 153 GSM-7 septets or 67 UCS-2 characters per part (140 octets minus the 6-octet
 * header). A GSM-7 escape pair or a UTF-16 surrogate pair is never split across parts.
 */
import { fromSeptets, packSeptets, toSeptets, unpackSeptets } from './gsm7.ts';

export class PduError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PduError';
  }
}

export interface SubmitPdu {
  /** Hex of SCA (`00`: the SIM's service centre) + TPDU. */
  hex: string;
  /** TPDU octets, the number `AT+CMGS=<n>` wants (without the SCA). */
  tpduLength: number;
}

export interface EncodeOptions {
  /** Ask for a delivery report (TP-SRR). */
  statusReport?: boolean;
  /** Concatenation reference (0-255), the same in every part of one message. */
  reference?: number;
  /** Most parts; longer text is cut (and ends with "…" in UCS-2 / "..." in GSM-7). */
  maxParts?: number;
  /** Force UCS-2 even for GSM-7 text. */
  ucs2?: boolean;
}

/** Semi-octet swapped digits, padded with F (TS 23.040 §9.1.2.3). */
function swapDigits(digits: string): string {
  const d = digits.length % 2 === 1 ? `${digits}F` : digits;
  let out = '';
  for (let i = 0; i < d.length; i += 2) out += d[i + 1]! + d[i]!;
  return out;
}

function encodeAddress(number: string): string {
  const international = number.startsWith('+');
  const digits = number.replace(/^\+/, '');
  if (!/^\d{1,20}$/.test(digits)) throw new PduError('destination must be digits, optionally with a leading +');
  return hex8(digits.length) + (international ? '91' : '81') + swapDigits(digits);
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Splits septets at `size`, never between an escape and its code. */
function splitSeptets(septets: number[], size: number): number[][] {
  const parts: number[][] = [];
  let i = 0;
  while (i < septets.length) {
    let end = Math.min(i + size, septets.length);
    if (end < septets.length && septets[end - 1] === 0x1b) end--;
    parts.push(septets.slice(i, end));
    i = end;
  }
  return parts;
}

/** Splits UTF-16 code units at `size`, never inside a surrogate pair. */
function splitUnits(text: string, size: number): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(i, end));
    i = end;
  }
  return parts;
}

/** True when the text needs UCS-2 (a character outside the GSM-7 alphabets). */
export function needsUcs2(text: string): boolean {
  return toSeptets(text) === null;
}

/** SMS-SUBMIT PDUs for `text` to `to` (E.164 `+62…` or national digits). */
export function encodeSubmit(to: string, text: string, opts: EncodeOptions = {}): SubmitPdu[] {
  const maxParts = opts.maxParts ?? 4;
  const ref = (opts.reference ?? 0) & 0xff;
  const septets = opts.ucs2 ? null : toSeptets(text);
  let chunks: { udl: number; ud: Buffer; fill: number }[];
  let dcs: string;
  if (septets) {
    dcs = '00';
    if (septets.length <= 160) chunks = [{ udl: septets.length, ud: packSeptets(septets), fill: 0 }];
    else {
      let body = septets;
      if (body.length > maxParts * 153) {
        body = body.slice(0, maxParts * 153 - 3);
        if (body[body.length - 1] === 0x1b) body.pop();
        body.push(0x2e, 0x2e, 0x2e);
      }
      const parts = splitSeptets(body, 153);
      // 6 UDH octets = 48 bits; one fill bit puts the text on the 7th septet boundary.
      chunks = parts.map((p) => ({ udl: 7 + p.length, ud: packSeptets(p, 1), fill: 1 }));
    }
  } else {
    dcs = '08';
    if (text.length <= 70) chunks = [{ udl: text.length * 2, ud: Buffer.from(text, 'utf16le').swap16(), fill: 0 }];
    else {
      let parts = splitUnits(text, 67);
      if (parts.length > maxParts) {
        parts = parts.slice(0, maxParts);
        parts[maxParts - 1] = `${splitUnits(parts[maxParts - 1]!, 66)[0]!}…`;
      }
      chunks = parts.map((p) => ({ udl: 6 + p.length * 2, ud: Buffer.from(p, 'utf16le').swap16(), fill: 0 }));
    }
  }
  const multipart = chunks.length > 1;
  const total = chunks.length;
  return chunks.map((c, i) => {
    // TP-MTI SUBMIT (01), TP-VPF relative (10), TP-SRR, TP-UDHI.
    const first = 0x01 | 0x10 | (opts.statusReport ? 0x20 : 0) | (multipart ? 0x40 : 0);
    const udh = multipart ? `050003${hex8(ref)}${hex8(total)}${hex8(i + 1)}` : '';
    // Validity 0xA7 = 24 h: a warning older than a day is worse than none.
    const tpdu = `${hex8(first)}00${encodeAddress(to)}00${dcs}A7${hex8(c.udl)}`;
    // For GSM-7 the text was packed after one fill bit, so after the 6 header octets it starts
    // on septet boundary 7 (bit 49), as TS 23.040 §9.2.3.24 requires.
    const hex = `00${tpdu}${udh}${c.ud.toString('hex').toUpperCase()}`;
    return { hex, tpduLength: (hex.length - 2) / 2 };
  });
}

/** An incoming SMS (SMS-DELIVER). */
export interface DeliverPdu {
  /** `+62…` for international numbers, else the digits/alphanumeric as sent. */
  from: string;
  text: string;
  /** Concatenation info when the message is one part of several. */
  part?: { reference: number; total: number; seq: number };
}

class Reader {
  i = 0;
  constructor(readonly b: Buffer) {}
  u8(): number {
    const v = this.b[this.i++];
    if (v === undefined) throw new PduError('PDU too short');
    return v;
  }
  take(n: number): Buffer {
    if (this.i + n > this.b.length) throw new PduError('PDU too short');
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
}

function parseHex(hex: string): Buffer {
  const clean = hex.trim();
  if (clean.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(clean) || clean.length > 1024) throw new PduError('not a hex PDU');
  return Buffer.from(clean, 'hex');
}

function readAddress(r: Reader): string {
  const digits = r.u8();
  const type = r.u8();
  const octets = r.take(Math.ceil(digits / 2));
  if ((type & 0x70) === 0x50) {
    // Alphanumeric sender (TON 101): GSM-7 packed.
    return fromSeptets(unpackSeptets(octets, Math.floor((digits * 4) / 7)));
  }
  let s = '';
  for (const o of octets) s += (o & 0x0f).toString(16) + (o >> 4).toString(16);
  s = s.slice(0, digits).toUpperCase();
  return (type & 0x70) === 0x10 ? `+${s}` : s;
}

function skipSca(r: Reader): void {
  r.take(r.u8());
}

/** Decodes an SMS-DELIVER PDU as the modem shows it (`+CMGR` in PDU mode). Throws `PduError`. */
export function decodeDeliver(hex: string): DeliverPdu {
  const r = new Reader(parseHex(hex));
  skipSca(r);
  const first = r.u8();
  if ((first & 0x03) !== 0x00) throw new PduError('not an SMS-DELIVER');
  const from = readAddress(r);
  r.u8(); // PID
  const dcs = r.u8();
  r.take(7); // service centre time stamp
  const udl = r.u8();
  const rest = r.b.subarray(r.i);
  let headerOctets = 0;
  let part: DeliverPdu['part'];
  if (first & 0x40) {
    const udhl = rest[0];
    if (udhl === undefined) throw new PduError('PDU too short');
    headerOctets = udhl + 1;
    if (rest[1] === 0x00 && rest[2] === 0x03 && rest.length >= 6) part = { reference: rest[3]!, total: rest[4]!, seq: rest[5]! };
  }
  const alphabet = (dcs & 0xc0) === 0 ? (dcs >> 2) & 0x03 : (dcs & 0xf0) === 0xf0 ? (dcs >> 2) & 0x01 : 0;
  let text: string;
  if (alphabet === 2) {
    const body = Buffer.from(rest.subarray(headerOctets, udl));
    text = body.subarray(0, body.length & ~1).swap16().toString('utf16le');
  } else if (alphabet === 1) {
    text = rest.subarray(headerOctets, udl).toString('latin1');
  } else {
    const headerSeptets = Math.ceil((headerOctets * 8) / 7);
    const septets = unpackSeptets(rest, udl, headerSeptets * 7);
    text = fromSeptets(septets);
  }
  return part ? { from, text, part } : { from, text };
}

/** A delivery report (SMS-STATUS-REPORT). */
export interface StatusReport {
  /** The TP-MR of the sent message (`+CMGS: <mr>`). */
  reference: number;
  to: string;
  /** TP-ST: 0x00-0x1F delivered, 0x20-0x3F still trying, 0x40+ failed. */
  status: number;
  delivered: boolean;
}

export function decodeStatusReport(hex: string): StatusReport {
  const r = new Reader(parseHex(hex));
  skipSca(r);
  const first = r.u8();
  if ((first & 0x03) !== 0x02) throw new PduError('not an SMS-STATUS-REPORT');
  const reference = r.u8();
  const to = readAddress(r);
  r.take(7); // service centre time stamp
  r.take(7); // discharge time
  const status = r.u8();
  return { reference, to, status, delivered: status < 0x20 };
}
