import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { PASSWORD_ENV, loadGatewayConfig, parseGatewayConfig } from '../../src/config/load.ts';
import { DEFAULT_MAX_QUEUED_READINGS } from '../../src/config/schema.ts';
import { tempDir } from '../helpers/fixtures.ts';

const example = () => ({
  gatewayId: 'gw-cikeruh',
  dataDir: './data/gw-cikeruh',
  mqtt: { url: 'mqtt://127.0.0.1:1883', password: 'from-file', batchMaxReadings: 500, batchIntervalMs: 500, ackTimeoutMs: 10000, reconnectPeriodMs: 1000 },
  ports: [{ path: '/tmp/ttyX', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 }],
  sensors: [
    {
      id: 'ckr-wl-01',
      port: '/tmp/ttyX',
      channels: {
        level_cm: { quantity: 'water_level', scale: 1, offset: 0, range: { min: -50, max: 2000 } },
        tips: { quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } },
        batt_v: { quantity: 'battery_voltage' },
      },
    },
  ],
  healthIntervalS: 60,
});

/** The `path: message` lines of the ConfigError thrown for `json`. */
function errorLines(json: unknown): string[] {
  try {
    parseGatewayConfig(json, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('config_invalid');
    return (err as Error).message.split('\n');
  }
  throw new Error('config was accepted');
}

describe('parseGatewayConfig', () => {
  it('accepts the documented example and fills defaults', () => {
    const c = parseGatewayConfig(example(), {});
    expect(c.mqtt.username).toBe('gw-cikeruh');
    expect(c.mqtt.password).toBe('from-file');
    expect(c.mqtt.maxInFlightBatches).toBe(4);
    expect(c.queue.maxReadings).toBe(DEFAULT_MAX_QUEUED_READINGS);
    expect(c.serialReconnect).toEqual({ minDelayMs: 1000, maxDelayMs: 30_000 });
    expect(c.sensors[0]!.channels.batt_v).toEqual({ quantity: 'battery_voltage', scale: 1, offset: 0 });
  });

  it('fills port framing defaults (8N1 at 9600)', () => {
    const c = parseGatewayConfig({ ...example(), ports: [{ path: '/tmp/ttyX' }] }, {});
    expect(c.ports[0]).toEqual({ path: '/tmp/ttyX', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
  });

  it('KENTONGAN_MQTT_PASSWORD overrides the password; username stays when given', () => {
    const json = example();
    (json.mqtt as Record<string, unknown>).username = 'someone';
    const c = parseGatewayConfig(json, { [PASSWORD_ENV]: 'from-env' });
    expect(c.mqtt.password).toBe('from-env');
    expect(c.mqtt.username).toBe('someone');
  });

  it('refuses a config where neither the file nor KENTONGAN_MQTT_PASSWORD gives a password', () => {
    const json = example() as Record<string, any>;
    delete json.mqtt.password;
    const missing = `mqtt.password: is required: set the environment variable ${PASSWORD_ENV} (preferred) or mqtt.password in the file`;
    expect(errorLines(json)).toEqual([missing]);
    expect(() => parseGatewayConfig(json, { [PASSWORD_ENV]: '' })).toThrow(missing); // empty is not set
    json.mqtt.password = '';
    expect(errorLines(json)).toEqual([missing]);
    expect(parseGatewayConfig(json, { [PASSWORD_ENV]: 'from-env' }).mqtt.password).toBe('from-env');
    // Reported together with the other problems, not one round later.
    json.healthIntervalS = 0;
    const lines = errorLines(json);
    expect(lines[0]).toMatch(/^healthIntervalS: /);
    expect(lines.slice(1)).toEqual([missing]);
  });

  it('refuses the placeholder text of the old example as a password unless the environment overrides it', () => {
    const json = example() as Record<string, any>;
    json.mqtt.password = 'set KENTONGAN_MQTT_PASSWORD instead of writing it here';
    expect(errorLines(json)).toEqual([`mqtt.password: is the placeholder text of the example file, not a password: set ${PASSWORD_ENV} or the real password`]);
    expect(parseGatewayConfig(json, { [PASSWORD_ENV]: 'real' }).mqtt.password).toBe('real');
  });

  it('the shipped example omits the password: refused alone, accepted with the environment variable', () => {
    const file = fileURLToPath(new URL('../../config/example.json', import.meta.url));
    const shipped = JSON.parse(readFileSync(file, 'utf8')) as { mqtt: Record<string, unknown> };
    expect(shipped.mqtt).not.toHaveProperty('password');
    expect(() => loadGatewayConfig(file, {})).toThrow(/^mqtt\.password: is required/);
    expect(loadGatewayConfig(file, { [PASSWORD_ENV]: 's3cret' }).mqtt.password).toBe('s3cret');
  });

  it('names a sensor port that is not declared', () => {
    const json = example();
    json.sensors[0]!.port = '/tmp/ttyY';
    expect(errorLines(json)).toEqual(['sensors.0.port: port "/tmp/ttyY" is not declared in ports (declared: "/tmp/ttyX")']);
  });

  it('reports every problem as a path: message line', () => {
    const json = example() as Record<string, any>;
    json.gatewayId = 'gw cikeruh';
    json.mqtt.url = 'http://example';
    json.mqtt.batchMaxReadings = 5000;
    json.ports[0].parity = 'sometimes';
    json.extra = true;
    const lines = errorLines(json);
    expect(lines).toContain('gatewayId: must be 1-32 letters, digits, "-" or "_"');
    expect(lines).toContain('mqtt.url: must be an mqtt://, mqtts://, ws:// or wss:// URL');
    expect(lines.some((l) => l.startsWith('mqtt.batchMaxReadings: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('ports.0.parity: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('(root): ') && l.includes('extra'))).toBe(true);
  });

  it('refuses channel mistakes with their path', () => {
    const json = example() as Record<string, any>;
    json.sensors[0].channels = {
      Level: { quantity: 'water_level' },
      tips: { quantity: 'water_level', tippingBucket: { mmPerTip: 0.2 } },
    };
    expect(errorLines(json)).toEqual([
      'sensors.0.channels.tips.tippingBucket: a tipping bucket measures rain: set quantity "rain"',
      'sensors.0.channels.Level: channel names are lower-case letters, digits and "_", a letter first, max 16',
      'sensors.0.channels.tips.quantity: quantity "water_level" is already mapped from channel "Level"',
    ]);
    json.sensors[0].channels = { Level: { quantity: 'water_level' }, tips: { quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } } };
    expect(errorLines(json)).toEqual(['sensors.0.channels.Level: channel names are lower-case letters, digits and "_", a letter first, max 16']);
  });

  it('refuses two channels of one sensor with the same quantity (their idempotency keys would collide)', () => {
    const json = example() as Record<string, any>;
    json.sensors[0].channels.level2 = { quantity: 'water_level' };
    expect(errorLines(json)).toEqual(['sensors.0.channels.level2.quantity: quantity "water_level" is already mapped from channel "level_cm"']);
  });

  it('refuses duplicate sensor ids and ports, unknown quantities, a range upside down, scale 0', () => {
    const json = example() as Record<string, any>;
    json.ports.push({ path: '/tmp/ttyX' });
    json.sensors.push({ ...json.sensors[0] });
    const lines = errorLines(json);
    expect(lines).toContain('ports.1.path: port "/tmp/ttyX" is declared twice');
    expect(lines).toContain('sensors.1.id: sensor id "ckr-wl-01" is used twice');

    const bad = example() as Record<string, any>;
    bad.sensors[0].channels = { a: { quantity: 'speed' }, b: { quantity: 'water_level', range: { min: 5, max: 1 }, scale: 0 } };
    const badLines = errorLines(bad);
    expect(badLines.some((l) => l.startsWith('sensors.0.channels.a.quantity: '))).toBe(true);
    expect(badLines).toContain('sensors.0.channels.b.range.max: min must be below max');
    expect(badLines).toContain('sensors.0.channels.b.scale: scale must not be 0');
  });

  it('survives hostile input types without throwing anything but ConfigError', () => {
    for (const json of [null, 42, 'x', [], { gatewayId: {} }, { mqtt: null }, { sensors: 'all' }]) {
      expect(() => parseGatewayConfig(json, {})).toThrow(ConfigError);
    }
  });
});

describe('loadGatewayConfig', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('reads a JSON file', () => {
    const file = join(dir, 'gw.json');
    writeFileSync(file, JSON.stringify(example()));
    expect(loadGatewayConfig(file, {}).gatewayId).toBe('gw-cikeruh');
  });

  it('reports bad JSON, a missing file and a bad field as path: message', () => {
    const file = join(dir, 'gw.json');
    writeFileSync(file, '{ "gatewayId": ');
    expect(() => loadGatewayConfig(file, {})).toThrow(/^\(root\): invalid JSON: /);
    expect(() => loadGatewayConfig(join(dir, 'missing.json'), {})).toThrow(/^\(file\): cannot read .*missing\.json/);
    writeFileSync(file, JSON.stringify({ ...example(), healthIntervalS: 0 }));
    expect(() => loadGatewayConfig(file, {})).toThrow(/^healthIntervalS: /);
  });
});
