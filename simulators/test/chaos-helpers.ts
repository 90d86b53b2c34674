/**
 * Shared rig of the process-level chaos tests: the server (`server/src/main.ts run`) and the
 * gateway (`gateway/src/main.ts run`) as child processes through tsx, simulated sensors behind
 * real pseudo-terminal pairs (socat), and the count of what the server's SQLite really holds.
 * Short intervals everywhere so that each test stays well under 30 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { hashPassword } from '@kentongan/server';
import { demoGatewayConfig, demoServerConfig } from '../src/demo/deployment.ts';
import { openPtyPair, type PtyPair } from '../src/pty/pty-pair.ts';
import { builtInScenarioPath, loadScenario, type Scenario } from '../src/scenarios/schema.ts';
import { attachSerial, type SerialAttachment } from '../src/sensors/serial-attachment.ts';
import { SimulatedSensor } from '../src/sensors/simulated-sensor.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One JSON log line of the gateway (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface ServerCount {
  /** Rows in the server's readings table. */
  rows: number;
  /** Distinct (sensor, epoch, seq, quantity): equals rows unless something was stored twice. */
  distinct: number;
  /** Per sensor, the stored (epoch, seq) pairs as "epoch:seq". */
  keys: Map<string, string[]>;
}

export class ChaosRig {
  server: ChildProcess | undefined;
  gateway: ChildProcess | undefined;
  readonly gatewayLog: LogLine[] = [];
  readonly sensors: SimulatedSensor[] = [];
  /** Called with every frame a sensor writes (index into `sensors`), before it is written. */
  onFrame: ((sensorIndex: number, frame: string) => void) | undefined;
  private attachments: (SerialAttachment | null)[] = [];
  private ptys: PtyPair[] = [];
  private readonly children: ChildProcess[] = [];
  private t = 0;

  private constructor(
    readonly dir: string,
    readonly scenario: Scenario,
    readonly httpUrl: string,
    private readonly serverConfigFile: string,
    private readonly gatewayConfigFile: string,
    private readonly password: string,
  ) {}

  static async create(): Promise<ChaosRig> {
    const dir = await mkdtemp(join(tmpdir(), 'kentongan-chaos-'));
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const password = randomBytes(12).toString('hex');
    const scenario = await loadScenario(builtInScenarioPath('banjir-cikeruh'));
    const serverConfigFile = join(dir, 'server.json');
    await writeFile(
      serverConfigFile,
      JSON.stringify({ ...demoServerConfig({ dataDir: join(dir, 'server'), httpPort, mqttPort, gatewayPasswordHash: await hashPassword(password) }), notify: { channels: [] } }),
    );
    const hostPath = (id: string) => join(dir, `${id}-host`);
    const gw = demoGatewayConfig({ dataDir: join(dir, 'gateway'), mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, password: '', scenario, ports: { hostPathOf: hostPath } });
    const gatewayConfigFile = join(dir, 'gateway.json');
    await writeFile(
      gatewayConfigFile,
      JSON.stringify({
        ...gw,
        mqtt: { ...gw.mqtt, password: undefined, batchIntervalMs: 50, ackTimeoutMs: 1500, reconnectPeriodMs: 100, reconnectMaxMs: 400 },
        serialReconnect: { minDelayMs: 50, maxDelayMs: 200 },
        healthIntervalS: 1,
      }),
    );
    const rig = new ChaosRig(dir, scenario, `http://127.0.0.1:${httpPort}`, serverConfigFile, gatewayConfigFile, password);
    for (const s of scenario.sensors) {
      rig.ptys.push(await openPtyPair(dir, s.id));
      rig.attachments.push(null);
    }
    for (const [i, s] of scenario.sensors.entries()) {
      const write = (frame: string) => {
        rig.onFrame?.(i, frame);
        rig.attachments[i]?.write(frame);
      };
      rig.sensors.push(new SimulatedSensor(s, write, scenario.heartbeatEveryTicks, scenario.durationS));
    }
    return rig;
  }

  /** Opens the device ends and boots the sensors (HEL). */
  async attachSensors(): Promise<void> {
    for (const [i, p] of this.ptys.entries()) this.attachments[i] = await attachSerial(p.devicePath);
    for (const s of this.sensors) s.boot();
  }

  /**
   * `n` reporting intervals of every sensor (or of the sensors at indexes `only`), `everyMs` apart
   * in real time; ends early once `stop.now` is set.
   */
  async tick(n: number, everyMs = 5, only?: number[], stop?: { now: boolean }): Promise<void> {
    for (let k = 0; k < n && !stop?.now; k++) {
      this.t += this.scenario.tickS;
      for (const [i, s] of this.sensors.entries()) if (!only || only.includes(i)) s.tick(this.t);
      if (everyMs > 0) await sleep(everyMs);
    }
    await Promise.all(this.attachments.map((a) => a?.flush()));
  }

