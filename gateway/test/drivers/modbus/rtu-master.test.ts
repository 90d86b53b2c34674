/**
 * The RTU master's framing against real frames fed byte by byte (the pty tests in
 * simulators/test/modbus-*.test.ts run it over a real serial line).
 */
import { describe, expect, it } from 'vitest';
import { withCrc } from '../../../src/drivers/modbus/crc.ts';
import { ModbusRequestError, RtuMaster } from '../../../src/drivers/modbus/rtu-master.ts';

const reply = (unit: number, fn: number, ...words: number[]) => withCrc(Uint8Array.from([unit, fn, words.length * 2, ...words.flatMap((w) => [w >>> 8, w & 0xff])]));

function rig() {
  const written: Buffer[] = [];
  const master = new RtuMaster((f) => written.push(f));
  return { master, written };
}

describe('RtuMaster', () => {
  it('sends a correct request and resolves with the register bytes of the reply', async () => {
    const { master, written } = rig();
    const p = master.read(1, 3, 0, 2, 200);
    expect([...written[0]!]).toEqual([1, 3, 0, 0, 0, 2, 0xc4, 0x0b]);
    const r = reply(1, 3, 0x1234, 0xabcd);
    master.receive(r.subarray(0, 4)); // replies arrive in pieces
    master.receive(r.subarray(4));
    expect([...(await p)]).toEqual([0x12, 0x34, 0xab, 0xcd]);
    expect(master.discardedBytes).toBe(0);
  });

  it('finds a good reply behind garbage (even garbage holding the unit id) and counts the garbage', async () => {
    const { master } = rig();
    const p = master.read(7, 4, 10, 1, 200);
    master.receive(Buffer.from([0x07, 0x04, 0x02, 0xff, 0x00, 0x13]));
    master.receive(reply(7, 4, 42));
    expect([...(await p)]).toEqual([0, 42]);
    expect(master.discardedBytes).toBe(6);
  });

  it('reports a CRC error when the only reply is corrupt, and a timeout when nothing came', async () => {
    const { master } = rig();
    const p = master.read(1, 3, 0, 1, 50);
    const bad = reply(1, 3, 99);
    bad[4]! ^= 0xff;
    master.receive(bad);
    await expect(p).rejects.toMatchObject({ code: 'crc' });
    await expect(master.read(2, 3, 0, 1, 30)).rejects.toMatchObject({ code: 'timeout' });
    expect(master.discardedBytes).toBe(bad.length);
  });

  it('reports an exception reply with its code', async () => {
    const { master } = rig();
    const p = master.read(3, 3, 100, 1, 200);
    master.receive(withCrc(Uint8Array.of(3, 0x83, 2)));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModbusRequestError);
    expect(err).toMatchObject({ code: 'exception', exceptionCode: 2 });
  });

  it('never takes a late reply to a timed-out request for the answer to the next one', async () => {
    const { master } = rig();
    await expect(master.read(1, 3, 0, 1, 20)).rejects.toMatchObject({ code: 'timeout' });
    master.receive(reply(1, 3, 111)); // the late reply, while idle
    const p = master.read(1, 3, 5, 1, 100);
    master.receive(reply(1, 3, 222));
    expect([...(await p)]).toEqual([0, 222]);
  });

  it('bounds its receive buffer under a flood of noise', async () => {
    const { master } = rig();
    const p = master.read(1, 3, 0, 1, 30);
    for (let i = 0; i < 100; i++) master.receive(Buffer.alloc(1000, 0x55));
    await expect(p).rejects.toMatchObject({ code: 'timeout' });
    expect(master.discardedBytes).toBe(100_000);
  });

  it('refuses a second request while one is in flight', async () => {
    const { master } = rig();
    const first = master.read(1, 3, 0, 1, 20);
    await expect(master.read(1, 3, 0, 1, 20)).rejects.toThrow(/one request at a time/);
    await expect(first).rejects.toMatchObject({ code: 'timeout' });
  });
});
