/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first (Modbus over Serial Line v1.02 §6.2.2). */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** Appends the CRC (low byte first) to a frame body. */
export function withCrc(body: Uint8Array): Buffer {
  const crc = crc16Modbus(body);
  return Buffer.concat([Buffer.from(body), Buffer.from([crc & 0xff, crc >>> 8])]);
}
