/**
 * Chaos, at process level: the server is a child process, killed with SIGKILL (no graceful stop,
 * no flush) while the sensors are streaming, then restarted on the same ports and data folder.
 * The reliability promise: every reading the sensors produced is stored exactly once. The gateway
 * keeps unacknowledged readings in its disk queue and resends them; the store ignores repeats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig, startGateway, type RunningGateway } from '@kentongan/gateway';
import { hashPassword } from '@kentongan/server';
import { demoGatewayConfig, demoServerConfig } from '../src/demo/deployment.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import { ScenarioRunner } from '../src/scenarios/runner.ts';
import { builtInScenarioPath, loadScenario } from '../src/scenarios/schema.ts';
import { attachSerial, type SerialAttachment } from '../src/sensors/serial-attachment.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const QUANTITY_OF: Record<string, string> = { 'ckr-wl-01': 'water_level', 'ckr-rg-01': 'rain' };

describe('server killed with SIGKILL mid-stream and restarted', () => {
  let dir: string;
  let httpUrl: string;
  let configFile: string;
  const children: ChildProcess[] = [];
  let gateway: RunningGateway | undefined;
  const ptys: PtyPair[] = [];
  const attachments: SerialAttachment[] = [];
  let runner: ScenarioRunner;
  const startedAt = new Date();
  /** What the test saw around the kill, to prove it interrupted the stream. */
  const atKill = { storedBefore: -1, scenarioDone: true, queueDepthWhileDown: 0, connectedWhileDown: true, exitSignal: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kentongan-chaos-'));
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    const password = randomBytes(12).toString('hex');
    const serverConfig = {
      ...demoServerConfig({ dataDir: join(dir, 'server'), httpPort, mqttPort, gatewayPasswordHash: await hashPassword(password) }),
      notify: { channels: [] },
    };
    configFile = join(dir, 'server.json');
    await writeFile(configFile, JSON.stringify(serverConfig));
    let server = await startServerProcess();

    const scenario = await loadScenario(builtInScenarioPath('banjir-cikeruh'));
    for (const s of scenario.sensors) ptys.push(await openPtyPair(dir, s.id));
    gateway = await startGateway(
      parseGatewayConfig(
        demoGatewayConfig({
          dataDir: join(dir, 'gateway'),
          mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
          password,
          scenario,
          ports: { hostPathOf: (id) => ptys[scenario.sensors.findIndex((s) => s.id === id)]!.hostPath },
        }),
      ),
      { logger: pino({ level: 'silent' }) },
    );
    for (const p of ptys) attachments.push(await attachSerial(p.devicePath));

    // 721 reporting intervals, 8 ms apart in real time (about 6 s of streaming, so that the kill lands
    // mid-stream even on a loaded machine).
    runner = new ScenarioRunner(scenario, {
      speed: 60 / 0.008,
      sinkFor: (id) => attachments[scenario.sensors.findIndex((s) => s.id === id)]!.write,
    });
    let scenarioDone = false;
    const run = runner.run().then(() => (scenarioDone = true));

    // Kill once the server has stored some readings: the stream is then surely under way.
    await waitFor(async () => ((await health())?.db.readings ?? 0) > 50, 15_000);
    atKill.storedBefore = (await health())!.db.readings;
    atKill.scenarioDone = scenarioDone;
    const exited = new Promise<NodeJS.Signals | null>((r) => server.once('exit', (_code, signal) => r(signal)));
    server.kill('SIGKILL');
    atKill.exitSignal = String(await exited);
    // The sensors keep reporting into the gateway's disk queue while no server is there.
    await sleep(1000);
    atKill.queueDepthWhileDown = gateway.stats().queueDepth;
    atKill.connectedWhileDown = gateway.stats().connected;

    server = await startServerProcess();
    await run;
    await Promise.all(attachments.map((a) => a.flush()));
    await gateway.drained(20_000);
  }, 60_000);

  afterAll(async () => {
    for (const a of attachments) await a.close().catch(() => {});
    await gateway?.stop().catch(() => {});
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
    for (const p of ptys) await p.close().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('really killed the server while readings were streaming', () => {
    expect(atKill.exitSignal).toBe('SIGKILL');
    expect(atKill.scenarioDone).toBe(false);
    expect(atKill.storedBefore).toBeLessThan(runner.channelValuesSent());
    // Readings piled up in the gateway's queue while the server was gone.
    expect(atKill.connectedWhileDown).toBe(false);
    expect(atKill.queueDepthWhileDown).toBeGreaterThan(0);
  });

  it('stores every reading exactly once after the restart', async () => {
    const sent = runner.channelValuesSent();
    expect(sent).toBe(2 * 721);
    expect((await health())!.db.readings).toBe(sent);
    const gw = gateway!.stats();
    expect(gw.queueDepth).toBe(0);
    expect(gw.readingsAccepted).toBe(sent);
    expect(gw.gaps).toEqual({ 'ckr-wl-01': 0, 'ckr-rg-01': 0 });
  });

  it('holds, per sensor, exactly the readings it sent, each (epoch, seq) once', async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    for (const sensor of runner.sensors) {
      const id = sensor.spec.id;
      const q = new URLSearchParams({ quantity: QUANTITY_OF[id]!, limit: '10000', from: new Date(startedAt.getTime() - 60_000).toISOString(), to });
      const res = await fetch(`${httpUrl}/api/v1/sensors/${id}/readings?${q}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { truncated: boolean; readings: { epoch: number; seq: number }[] };
      expect(body.truncated).toBe(false);
      expect(body.readings.length).toBe(sensor.counters.channelValues);
      expect(new Set(body.readings.map((r) => `${r.epoch}:${r.seq}`)).size).toBe(body.readings.length);
    }
  });

  /** Starts `server/src/main.ts run` as a child process and waits until its health answers 200. */
  async function startServerProcess(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'run', '--config', configFile, '--log-level', 'warn'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    const exitedEarly = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`server exited early (${code ?? signal}): ${stderr}`))),
    );
    exitedEarly.catch(() => {});
    await Promise.race([waitFor(async () => (await health()) !== null, 20_000), exitedEarly]);
    return child;
  }

  async function health(): Promise<{ db: { readings: number } } | null> {
    try {
      const res = await fetch(`${httpUrl}/api/v1/health`);
      return res.status === 200 ? ((await res.json()) as { db: { readings: number } }) : null;
    } catch {
      return null; // not listening (yet, or any more)
    }
  }
});

/** A TCP port free right now on 127.0.0.1: the restarted server must come back on the same one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
