/**
 * `npm run demo`: the whole system on one machine with its embedded defaults — server with
 * embedded MQTT broker and SQLite, one gateway reading simulated sensors over real
 * pseudo-terminal serial ports, a scenario played in accelerated time.
 *
 *   npm run demo                      play the flood, then keep running until Ctrl-C
 *   npm run demo -- --duration 60     play it within 60 s and end with the summary line
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { parseGatewayConfig, startGateway } from '@kentongan/gateway';
import { hashPassword, parseServerConfig, startServer } from '@kentongan/server';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { ScenarioRunner } from '../scenarios/runner.ts';
import { builtInScenarioPath, loadScenario } from '../scenarios/schema.ts';
import { attachSerial, type SerialAttachment } from '../sensors/serial-attachment.ts';
import { prepareDemoDataDir } from './data-dir.ts';
import { demoGatewayConfig, demoServerConfig } from './deployment.ts';
import { describeChange, say, scenarioClock } from './output.ts';

const wholeNumber = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number >= ${min}`);
  return n;
};

const program = new Command()
  .name('kentongan-demo')
  .description('Run Kentongan end to end with simulated sensors / Jalankan Kentongan dengan sensor simulasi')
  .option('--duration <seconds>', 'stop after this many seconds and print the summary line', wholeNumber(1))
  .option('--scenario <name|path>', 'scenario name in simulators/scenarios or a file path', 'banjir-cikeruh')
  .option('--http-port <port>', 'HTTP port of the server (dashboard, API; 0 = any free port)', wholeNumber(0), 8080)
  .option('--mqtt-port <port>', 'TCP port of the embedded MQTT broker (0 = any free port)', wholeNumber(0), 1883)
  .option('--data-dir <dir>', 'where the demo keeps its databases and logs (wiped at start if the demo made it)', './data/demo')
  .parse();

const opts = program.opts<{ duration?: number; scenario: string; httpPort: number; mqttPort: number; dataDir: string }>();

async function main(): Promise<number> {
  const dataDir = resolve(opts.dataDir);
  await prepareDemoDataDir(dataDir);
  await mkdir(join(dataDir, 'tty'), { recursive: true });
  const logFile = join(dataDir, 'kentongan.log');
  const logger = pino({ level: 'info' }, pino.destination({ dest: logFile, mkdir: true, sync: false }));

  const scenarioPath = opts.scenario.endsWith('.json') ? opts.scenario : builtInScenarioPath(opts.scenario);
  const scenario = await loadScenario(scenarioPath);
  const deadline = opts.duration ? Date.now() + opts.duration * 1000 : Infinity;

  say(`Kentongan demo — skenario / scenario: ${scenario.title.id} / ${scenario.title.en}`);
  say(`  ${scenario.description.id}`);
  say(`  ${scenario.description.en}`);
  say(`  Log teknis / technical log: ${logFile}`);

  const ptys: PtyPair[] = [];
  for (const s of scenario.sensors) ptys.push(await openPtyPair(join(dataDir, 'tty'), s.id));
  say(`Port serial semu dibuat / pseudo-terminal serial ports made (${ptys[0]!.via}): ${ptys.map((p) => p.hostPath).join(', ')}`);

  const password = randomBytes(18).toString('base64url');
  const server = await startServer(
    parseServerConfig(
      demoServerConfig({
        dataDir: join(dataDir, 'server'),
        httpPort: opts.httpPort,
        mqttPort: opts.mqttPort,
        gatewayPasswordHash: await hashPassword(password),
      }),
    ),
    {
      logger: logger.child({ component: 'server' }),
      // The console notification channel: what a resident or operator would receive.
      engineOptions: { consoleWriter: (text) => say(`PESAN / MESSAGE: ${text.trimEnd()}`) },
    },
  );
  server.engine.onChange((c) => say(describeChange(c)));
  say(`Dasbor operator / operator dashboard: ${server.httpUrl}/`);
  say(`API: ${server.httpUrl}/api/v1  dokumentasi / docs: ${server.httpUrl}/documentation`);
  say(`Broker MQTT / MQTT broker: ${server.mqttUrl}`);

  const gateway = await startGateway(
    parseGatewayConfig(
      demoGatewayConfig({
        dataDir: join(dataDir, 'gateway'),
        mqttUrl: server.mqttUrl,
        password,
        scenario,
        ports: { hostPathOf: (id) => ptys[scenario.sensors.findIndex((s) => s.id === id)]!.hostPath },
      }),
    ),
    { logger: logger.child({ component: 'gateway' }) },
  );

  const attachments: SerialAttachment[] = [];
  for (const p of ptys) attachments.push(await attachSerial(p.devicePath));
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  let lastReport = -1;
  // With a duration, play the scenario in 80 % of the time left after start-up, keeping the
  // rest to drain the queues; without one, one scenario hour per 5 real seconds.
  const remainingMs = deadline - Date.now();
  const speed = opts.duration ? scenario.durationS / Math.max(0.5, (remainingMs * 0.8) / 1000) : 720;
  const runner = new ScenarioRunner(scenario, {
    speed,
    signal: abort.signal,
    sinkFor: (id) => attachments[scenario.sensors.findIndex((s) => s.id === id)]!.write,
    onProgress: ({ t, durationS }) => {
      const decile = Math.floor((t / durationS) * 10);
      if (decile === lastReport) return;
      lastReport = decile;
      const st = server.stats();
      say(`Skenario / scenario ${scenarioClock(t)} — ${st.readingsStored} data tersimpan / readings stored`);
    },
  });
  runner.sensors.forEach((s, i) => attachments[i]!.onLine((line) => s.onLine(line)));

  // A safety net: should the machine be too slow to keep pace, stop playing in time to drain.
  const stopAt = opts.duration ? setTimeout(() => abort.abort(), remainingMs * 0.9) : undefined;
  await runner.run();
  await Promise.all(attachments.map((a) => a.flush()));

  if (!opts.duration) {
    say('Skenario selesai; sistem tetap berjalan. Tekan Ctrl-C untuk berhenti. / Scenario done; the system keeps running. Press Ctrl-C to stop.');
    if (!abort.signal.aborted) await new Promise((r) => abort.signal.addEventListener('abort', r, { once: true }));
  }
  clearTimeout(stopAt);

  // Let the gateway deliver everything it queued and the outbox send what it owes.
  const drainBudgetMs = Math.min(8000, Math.max(500, deadline - Date.now() - 300));
  await gateway.drained(drainBudgetMs).catch(() => say('Peringatan: antrean gateway belum kosong / warning: gateway queue not empty'));
  const outboxDeadline = Math.min(Date.now() + 5000, Math.max(Date.now() + 200, deadline - 200));
  while (server.stats().notificationsPending > 0 && Date.now() < outboxDeadline) await new Promise((r) => setTimeout(r, 100));

  const st = server.stats();
  const sent = runner.channelValuesSent();
  const lost = Math.max(0, sent - st.readingsStored);
  const gw = gateway.stats();
  const rejected = Object.values(gw.rejectedFrames).reduce((a, b) => a + b, 0);
  say(`Sensor mengirim ${sent} nilai, ${rejected} bingkai ditolak / sensors sent ${sent} values, ${rejected} frames rejected`);

  for (const a of attachments) await a.close();
  await gateway.stop();
  await server.stop();
  for (const p of ptys) await p.close();
  logger.flush();

  console.log(
    `demo: ${st.readingsStored} readings stored, ${st.alertsRaised} alerts raised (max level ${st.maxLevel}), ` +
      `${st.notificationsSent} notifications sent, ${lost} lost`,
  );
  return lost === 0 && st.readingsStored === sent ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`demo gagal / demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
