import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServerConfig, parseServerConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { tempDir } from '../helpers/fixtures.ts';

const HASH = 'scrypt$32768$8$1$I5oNDDq/eLgRMSr/Nt/4GQ==$HnCYIU2zy0h7tA+8ltz6hYmcuLka2oCHhPZ909dZyHc=';

function linesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).lines];
  }
  throw new Error('expected a ConfigError');
}

describe('parseServerConfig', () => {
  it('fills in the embedded defaults from an empty object', () => {
    const c = parseServerConfig({});
    expect(c).toMatchObject({
      dataDir: './data/server',
      http: { host: '127.0.0.1', port: 8080 },
      mqtt: { host: '127.0.0.1', port: 1883 },
      gateways: [],
      notify: { channels: [{ kind: 'console', id: 'console' }], sender: 'BPBD Sumedang' },
    });
  });

  it('reports schema problems as path: message lines', () => {
    const lines = linesOf(() => parseServerConfig({ http: { port: 70000 }, gateways: [{ id: 'gw a', passwordHash: 'plain' }], extra: 1 }));
    expect(lines.some((l) => l.startsWith('http.port:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('gateways.0.id:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('gateways.0.passwordHash:'))).toBe(true);
    expect(lines.some((l) => l.includes('extra'))).toBe(true);
  });

  it('refuses a malformed password hash, e.g. a pasted plain password', () => {
    const lines = linesOf(() => parseServerConfig({ gateways: [{ id: 'gw-1', passwordHash: 'scrypt$rahasia' }] }));
    expect(lines).toEqual(['gateways.0.passwordHash: must be scrypt$N$r$p$salt$hash as printed by `hash-password`']);
  });

  it('reports duplicate ids and broken references', () => {
    const lines = linesOf(() =>
      parseServerConfig({
        gateways: [
          { id: 'gw-1', passwordHash: HASH },
          { id: 'gw-1', passwordHash: HASH },
        ],
        areas: [{ id: 'a1', name: 'A' }],
        sites: [{ id: 's1', name: 'S', areaId: 'nowhere', lat: 0, lon: 0 }],
        sensors: [{ id: 'x1', siteId: 'no-site', type: 'rain' }],
        rules: [
          {
            id: 'r1',
            kind: 'threshold',
            hazard: 'flood',
            sensorId: 'ghost',
            quantity: 'water_level',
            levels: { Waspada: { raise: 60, clear: 55 } },
          },
        ],
      }),
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'gateways.1.id: duplicate id "gw-1"',
        'sites.0.areaId: unknown area "nowhere"',
        'sensors.0.siteId: unknown site "no-site"',
        'rules.0.sensorId: unknown sensor "ghost"',
      ]),
    );
    // References are checked in one place (the alert engine's validateAlertConfig): once each.
    expect(lines.filter((l) => l.startsWith('sites.0.areaId')).length).toBe(1);
  });

  it('refuses a sensor bound to a gateway that is not configured', () => {
    const config = {
      gateways: [{ id: 'gw-a', passwordHash: HASH }],
      areas: [{ id: 'a', name: 'A' }],
      sites: [{ id: 's', name: 'S', areaId: 'a', lat: -6.9, lon: 107.7 }],
      sensors: [
        { id: 'wl-1', siteId: 's', type: 'water_level', gatewayId: 'gw-a' },
        { id: 'wl-2', siteId: 's', type: 'water_level', gatewayId: 'gw-typo' },
      ],
    };
    expect(() => parseServerConfig(config)).toThrow(/^sensors\.1\.gatewayId: unknown gateway "gw-typo"$/m);
  });

  it('prints every problem once: each check has one owner', () => {
    const rule = (id: string, sensorId: string) => ({
      id,
      kind: 'threshold',
      hazard: 'flood',
      sensorId,
      quantity: 'water_level',
      levels: { Waspada: { raise: 60, clear: 55 } },
    });
    const lines = linesOf(() =>
      parseServerConfig({
        gateways: [
          { id: 'gw-1', passwordHash: HASH },
          { id: 'gw-1', passwordHash: HASH },
        ],
        areas: [
          { id: 'a1', name: 'A' },
          { id: 'a1', name: 'A lagi' },
        ],
        sites: [
          { id: 's1', name: 'S', areaId: 'a1', lat: 0, lon: 0 },
          { id: 's1', name: 'S lagi', areaId: 'nowhere', lat: 0, lon: 0 },
        ],
        sensors: [
          { id: 'wl-1', siteId: 's1', type: 'water_level' },
          { id: 'wl-1', siteId: 'no-site', type: 'water_level' },
        ],
        rules: [rule('r', 'wl-1'), rule('r', 'ghost')],
        notify: {
          channels: [
            { kind: 'console', id: 'c' },
            { kind: 'console', id: 'c' },
          ],
        },
      }),
    );
    expect(lines.sort()).toEqual(
      [
        'gateways.1.id: duplicate id "gw-1"',
        'areas.1.id: duplicate id "a1"',
        'sites.1.id: duplicate id "s1"',
        'sites.1.areaId: unknown area "nowhere"',
        'sensors.1.id: duplicate id "wl-1"',
        'sensors.1.siteId: unknown site "no-site"',
        'rules.1.id: duplicate rule id "r"',
        'rules.1.sensorId: unknown sensor "ghost"',
        'notify.channels.1.id: duplicate channel id "c"',
      ].sort(),
    );
  });
});

describe('loadServerConfig', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('loads a valid file', async () => {
    const path = join(dir, 'server.json');
    await writeFile(path, JSON.stringify({ dataDir: '/var/lib/kentongan', http: { port: 0 } }));
    const c = await loadServerConfig(path);
    expect(c.dataDir).toBe('/var/lib/kentongan');
    expect(c.http.port).toBe(0);
  });

  it('reports a missing file, invalid JSON and invalid content as ConfigError lines', async () => {
    await expect(loadServerConfig(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      lines: [expect.stringMatching(/^\(file\): cannot read/)],
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "dataDir": ');
    await expect(loadServerConfig(bad)).rejects.toMatchObject({ lines: [expect.stringMatching(/^\(root\): invalid JSON/)] });
    await writeFile(bad, '[1,2]');
    await expect(loadServerConfig(bad)).rejects.toBeInstanceOf(ConfigError);
  });
});