  /** Readings the sensors produced (channel values of RDG frames; heartbeats are not mapped here). */
  produced(): number {
    return this.sensors.reduce((n, s) => n + s.counters.channelValues, 0);
  }

  /** The serial device of sensor `i` vanishes: its socat is killed (the cable is pulled). */
  async unplug(i: number): Promise<void> {
    await this.attachments[i]?.close().catch(() => {});
    this.attachments[i] = null;
    await this.ptys[i]!.close();
  }

  /** The device comes back at the same path. */
  async replug(i: number): Promise<void> {
    const spec = this.scenario.sensors[i]!;
    this.ptys[i] = await openPtyPair(this.dir, spec.id);
    this.attachments[i] = await attachSerial(this.ptys[i]!.devicePath);
  }

  /** Starts the server and waits until its HTTP health answers. */
  async startServer(): Promise<ChildProcess> {
    const child = this.spawn(['server/src/main.ts', 'run', '--config', this.serverConfigFile, '--log-level', 'warn'], {}, 'ignore');
    this.server = child;
    await this.until(async () => (await this.health()) !== null, 20_000, child, 'server health');
    return child;
  }

  /** Starts the gateway CLI; resolves once its ports are open and it is connected (or `connected: false`). */
  async startGateway({ waitConnected = true } = {}): Promise<ChildProcess> {
    const before = this.gatewayLog.length;
    const child = this.spawn(['gateway/src/main.ts', 'run', '--config', this.gatewayConfigFile, '--log-level', 'info'], { KENTONGAN_MQTT_PASSWORD: this.password }, 'pipe');
    this.gateway = child;
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        try {
          this.gatewayLog.push(JSON.parse(l) as LogLine);
        } catch {
          // A line cut by SIGKILL: not a log record.
        }
      }
    });
    const since = () => this.gatewayLog.slice(before);
    await this.until(async () => since().filter((l) => l.msg === 'serial port open').length >= this.ptys.length, 20_000, child, 'gateway ports open');
    if (waitConnected) await this.until(async () => since().some((l) => l.msg === 'mqtt connected'), 20_000, child, 'gateway connected');
    return child;
  }

  /** Sends `signal` and waits for the exit; returns the signal the process died of. */
  async kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<string> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return 'not running';
    const gone = new Promise<string>((r) => child.once('exit', (code, sig) => r(String(sig ?? code))));
    child.kill(signal);
    return gone;
  }

  /** What the server's SQLite holds (read-only connection; the server may be running). */
  count(): ServerCount {
    const db = new Database(join(this.dir, 'server', 'kentongan.db'), { readonly: true, fileMustExist: true });
    try {
      const { n_rows: rows, n_distinct: distinct } = db
        .prepare("SELECT COUNT(*) AS n_rows, COUNT(DISTINCT sensor_id || '/' || epoch || '/' || seq || '/' || quantity) AS n_distinct FROM readings")
        .get() as { n_rows: number; n_distinct: number };
      const keys = new Map<string, string[]>();
      for (const r of db.prepare('SELECT sensor_id AS s, epoch AS e, seq AS q FROM readings ORDER BY sensor_id, epoch, seq').all() as { s: string; e: number; q: number }[]) {
        keys.set(r.s, [...(keys.get(r.s) ?? []), `${r.e}:${r.q}`]);
      }
      return { rows, distinct, keys };
    } finally {
      db.close();
    }
  }

  /** Waits until the server holds `n` readings. */
  async storedAtLeast(n: number, ms = 20_000): Promise<void> {
    await this.until(async () => this.countRows() >= n, ms, undefined, `${n} readings stored`);
  }

  countRows(): number {
    try {
      const db = new Database(join(this.dir, 'server', 'kentongan.db'), { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0; // not created yet
    }
  }

  async health(): Promise<{ db: { readings: number } } | null> {
    try {
      const res = await fetch(`${this.httpUrl}/api/v1/health`);
      return res.status === 200 ? ((await res.json()) as { db: { readings: number } }) : null;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    for (const a of this.attachments) await a?.close().catch(() => {});
    for (const c of this.children) await this.kill(c, 'SIGKILL');
    for (const p of this.ptys) await p.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }

  private spawn(args: string[], env: Record<string, string>, stdout: 'ignore' | 'pipe'): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', stdout, 'pipe'] });
    this.children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-2000)));
    (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => stderr;
    return child;
  }

  private async until(cond: () => Promise<boolean>, ms: number, child: ChildProcess | undefined, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`process exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}: ${(child as ChildProcess & { stderrTail?: () => string }).stderrTail?.()}`);
      }
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await sleep(25);
    }
  }
}

/** A TCP port free right now on 127.0.0.1: a restarted server must come back on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
