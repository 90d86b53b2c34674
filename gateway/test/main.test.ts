import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer, startBroker } from './helpers/broker.ts';
import { baseConfig, tempDir, waitFor } from './helpers/fixtures.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'gateway/src/main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (b: Buffer) => (out.stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out.stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exit };
}

describe('kentongan-gateway CLI', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a bad config prints path: message lines and exits 2', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'gw.json');
    writeFileSync(file, JSON.stringify({ gatewayId: 'gw 1', dataDir: dir, mqtt: { url: 'mqtt://127.0.0.1:1883' }, ports: [], sensors: [{ id: 's', port: '/dev/nope', channels: { a: { quantity: 'rain' } } }] }));
    const run = runCli(['--config', file], { KENTONGAN_MQTT_PASSWORD: '' });
    expect(await run.exit).toBe(2);
    expect(run.out.stderr).toContain('mqtt.password: is required');
    expect(run.out.stderr).toContain('gatewayId: must be 1-32 letters, digits, "-" or "_"');
    expect(run.out.stderr).toContain('sensors.0.port: port "/dev/nope" is not declared in ports (declared: none)');
  });

  it('runs with `run --config`, logs JSON, and on SIGTERM publishes offline and exits 0', async () => {
    // Only the gateway's default username (its id) with the password from the environment gets in.
    const broker = await startBroker(0, { 'gw-cli': 'pw-from-env', server: 'server-pw' });
    cleanups.push(() => broker.close());
    const server = await FakeServer.connect(broker.url, 'gw-cli', { username: 'server', password: 'server-pw' });
    cleanups.push(() => server.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'gw.json');
    // The serial port does not exist: the gateway must run anyway and keep retrying it.
    writeFileSync(file, JSON.stringify(baseConfig({ dataDir: join(dir, 'data'), mqttUrl: broker.url, portPath: join(dir, 'no-such-tty'), gatewayId: 'gw-cli' })));
    const run = runCli(['run', '--config', file], { KENTONGAN_MQTT_PASSWORD: 'pw-from-env' });
    cleanups.push(() => run.child.exitCode === null && run.child.kill('SIGKILL'));
    await waitFor(() => server.statuses.some((s) => s.state === 'online'), 15_000, 'birth message');
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    await waitFor(() => server.statuses.some((s) => s.state === 'offline'), 3000, 'offline status');
    const logs = run.out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['gateway starting', 'serial port open failed', 'mqtt connected', 'gateway stopped']));
    expect(run.out.stdout).not.toContain('pw-from-env');
  });
});
