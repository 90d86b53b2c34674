/**
 * The GSM 03.38 7-bit alphabet (3GPP TS 23.038): a text made only of these characters fits
 * 160 characters in one SMS; one character outside it makes the phone send UCS-2 with only 70
 * per segment. Characters of the extension table cost two (escape + char).
 */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENSION = '^{}\\[~]|€\f';
const BASIC_SET = new Set(BASIC);
const EXTENSION_SET = new Set(EXTENSION);

/** Septets the text takes in GSM-7, or null when a character is not in the alphabet. */
export function gsm7Length(text: string): number | null {
  let n = 0;
  for (const ch of text) {
    if (BASIC_SET.has(ch)) n += 1;
    else if (EXTENSION_SET.has(ch)) n += 2;
    else return null;
  }
  return n;
}

/**
 * Makes a name safe for one-segment SMS: accents dropped (`Ciéndé` → `Ciende`), line breaks and
 * runs of space collapsed, anything else outside the basic GSM-7 set replaced by `?`. Names come
 * from config and subscribers; a hostile name cannot force UCS-2 or break a line.
 */
export function toGsm7(text: string): string {
  const plain = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\s\u2028\u2029]+/g, ' ')
    .trim();
  let out = '';
  for (const ch of plain) out += BASIC_SET.has(ch) && ch !== '\n' && ch !== '\r' ? ch : '?';
  return out;
}
