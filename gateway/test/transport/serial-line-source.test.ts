import { afterEach, describe, expect, it } from 'vitest';
import { portSchema } from '../../src/config/schema.ts';
import { tapBinding } from '../../src/transport/binding-tap.ts';
import { SerialLineSource, type PortState } from '../../src/transport/serial-line-source.ts';
import { quietLogger, rdg, waitFor } from '../helpers/fixtures.ts';
import { MockBinding, emit, mockPort } from '../helpers/mock-serial.ts';

function makeSource(path: string) {
  const tap = tapBinding(MockBinding);
  const lines: string[] = [];
  const states: PortState[] = [];
  let tooLong = 0;
  const source = new SerialLineSource({
    port: portSchema.parse({ path, baudRate: 9600, parity: 'even' }),
    binding: tap.binding,
    logger: quietLogger(),
    reconnect: { minDelayMs: 20, maxDelayMs: 80 },
    onLine: (l) => lines.push(l),
    onTooLong: () => tooLong++,
    onState: (s) => states.push(s),
  });
  return { tap, source, lines, states, tooLong: () => tooLong };
}

describe('SerialLineSource', () => {
  const sources: SerialLineSource[] = [];
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });

  it('opens with the configured framing and delivers lines in latin1', async () => {
    const path = mockPort();
    const t = makeSource(path);
    sources.push(t.source);
    await t.source.start();
    expect(t.source.state).toBe('open');
    expect(t.tap.port(path)!.openOptions).toMatchObject({ baudRate: 9600, dataBits: 8, parity: 'even', stopBits: 1 });
    const frame = rdg('wl-01', 1, { level_cm: 5 });
    emit(t.tap, path, Buffer.concat([Buffer.from(frame), Buffer.from([0xff, 0x0a])]));
    await waitFor(() => t.lines.length === 2);
    expect(t.lines[0]).toBe(frame.slice(0, -1));
    expect(t.lines[1]).toBe('\u00ff');
  });

  it('reports a long line once through the guard and goes on', async () => {
    const path = mockPort();
    const t = makeSource(path);
    sources.push(t.source);
    await t.source.start();
    emit(t.tap, path, Buffer.alloc(100_000, 0x2c));
    emit(t.tap, path, '\nnext\n');
    await waitFor(() => t.lines.length === 1);
    expect(t.tooLong()).toBe(1);
    expect(t.lines).toEqual(['next']);
  });

  it('keeps retrying a port that does not exist and opens it once it appears', async () => {
    const path = `/dev/ttyLATER${process.pid}`;
    const t = makeSource(path);
    sources.push(t.source);
    await t.source.start();
    expect(t.source.state).toBe('retrying');
    await waitFor(() => t.source.failures >= 2, 5000, 'a second failed attempt');
    expect(t.source.state).toBe('retrying');
    MockBinding.createPort(path, { echo: false, record: false });
    await waitFor(() => t.source.state === 'open');
    emit(t.tap, path, 'hello\n');
    await waitFor(() => t.lines.length === 1);
  });

  it('a port that goes away (unplugged) is reopened and lines flow again', async () => {
    const path = mockPort();
    const t = makeSource(path);
    sources.push(t.source);
    await t.source.start();
    const first = t.tap.port(path)!;
    emit(t.tap, path, 'one\n');
    await waitFor(() => t.lines.length === 1);
    expect(t.tap.unplug(path)).toBe(true);
    await waitFor(() => t.states.includes('retrying'));
    const second = await t.tap.waitForOpen(path, 2000, first);
    expect(t.tap.openCount(path)).toBe(2);
    await waitFor(() => t.source.state === 'open');
    expect(second.isOpen).toBe(true);
    emit(t.tap, path, 'two\n');
    await waitFor(() => t.lines.length === 2);
    expect(t.lines).toEqual(['one', 'two']);
  });

  it('stop closes the port and does not reopen it', async () => {
    const path = mockPort();
    const t = makeSource(path);
    await t.source.start();
    const port = t.tap.port(path)!;
    await t.source.stop();
    expect(port.isOpen).toBe(false);
    expect(t.source.state).toBe('closed');
    // Nothing to wait for when nothing happens: wait several retry periods (maxDelayMs 80).
    // A longer wait only makes the check stricter, it cannot make a correct source fail.
    await new Promise((r) => setTimeout(r, 400));
    expect(t.tap.openCount(path)).toBe(1);
    expect(t.source.state).toBe('closed');
  });
});
