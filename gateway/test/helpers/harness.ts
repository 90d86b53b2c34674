/**
 * One gateway under test: real aedes broker, real SQLite in a temp folder, MockBinding serial
 * port reached through tapBinding, and a FakeServer client playing the Kentongan server.
 */
import { parseGatewayConfig } from '../../src/config/load.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import { startGateway, type RunningGateway } from '../../src/gateway.ts';
import { tapBinding, type BindingTap } from '../../src/transport/binding-tap.ts';
import { FakeServer, startBroker, type TestBroker } from './broker.ts';
import { baseConfig, quietLogger, tempDir } from './fixtures.ts';
import { MockBinding, emit, mockPort } from './mock-serial.ts';

export const GATEWAY_ID = 'gw-test';

export interface Harness {
  broker: TestBroker;
  server: FakeServer;
  tap: BindingTap;
  portPath: string;
  dataDir: string;
  gateway: RunningGateway;
  config: GatewayConfigInput;
  /** Sends bytes from the "sensor" into the gateway's serial port. */
  send(data: string | Buffer): void;
  /** Starts a new gateway on the same data dir and port (after stopping the old one). */
  restart(patch?: (c: GatewayConfigInput) => void): Promise<RunningGateway>;
  close(): Promise<void>;
}

export async function startHarness(patch?: (c: GatewayConfigInput) => void, now?: () => Date): Promise<Harness> {
  const broker = await startBroker();
  const server = await FakeServer.connect(broker.url, GATEWAY_ID);
  const { dir, cleanup } = tempDir();
  const portPath = mockPort();
  const tap = tapBinding(MockBinding);
  const config = baseConfig({ dataDir: dir, mqttUrl: broker.url, portPath, gatewayId: GATEWAY_ID });
  patch?.(config);
  const start = () => startGateway(parseGatewayConfig(config, {}), { logger: quietLogger(), binding: tap.binding, ...(now ? { now } : {}) });
  const h: Harness = {
    broker,
    server,
    tap,
    portPath,
    dataDir: dir,
    config,
    gateway: await start(),
    send: (data) => emit(tap, portPath, data),
    async restart(p) {
      await h.gateway.stop();
      p?.(config);
      h.gateway = await start();
      return h.gateway;
    },
    async close() {
      await h.gateway.stop();
      await server.close();
      await broker.close();
      cleanup();
    },
  };
  return h;
}
