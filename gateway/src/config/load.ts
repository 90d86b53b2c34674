/**
 * Reads and validates the gateway configuration. Errors come back as one ConfigError whose
 * message is `path: message` lines, the same form the server and the payload parsers use.
 */
import { readFileSync } from 'node:fs';
import { formatZodError } from '@kentongan/firmware-protocol';
import { ConfigError } from '../errors.ts';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

/** Environment variable that overrides `mqtt.password`, so the secret need not sit in the file. */
export const PASSWORD_ENV = 'KENTONGAN_MQTT_PASSWORD';

/** Largest config file read: a gateway config is a few kB; this refuses a wrong file early. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Validates a configuration object (already parsed JSON). `env` supplies the password override;
 * pass `{}` to ignore the process environment.
 */
export function parseGatewayConfig(json: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(json);
  if (!result.success) throw new ConfigError('config_invalid', formatZodError(result.error), { cause: result.error });
  const config = result.data;
  const password = env[PASSWORD_ENV];
  if (password !== undefined && password !== '') config.mqtt.password = password;
  return config;
}

/** Reads a JSON config file and validates it. */
export function loadGatewayConfig(path: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    const buffer = readFileSync(path);
    if (buffer.length > MAX_CONFIG_BYTES) {
      throw new ConfigError('config_unreadable', `(file): ${path} is ${buffer.length} bytes, more than ${MAX_CONFIG_BYTES}`);
    }
    text = buffer.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('config_unreadable', `(file): cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config_invalid', `(root): invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseGatewayConfig(json, env);
}
