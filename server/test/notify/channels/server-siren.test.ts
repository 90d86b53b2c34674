/**
 * The siren channel wired by startServer: an alert in an area reaches the output topic of the
 * gateway that serves the area (derived from the sensors' gatewayId; no `targets` configured).
 */
import { outputCommandSchema, topics } from '@kentongan/firmware-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/broker/passwords.ts';
import { startServer, type RunningServer } from '../../../src/server.ts';
import { GW_A, GW_B, PASSWORD_A, PASSWORD_B, batch, silentLogger, tempDir, testConfig, wl } from '../../helpers/fixtures.ts';
import { collect, endAllClients, gatewayClient, waitFor } from '../../helpers/mqtt.ts';

let hashA: string;
let hashB: string;
let dir: string;
let cleanup: () => Promise<void>;
let server: RunningServer | null = null;

beforeAll(async () => {
  [hashA, hashB] = await Promise.all([hashPassword(PASSWORD_A), hashPassword(PASSWORD_B)]);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await endAllClients();
  await server?.stop();
  await cleanup();
});

describe('siren channel in the running server', () => {
  it('a Waspada alert sends the waspada pattern to the area gateway output topic', async () => {
    server = await startServer(
      testConfig({
        dataDir: dir,
        hashA,
        hashB,
        sensors: [
          { id: 'wl-1', siteId: 'cikeruh', type: 'water_level', gatewayId: GW_A },
          { id: 'rg-1', siteId: 'cikeruh', type: 'rain' },
        ],
        notify: { channels: [{ kind: 'siren', id: 'sirens', durationS: 120 }] },
      }),
      { logger: silentLogger },
    );
    const gw = await gatewayClient(server.mqttUrl, GW_A, PASSWORD_A);
    const box = collect(gw);
    await gw.subscribeAsync(topics.output(GW_A), { qos: 1 });
    await gw.publishAsync(topics.readings(GW_A), JSON.stringify(batch(GW_A, 'b-1', [wl(1, 50), wl(2, 65), wl(3, 70)])), { qos: 1 });
    const msg = await waitFor(() => box.messages.find((m) => m.topic === topics.output(GW_A)), 5000, 'siren command');
    const cmd = outputCommandSchema.parse(JSON.parse(msg.payload.toString('utf8')));
    expect(cmd).toMatchObject({ pattern: 'waspada', durationS: 120 });
    expect(cmd.reason).toMatch(/opened Waspada/);
    // GW_B serves no sensor of the area and gets nothing.
    const other = await gatewayClient(server.mqttUrl, GW_B, PASSWORD_B);
    const otherBox = collect(other);
    await other.subscribeAsync(topics.output(GW_B), { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(otherBox.messages).toHaveLength(0);
  });
});
