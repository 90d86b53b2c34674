#!/usr/bin/env -S npx tsx
/**
 * CLI: `tsx gateway/src/main.ts --config FILE` (or `... run --config FILE`).
 * Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 for a bad config, 1 for any other failure.
 */
import { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { loadGatewayConfig } from './config/load.ts';
import { ConfigError } from './errors.ts';
import { startGateway, type RunningGateway } from './gateway.ts';

interface RunOptions {
  config: string;
  pretty?: boolean;
  logLevel: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

async function run(opts: RunOptions): Promise<number> {
  let config;
  try {
    config = loadGatewayConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Konfigurasi tidak valid / invalid configuration (${opts.config}):\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (!LOG_LEVELS.includes(opts.logLevel)) {
    process.stderr.write(`--log-level must be one of ${LOG_LEVELS.join(', ')}\n`);
    return 2;
  }
  const logger: Logger = opts.pretty
    ? pino({ level: opts.logLevel, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } })
    : pino({ level: opts.logLevel });

  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'gateway failed to start');
    logger.flush();
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal while stopping: the operator insists; leave now (the queue is on disk).
        logger.warn({ signal }, 'second signal: exiting without waiting');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      gateway.stop().then(
        () => resolve(0),
        (err) => {
          logger.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }).finally(() => logger.flush());
}

const program = new Command()
  .name('kentongan-gateway')
  .description('Kentongan field gateway: serial sensors -> durable queue -> MQTT');

program
  .command('run', { isDefault: true })
  .description('run the gateway (default command)')
  .requiredOption('-c, --config <file>', 'gateway configuration (JSON)')
  .option('--pretty', 'human-readable logs (pino-pretty) instead of JSON')
  .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
  .action(async (opts: RunOptions) => {
    const code = await run(opts).catch((err: unknown) => {
      process.stderr.write(`gateway failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    });
    process.exit(code);
  });

await program.parseAsync(process.argv);
