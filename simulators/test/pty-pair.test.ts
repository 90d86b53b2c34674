import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPtyPair } from '../src/pty/pty-pair.ts';
import { attachSerial } from '../src/sensors/serial-attachment.ts';

const dir = await mkdtemp(join(tmpdir(), 'kentongan-pty-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['socat', 'python3'] as const)('pseudo-terminal pair via %s', (via) => {
  it('carries lines both ways between real serial ports', async () => {
    const pair = await openPtyPair(dir, `p-${via}`, { via });
    try {
      const device = await attachSerial(pair.devicePath);
      const host = await attachSerial(pair.hostPath);
      const atHost: string[] = [];
      const atDevice: string[] = [];
      host.onLine((l) => atHost.push(l));
      device.onLine((l) => atDevice.push(l));
      device.write('$HELLO*0000\r\n');
      host.write('reply\n');
      await waitFor(() => atHost.length === 1 && atDevice.length === 1);
      expect(atHost[0]).toBe('$HELLO*0000\r');
      expect(atDevice[0]).toBe('reply');
      await device.close();
      await host.close();
    } finally {
      await pair.close();
    }
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
