/**
 * Register decoding and read planning. Modbus registers are 16-bit big-endian words; 32-bit
 * values span two registers whose order differs between vendors (`big`: high word first,
 * `little`: low word first). Pure functions, tested for every type and word order.
 */
import { MAX_READ_REGISTERS, registerCount, type ModbusValueConfig, type RegisterType, type WordOrder } from './schema.ts';

/**
 * Decodes the value at register `index` of `data` (the register bytes of a reply). Returns
 * NaN/±Infinity as they are for float32: the physics step refuses non-finite values (counted).
 * Throws RangeError only when the index is outside the data (a planning bug, never input).
 */
export function decodeRegisters(data: Uint8Array, index: number, type: RegisterType, wordOrder: WordOrder): number {
  const n = registerCount(type);
  const start = index * 2;
  if (index < 0 || start + n * 2 > data.length) throw new RangeError(`register ${index} (${type}) is outside the ${data.length / 2} registers read`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (n === 1) return type === 'int16' ? view.getInt16(start) : view.getUint16(start);
  // Normalise to AB CD (high word first) in a scratch buffer, then read big-endian.
  const scratch = new DataView(new ArrayBuffer(4));
  const [hi, lo] = wordOrder === 'big' ? [start, start + 2] : [start + 2, start];
  scratch.setUint16(0, view.getUint16(hi));
  scratch.setUint16(2, view.getUint16(lo));
  if (type === 'int32') return scratch.getInt32(0);
  if (type === 'uint32') return scratch.getUint32(0);
  return scratch.getFloat32(0);
}

/** Encodes a value into registers (the simulator's side; also round-trip tests). */
export function encodeRegisters(value: number, type: RegisterType, wordOrder: WordOrder): number[] {
  const scratch = new DataView(new ArrayBuffer(4));
  switch (type) {
    case 'int16':
      scratch.setInt16(0, value);
      return [scratch.getUint16(0)];
    case 'uint16':
      scratch.setUint16(0, value);
      return [scratch.getUint16(0)];
    case 'int32':
      scratch.setInt32(0, value);
      break;
    case 'uint32':
      scratch.setUint32(0, value);
      break;
    case 'float32':
      scratch.setFloat32(0, value);
      break;
  }
  const words = [scratch.getUint16(0), scratch.getUint16(2)];
  return wordOrder === 'big' ? words : [words[1]!, words[0]!];
}

/** One read request covering one or more values of a device. */
export interface ReadBlock {
  function: 3 | 4;
  address: number;
  count: number;
  values: { value: ModbusValueConfig; index: number }[];
}

/**
 * Coalesces values into reads: same function, contiguous or overlapping registers, at most
 * `maxRegisters` per read. Gaps are never bridged: some devices answer an exception for an
 * address they do not implement, which would cost the values around the hole.
 */
export function planReads(values: readonly ModbusValueConfig[], maxRegisters = MAX_READ_REGISTERS): ReadBlock[] {
  const sorted = [...values].sort((a, b) => a.function - b.function || a.address - b.address);
  const blocks: ReadBlock[] = [];
  let current: ReadBlock | undefined;
  for (const v of sorted) {
    const end = v.address + registerCount(v.type);
    const fits = current && current.function === v.function && v.address <= current.address + current.count && end - current.address <= maxRegisters;
    if (current && fits) {
      current.count = Math.max(current.count, end - current.address);
      current.values.push({ value: v, index: v.address - current.address });
    } else {
      current = { function: v.function, address: v.address, count: end - v.address, values: [{ value: v, index: 0 }] };
      blocks.push(current);
    }
  }
  return blocks;
}
