/** The config examples in server/src/notify/README.md parse, and bad channel config is refused. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { channelSchema } from '../../../src/config/schema.ts';
import { createChannel } from '../../../src/notify/channels.ts';

const readme = readFileSync(fileURLToPath(new URL('../../../src/notify/README.md', import.meta.url)), 'utf8');
const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) =>
  m[1]!
    .split(/\n(?=\{)/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('{')),
);
const ctx = { logger: pino({ level: 'silent' }), now: () => new Date(), fetchImpl: fetch, consoleWriter: () => undefined };

describe('channel config', () => {
  it('every README example parses and creates its channel without I/O', async () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    const kinds = new Set<string>();
    for (const ex of examples) {
      const config = channelSchema.parse(JSON.parse(ex));
      const ch = createChannel(config, ctx);
      expect(ch.kind).toBe(config.kind);
      kinds.add(ch.kind);
      await ch.close?.();
    }
    expect([...kinds].sort()).toEqual(['gsm-modem', 'http-gateway', 'siren', 'smtp']);
  });

  it('refuses bad entries with a clear path', () => {
    const bad = [
      { kind: 'http-gateway', url: 'ftp://x' },
      { kind: 'http-gateway', url: 'https://x', successRegex: '([' },
      { kind: 'http-gateway', url: 'https://x', successStatus: [] },
      { kind: 'gsm-modem', path: '/dev/ttyUSB0', pin: '12ab' },
      { kind: 'gsm-modem', path: '' },
      { kind: 'smtp', host: 'mail', from: 'x' },
      { kind: 'siren', targets: [{ areaId: 'a/b', gatewayId: 'g' }] },
      { kind: 'siren', durationS: 0 },
    ];
    for (const b of bad) expect(channelSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });
});
