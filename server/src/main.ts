/**
 * Command line of the Kentongan server.
 *
 *   tsx server/src/main.ts run [--config FILE] [--log-level LEVEL] [--pretty]
 *   tsx server/src/main.ts hash-password < password.txt
 *   tsx server/src/main.ts backtest --config FILE [--rules FILE] --from T --to T [--json]
 *
 * Exit codes: 0 normal stop, 1 start-up or runtime failure, 2 bad config or usage.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { backtestCommand } from './backtest/cli.ts';
import { hashPassword } from './broker/passwords.ts';
import { loadServerConfig, parseServerConfig } from './config/load.ts';
import type { ServerConfig } from './config/schema.ts';
import { ConfigError } from './errors.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

const program = new Command()
  .name('kentongan-server')
  .description('Kentongan server: MQTT broker, ingest, storage, alerts, HTTP API / server peringatan dini Kentongan');

program
  .command('run')
  .description('start the server / jalankan server')
  .option('-c, --config <file>', 'JSON config file; without it the embedded defaults are used (dataDir ./data/server)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'))
  .option('--pretty', 'human-readable logs (default when stdout is a terminal)', process.stdout.isTTY === true)
  .action(async (opts: { config?: string; logLevel: string; pretty: boolean }) => {
    process.exitCode = await run(opts);
  });

program
  .command('backtest')
  .description('run rules over stored history and report what they would have raised / uji balik aturan pada data tersimpan')
  .requiredOption('-c, --config <file>', 'JSON config file (its dataDir holds the history; its rules are the default)')
  .option('-r, --rules <file>', 'JSON rule set to test (an array or { "rules": [...] }); default: the config\'s rules')
  .requiredOption('--from <time>', 'start, ISO time with zone or YYYY-MM-DD (00:00 WIB)')
  .requiredOption('--to <time>', 'end, ISO time with zone or YYYY-MM-DD (00:00 WIB)')
  .option('--json', 'print the report as one JSON object')
  .action(async (opts: { config: string; rules?: string; from: string; to: string; json?: boolean }) => {
    let config: ServerConfig;
    try {
      config = await loadServerConfig(opts.config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`Konfigurasi tidak valid / invalid config (${opts.config}):\n${err.lines.map((l) => `  ${l}\n`).join('')}`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = await backtestCommand(config, opts, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  });

program
  .command('hash-password')
  .description('read a password from stdin and print its hash for gateways[].passwordHash / buat hash kata sandi')
  .action(async () => {
    const password = process.stdin.isTTY ? await readHiddenLine() : (await readStdin()).replace(/\r?\n$/, '');
    if (password === null) {
      process.stderr.write('dibatalkan / cancelled\n');
      process.exitCode = 130;
      return;
    }
    if (password.length === 0) {
      process.stderr.write('kata sandi kosong / empty password\n');
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`${await hashPassword(password)}\n`);
  });

async function run(opts: { config?: string; logLevel: string; pretty: boolean }): Promise<number> {
  let config: ServerConfig;
  try {
    config = opts.config ? await loadServerConfig(opts.config) : parseServerConfig({});
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Konfigurasi tidak valid / invalid config${opts.config ? ` (${opts.config})` : ''}:\n`);
      for (const line of err.lines) process.stderr.write(`  ${line}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: opts.logLevel, pretty: opts.pretty });
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'server failed to start');
    process.stderr.write(`server gagal mulai / failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(
    `Kentongan berjalan / running: API ${server.httpUrl}/api/v1, dokumentasi / docs ${server.httpUrl}/documentation, MQTT ${server.mqttUrl}\n`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      // A second signal while stopping means "now".
      process.once('SIGINT', () => process.exit(1));
      process.once('SIGTERM', () => process.exit(1));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await server.stop();
  logger.flush();
  return 0;
}

/**
 * Reads one line from the terminal without showing it: readline puts the terminal in raw mode
 * and its echo goes to a stream that discards it; the prompt goes to stderr so stdout carries
 * only the hash. Resolves null on Ctrl-C, and what was typed on Ctrl-D or Enter.
 */
function readHiddenLine(): Promise<string | null> {
  const muted = new Writable({ write: (_chunk, _enc, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  // The prompt only once the terminal is in raw mode: a person (or a test) typing right after
  // seeing it must not have the first characters echoed by the terminal's cooked mode.
  process.stderr.write('Kata sandi (tidak ditampilkan), lalu Enter / password (not shown), then Enter: ');
  return new Promise((resolve) => {
    let answer: string | null = '';
    rl.once('line', (line) => {
      answer = line;
      rl.close();
    });
    rl.once('SIGINT', () => {
      answer = null;
      rl.close();
    });
    rl.once('close', () => {
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 4096) {
        reject(new Error('input longer than 4096 bytes'));
        process.stdin.destroy();
        return;
      }
      chunks.push(c);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
