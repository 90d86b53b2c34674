/**
 * The simulator's side of SMS PDUs (3GPP TS 23.040), written independently of the server's
 * encoder so the tests check one against the other: SMS-SUBMIT decoding (what the server sends),
 * SMS-DELIVER and SMS-STATUS-REPORT encoding (what a network hands to a modem).
 */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXT: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };
const EXT_REV = new Map(Object.entries(EXT).map(([k, v]) => [v, Number(k)]));

export interface DecodedSubmit {
  to: string;
  statusReport: boolean;
  ucs2: boolean;
  concat?: { reference: number; total: number; seq: number };
  text: string;
  /** TPDU octets (what AT+CMGS=<n> must say). */
  tpduLength: number;
}

function septetsOf(b: Buffer, count: number, skipBits: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    let v = 0;
    for (let k = 0; k < 7; k++) {
      const bit = skipBits + n * 7 + k;
      if (((b[bit >> 3] ?? 0) >> (bit & 7)) & 1) v |= 1 << k;
    }
    out.push(v);
  }
  return out;
}

function gsmText(septets: number[]): string {
  let s = '';
  for (let i = 0; i < septets.length; i++) {
    if (septets[i] === 0x1b) s += EXT[septets[++i] ?? -1] ?? ' ';
    else s += BASIC[septets[i]!] ?? '?';
  }
  return s;
}

/** Throws on malformed input (the simulator then answers `+CMS ERROR: 304`). */
export function decodeSubmit(hex: string): DecodedSubmit {
  if (!/^([0-9A-Fa-f]{2})+$/.test(hex)) throw new Error('not hex');
  const b = Buffer.from(hex, 'hex');
  let i = 0;
  const next = () => {
    const v = b[i++];
    if (v === undefined) throw new Error('short PDU');
    return v;
  };
  const scaLength = next();
  i += scaLength; // SCA
  const tpduStart = i;
  const first = next();
  if ((first & 3) !== 1) throw new Error('not SMS-SUBMIT');
  next(); // MR
  const digits = next();
  const type = next();
  let to = '';
  for (let k = 0; k < Math.ceil(digits / 2); k++) {
    const o = next();
    to += (o & 15).toString(16) + (o >> 4).toString(16);
  }
  to = to.slice(0, digits);
  if (type === 0x91) to = `+${to}`;
  next(); // PID
  const dcs = next();
  const vpf = (first >> 3) & 3;
  if (vpf === 2) next();
  else if (vpf !== 0) i += 7;
  const udl = next();
  const ud = b.subarray(i);
  const udhi = (first & 0x40) !== 0;
  let concat: DecodedSubmit['concat'];
  let hdr = 0;
  if (udhi) {
    hdr = (ud[0] ?? 0) + 1;
    if (ud[1] === 0 && ud[2] === 3) concat = { reference: ud[3]!, total: ud[4]!, seq: ud[5]! };
  }
  const ucs2 = (dcs & 0x0c) === 0x08;
  let text: string;
  if (ucs2) {
    if (ud.length !== udl) throw new Error('UDL does not match');
    text = Buffer.from(ud.subarray(hdr, udl)).swap16().toString('utf16le');
  } else {
    if (ud.length !== Math.ceil((udl * 7) / 8)) throw new Error('UDL does not match');
    const hdrSeptets = Math.ceil((hdr * 8) / 7);
    text = gsmText(septetsOf(ud, udl - hdrSeptets, hdrSeptets * 7));
  }
  return { to, statusReport: (first & 0x20) !== 0, ucs2, ...(concat ? { concat } : {}), text, tpduLength: b.length - tpduStart };
}

function address(num: string): string {
  const intl = num.startsWith('+');
  const d = num.replace('+', '');
  const padded = d.length % 2 ? `${d}F` : d;
  let sw = '';
  for (let k = 0; k < padded.length; k += 2) sw += padded[k + 1]! + padded[k]!;
  return h(d.length) + (intl ? '91' : '81') + sw;
}
const h = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
/** 2026-11-28 09:00:00 +07 as a TP-SCTS (semi-octets, time zone in quarter hours). */
const SCTS = '62118290000082';

function packGsm(text: string): { septets: number; hex: string } | null {
  const s: number[] = [];
  for (const ch of text) {
    const bi = BASIC.indexOf(ch);
    if (bi >= 0 && bi !== 0x1b) s.push(bi);
    else if (EXT_REV.has(ch)) s.push(0x1b, EXT_REV.get(ch)!);
    else return null;
  }
  const out = Buffer.alloc(Math.ceil((s.length * 7) / 8));
  s.forEach((v, n) => {
    for (let k = 0; k < 7; k++) if ((v >> k) & 1) out[(n * 7 + k) >> 3]! |= 1 << ((n * 7 + k) & 7);
  });
  return { septets: s.length, hex: out.toString('hex').toUpperCase() };
}

/** An SMS-DELIVER from `from` with `text` (GSM-7 when possible, else UCS-2), single part. */
export function encodeDeliver(from: string, text: string): string {
  const gsm = packGsm(text);
  const ud = gsm ? gsm.hex : Buffer.from(text, 'utf16le').swap16().toString('hex').toUpperCase();
  const udl = gsm ? gsm.septets : text.length * 2;
  return `00${'04'}${address(from)}00${gsm ? '00' : '08'}${SCTS}${h(udl)}${ud}`;
}

/** An SMS-STATUS-REPORT for message reference `mr` to `to`; status 0 = delivered. */
export function encodeStatusReport(mr: number, to: string, status: number): string {
  return `00${'06'}${h(mr & 0xff)}${address(to)}${SCTS}${SCTS}${h(status)}`;
}
