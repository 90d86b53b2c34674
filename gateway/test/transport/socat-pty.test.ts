/**
 * The whole gateway through a real pseudo-terminal pair made by socat: the platform serial
 * binding (no mock) on one end, a "sensor" writing frames with serialport on the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/gateway.ts';
import { FakeServer, startBroker, type TestBroker } from '../helpers/broker.ts';
import { baseConfig, hel, quietLogger, rdg, tempDir, waitFor } from '../helpers/fixtures.ts';

describe('gateway over a socat pseudo-terminal pair', () => {
  let socat: ChildProcess;
  let dir: string;
  let cleanup: () => void;
  let gwPath: string;
  let sensorPath: string;
  let broker: TestBroker;
  let server: FakeServer;
  let gateway: RunningGateway | undefined;
  let sensor: SerialPort | undefined;

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('kentongan-pty-'));
    gwPath = join(dir, 'ttyGW');
    sensorPath = join(dir, 'ttySENSOR');
    socat = spawn('socat', [`pty,raw,echo=0,link=${gwPath}`, `pty,raw,echo=0,link=${sensorPath}`], { stdio: 'ignore' });
    await waitFor(() => existsSync(gwPath) && existsSync(sensorPath), 5000, 'socat links');
    broker = await startBroker();
    server = await FakeServer.connect(broker.url, 'gw-pty');
    server.autoAck = true;
  });

  afterAll(async () => {
    if (sensor?.isOpen) await new Promise((r) => sensor!.close(r));
    await gateway?.stop();
    if (socat.exitCode === null) socat.kill('SIGTERM');
    await server.close();
    await broker.close();
    cleanup();
  });

  it('reads frames from a real tty, delivers them, and notices when the other end goes away', async () => {
    const config = parseGatewayConfig(baseConfig({ dataDir: join(dir, 'data'), mqttUrl: broker.url, portPath: gwPath, gatewayId: 'gw-pty' }), {});
    gateway = await startGateway(config, { logger: quietLogger() });
    expect(gateway.stats().ports[gwPath]).toBe('open');

    sensor = new SerialPort({ path: sensorPath, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => sensor!.open((err) => (err ? reject(err) : resolve())));
    let frames = hel('wl-01', 0) + 'line noise \x01\x02\n';
    for (let seq = 1; seq <= 20; seq++) frames += rdg('wl-01', seq, { level_cm: seq * 10 });
    sensor.write(frames, 'latin1');
    await new Promise<void>((resolve) => sensor!.drain(() => resolve()));

    await waitFor(() => gateway!.stats().readingsAccepted === 20, 5000, '20 readings');
    await gateway.drained(5000);
    expect(server.uniqueReadings().map((r) => [r.seq, r.value])).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, (i + 1) * 10]));
    expect(gateway.stats().rejectedFrames).toEqual({ no_start: 1 });

    // Pull the cable: socat exits, the tty disappears; the gateway keeps running and retries.
    socat.kill('SIGTERM');
    await waitFor(() => gateway!.stats().ports[gwPath] === 'retrying', 5000, 'port retrying');
  });
});
