/** Every config file the project ships must pass its own schema: a newcomer starts from these. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '@kentongan/gateway';
import { parseServerConfig } from '@kentongan/server';

const read = async (path: string) => JSON.parse(await readFile(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8'));

describe('shipped config files', () => {
  it.each(['server/config/example.json', 'server/config/compose.json'])('%s is a valid server config', async (path) => {
    const config = parseServerConfig(await read(path));
    expect(config.rules.length).toBeGreaterThan(0);
  });

  it('compose.json is example.json with only the data folder and bind addresses changed', async () => {
    const example = await read('server/config/example.json');
    const compose = await read('server/config/compose.json');
    expect({ ...compose, dataDir: example.dataDir, http: example.http, mqtt: example.mqtt }).toEqual(example);
    expect([compose.http.port, compose.mqtt.port]).toEqual([example.http.port, example.mqtt.port]);
  });

  it('gateway/config/example.json is a valid gateway config', async () => {
    const config = parseGatewayConfig(await read('gateway/config/example.json'), { KENTONGAN_MQTT_PASSWORD: 'from-the-environment' });
    expect(config.mqtt.password).toBe('from-the-environment');
    expect(config.sensors.map((s) => s.id)).toEqual(['ckr-wl-01', 'ckr-rg-01']);
  });
});
