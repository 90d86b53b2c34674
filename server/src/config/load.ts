/**
 * Parsing and loading the server config. Errors come back as one `ConfigError` whose lines are
 * `path: message`, the way every config and payload error is reported in Kentongan.
 */
import { readFile } from 'node:fs/promises';
import { formatZodError } from '@kentongan/firmware-protocol';
import { validateAlertConfig } from '../alerts/index.ts';
import { ConfigError } from '../errors.ts';
import { serverConfigSchema, type ServerConfig } from './schema.ts';

/**
 * Validates a config object (already parsed from JSON) and fills in defaults. Besides the schema
 * it checks what a schema cannot see: duplicate ids, and (through the alert engine's
 * `validateAlertConfig`) references between sections (a sensor's site, a site's area, a rule's
 * sensor), because an alert without a known area cannot be routed.
 * @throws ConfigError with `path: message` lines.
 */
export function parseServerConfig(json: unknown): ServerConfig {
  const result = serverConfigSchema.safeParse(json);
  if (!result.success) throw new ConfigError(formatZodError(result.error).split('\n'), { cause: result.error });
  // Each check has one owner, so each problem prints once. The alert engine owns what it needs
  // to route alerts (references site -> area, sensor -> site, rule -> sensor; rule and channel
  // ids; thresholds) and runs the same checks when it starts; here only the remaining ids.
  const problems = [...duplicateIdProblems(result.data), ...validateAlertConfig(result.data)];
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/**
 * Reads a JSON config file and validates it.
 * @throws ConfigError (unreadable file, invalid JSON or invalid config).
 */
export async function loadServerConfig(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`(file): cannot read ${path}: ${(err as Error).message}`], { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`(root): invalid JSON in ${path}: ${(err as Error).message}`], { cause: err });
  }
  return parseServerConfig(json);
}

/** Duplicate ids of the sections the alert engine does not check itself. */
function duplicateIdProblems(config: ServerConfig): string[] {
  const problems: string[] = [];
  const uniqueIds = (section: string, items: readonly { id: string }[]): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.id)) problems.push(`${section}.${i}.id: duplicate id "${item.id}"`);
      seen.add(item.id);
    });
  };
  uniqueIds('gateways', config.gateways);
  uniqueIds('areas', config.areas);
  uniqueIds('sites', config.sites);
  uniqueIds('sensors', config.sensors);
  const gateways = new Set(config.gateways.map((g) => g.id));
  config.sensors.forEach((s, i) => {
    if (s.gatewayId !== undefined && !gateways.has(s.gatewayId)) {
      problems.push(`sensors.${i}.gatewayId: unknown gateway "${s.gatewayId}"`);
    }
  });
  return problems;
}
