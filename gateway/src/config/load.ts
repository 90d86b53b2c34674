/**
 * Reads and validates the gateway configuration. Errors come back as one ConfigError whose
 * message is `path: message` lines, the same form the server and the payload parsers use.
 */
import { readFileSync } from 'node:fs';
import { formatZodError } from '@kentongan/firmware-protocol';
import { ConfigError } from '../errors.ts';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

/**
 * Environment variable that overrides `mqtt.password`, so the secret need not sit in the file.
 * One of the two must give a password, or the configuration is refused.
 */
export const PASSWORD_ENV = 'KENTONGAN_MQTT_PASSWORD';

/** Largest config file read: a gateway config is a few kB; this refuses a wrong file early. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Validates a configuration object (already parsed JSON). `env` supplies the password override;
 * pass `{}` to ignore the process environment.
 */
export function parseGatewayConfig(json: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(json);
  const envPassword = env[PASSWORD_ENV];
  const hasEnvPassword = envPassword !== undefined && envPassword !== '';
  const passwordProblem = hasEnvPassword ? null : filePasswordProblem(json);
  if (!result.success || passwordProblem) {
    const lines = [...(result.success ? [] : [formatZodError(result.error)]), ...(passwordProblem ? [passwordProblem] : [])];
    throw new ConfigError('config_invalid', lines.join('\n'), result.success ? {} : { cause: result.error });
  }
  const config = result.data;
  if (hasEnvPassword) config.mqtt.password = envPassword;
  return config;
}

/**
 * The text an earlier example file put in `mqtt.password`; a config copied from it must not
 * send that text to the broker as the real password.
 */
const OLD_EXAMPLE_PLACEHOLDER = 'set KENTONGAN_MQTT_PASSWORD instead of writing it here';

/**
 * Without the environment variable the file must give the password (the broker of a Kentongan
 * server refuses a gateway without one). Returns a `path: message` line, or null when it is fine
 * or when the schema reports the field itself (wrong type).
 */
function filePasswordProblem(json: unknown): string | null {
  const mqtt = typeof json === 'object' && json !== null ? (json as { mqtt?: unknown }).mqtt : undefined;
  const password = typeof mqtt === 'object' && mqtt !== null ? (mqtt as { password?: unknown }).password : undefined;
  if (password === undefined || password === '') {
    return `mqtt.password: is required: set the environment variable ${PASSWORD_ENV} (preferred) or mqtt.password in the file`;
  }
  if (password === OLD_EXAMPLE_PLACEHOLDER) {
    return `mqtt.password: is the placeholder text of the example file, not a password: set ${PASSWORD_ENV} or the real password`;
  }
  return null;
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
