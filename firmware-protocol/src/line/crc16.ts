/**
 * CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, not reflected, xorout 0x0000.
 * Check value for ASCII "123456789" is 0x29B1 (Greenberg's CRC catalogue).
 * Table-driven so the gateway's per-frame cost stays tiny on a Raspberry Pi.
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** CRC of the string's character codes (the body is ASCII, so one byte per char). */
export function crc16CcittFalse(text: string): number {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff]!;
  }
  return crc;
}

/** The CRC as the frame carries it: 4 upper-case hex digits. */
export function crcHex(text: string): string {
  return crc16CcittFalse(text).toString(16).toUpperCase().padStart(4, '0');
}
