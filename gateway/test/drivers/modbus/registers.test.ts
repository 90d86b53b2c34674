import { describe, expect, it } from 'vitest';
import { crc16Modbus, withCrc } from '../../../src/drivers/modbus/crc.ts';
import { decodeRegisters, encodeRegisters, planReads } from '../../../src/drivers/modbus/registers.ts';
import { modbusValueSchema, REGISTER_TYPES, WORD_ORDERS } from '../../../src/drivers/modbus/schema.ts';

const bytes = (...words: number[]) => Buffer.from(words.flatMap((w) => [w >>> 8, w & 0xff]));
const value = (input: Record<string, unknown>) => modbusValueSchema.parse({ name: 'v', quantity: 'water_level', ...input });

describe('register decoding', () => {
  it('decodes 16-bit types, signed and unsigned, at any index', () => {
    const data = bytes(0x0001, 0xffff, 0x8000, 0x7fff);
    expect(decodeRegisters(data, 0, 'uint16', 'big')).toBe(1);
    expect(decodeRegisters(data, 1, 'uint16', 'big')).toBe(65535);
    expect(decodeRegisters(data, 1, 'int16', 'big')).toBe(-1);
    expect(decodeRegisters(data, 2, 'int16', 'big')).toBe(-32768);
    expect(decodeRegisters(data, 3, 'int16', 'little')).toBe(32767); // word order does not apply to one register
  });

  it('decodes 32-bit values in both word orders (AB CD and CD AB)', () => {
    // 0x12345678 = 305419896
    expect(decodeRegisters(bytes(0x1234, 0x5678), 0, 'uint32', 'big')).toBe(0x12345678);
    expect(decodeRegisters(bytes(0x5678, 0x1234), 0, 'uint32', 'little')).toBe(0x12345678);
    expect(decodeRegisters(bytes(0xffff, 0xfffe), 0, 'int32', 'big')).toBe(-2);
    expect(decodeRegisters(bytes(0xfffe, 0xffff), 0, 'int32', 'little')).toBe(-2);
    // 1.5f = 0x3FC00000
    expect(decodeRegisters(bytes(0x3fc0, 0x0000), 0, 'float32', 'big')).toBe(1.5);
    expect(decodeRegisters(bytes(0x0000, 0x3fc0), 0, 'float32', 'little')).toBe(1.5);
  });

  it('gives hostile values as they are: extremes, NaN and infinities (physics refuses the non-finite)', () => {
    expect(decodeRegisters(bytes(0xffff, 0xffff), 0, 'uint32', 'big')).toBe(4294967295);
    expect(decodeRegisters(bytes(0x7fff, 0xffff), 0, 'int32', 'big')).toBe(2147483647);
    expect(decodeRegisters(bytes(0x8000, 0x0000), 0, 'int32', 'big')).toBe(-2147483648);
    expect(decodeRegisters(bytes(0x7fc0, 0x0000), 0, 'float32', 'big')).toBeNaN();
    expect(decodeRegisters(bytes(0x7f80, 0x0000), 0, 'float32', 'big')).toBe(Number.POSITIVE_INFINITY);
    expect(decodeRegisters(bytes(0x0000, 0xff80), 0, 'float32', 'little')).toBe(Number.NEGATIVE_INFINITY);
    expect(decodeRegisters(bytes(0x7f7f, 0xffff), 0, 'float32', 'big')).toBeCloseTo(3.4028234663852886e38, -30);
  });

  it('round-trips every type and word order through encodeRegisters', () => {
    const samples: Record<string, number[]> = { int16: [-32768, -1, 0, 32767], uint16: [0, 1, 65535], int32: [-2147483648, -1, 0, 2147483647], uint32: [0, 65536, 4294967295], float32: [-1.25, 0, 3.5, 1e-3] };
    for (const type of REGISTER_TYPES) {
      for (const order of WORD_ORDERS) {
        for (const v of samples[type]!) {
          const regs = encodeRegisters(v, type, order);
          const got = decodeRegisters(bytes(...regs), 0, type, order);
          expect(type === 'float32' ? Math.fround(v) : v).toBe(got);
        }
      }
    }
  });

  it('refuses an index outside the data (a planning bug, not input)', () => {
    expect(() => decodeRegisters(bytes(1), 0, 'uint32', 'big')).toThrow(RangeError);
    expect(() => decodeRegisters(bytes(1), 1, 'uint16', 'big')).toThrow(RangeError);
  });
});

describe('read planning (coalescing)', () => {
  it('merges contiguous and overlapping registers of one function, never across gaps or functions', () => {
    const blocks = planReads([
      value({ name: 'a', address: 0 }),
      value({ name: 'b', address: 1, type: 'float32', quantity: 'temperature' }),
      value({ name: 'c', address: 10, quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } }),
      value({ name: 'd', address: 3, function: 4, quantity: 'battery_voltage' }),
    ]);
    expect(blocks.map((b) => [b.function, b.address, b.count, b.values.map((v) => [v.value.name, v.index])])).toEqual([
      [3, 0, 3, [['a', 0], ['b', 1]]],
      [3, 10, 1, [['c', 0]]],
      [4, 3, 1, [['d', 0]]],
    ]);
  });

  it('splits at the device block limit', () => {
    const values = Array.from({ length: 6 }, (_, i) => value({ name: `v${i}`, address: i * 2, type: 'uint32', quantity: (['water_level', 'rain', 'displacement', 'tilt_x', 'tilt_y', 'temperature'] as const)[i] }));
    expect(planReads(values, 4).map((b) => [b.address, b.count])).toEqual([[0, 4], [4, 4], [8, 4]]);
  });
});

describe('CRC-16/MODBUS', () => {
  it('matches the specification example (read 2 registers at 0 from unit 1: 01 03 00 00 00 02 C4 0B)', () => {
    expect([...withCrc(Uint8Array.of(1, 3, 0, 0, 0, 2))]).toEqual([1, 3, 0, 0, 0, 2, 0xc4, 0x0b]);
    expect(crc16Modbus(Buffer.from('123456789'))).toBe(0x4b37);
  });
});
