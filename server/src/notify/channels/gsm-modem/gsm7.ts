/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), and septet
 * packing (TS 23.038 §6.1.2.1.1). A character of the extension table costs two septets
 * (escape 0x1B, then its code).
 */

/** Basic table, index = septet value (0x1B is the escape to the extension table). */
export const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: character -> code after the escape. */
export const GSM7_EXTENSION: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

const BASIC_INDEX = new Map<string, number>([...GSM7_BASIC].map((c, i) => [c, i]));
const EXTENSION_CHAR = new Map<number, string>([...GSM7_EXTENSION].map(([c, v]) => [v, c]));

/** Septets of `text` in the GSM-7 alphabet, or null when a character is not in it. */
export function toSeptets(text: string): number[] | null {
  const out: number[] = [];
  for (const ch of text) {
    const b = BASIC_INDEX.get(ch);
    if (b !== undefined && b !== 0x1b) {
      out.push(b);
      continue;
    }
    const e = GSM7_EXTENSION.get(ch);
    if (e === undefined) return null;
    out.push(0x1b, e);
  }
  return out;
}

/** Text of septets (escape sequences resolved; an unknown extension code reads as a space). */
export function fromSeptets(septets: readonly number[]): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]!;
    if (s === 0x1b) {
      const next = septets[++i];
      out += next === undefined ? '' : (EXTENSION_CHAR.get(next) ?? ' ');
    } else {
      out += GSM7_BASIC[s] ?? ' ';
    }
  }
  return out;
}

/**
 * Packs septets into octets, starting after `fillBits` zero bits (used after a user data header
 * so that the text starts on a septet boundary).
 */
export function packSeptets(septets: readonly number[], fillBits = 0): Buffer {
  const totalBits = fillBits + septets.length * 7;
  const out = Buffer.alloc(Math.ceil(totalBits / 8));
  let bit = fillBits;
  for (const s of septets) {
    for (let k = 0; k < 7; k++, bit++) {
      if ((s >> k) & 1) out[bit >> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

/** Unpacks `count` septets from octets, skipping `fillBits` first. */
export function unpackSeptets(octets: Buffer, count: number, fillBits = 0): number[] {
  const out: number[] = [];
  let bit = fillBits;
  for (let n = 0; n < count; n++) {
    let s = 0;
    for (let k = 0; k < 7; k++, bit++) {
      const byte = octets[bit >> 3];
      if (byte === undefined) return out;
      if ((byte >> (bit & 7)) & 1) s |= 1 << k;
    }
    out.push(s);
  }
  return out;
}

/**
 * Characters safe in text mode (`AT+CMGF=1`) with the modem's default character set: printable
 * ASCII whose GSM-7 code is the same character, no `@`/`$`/`_` (different codes), no extension
 * characters and no Ctrl-Z/ESC (they would end or break the message).
 */
export function isTextModeSafe(text: string): boolean {
  return /^[A-Za-z0-9 \n.,;:!?'"()+\-*/%&#=<>]*$/.test(text);
}
