/**
 * Which parts of the gateway config the server may set, and how a pushed config becomes the
 * running one: the pushed keys replace the same keys of the LOCAL FILE's config (a key left out
 * of a push goes back to the file's value, so each push is the whole desired state), and the
 * result passes the gateway's own schema, cross-field checks included.
 *
 * Local only: `gatewayId`, `dataDir`, `mqtt` (a wrong broker address or password pushed over the
 * link would cut the gateway off for good), `queue` (the queue is never touched by a push),
 * `replay`, `clock`, `healthIntervalS` (read by the publisher at start), `linkQualityFile`.
 */
import { formatZodError } from '@kentongan/firmware-protocol';
import { gatewayConfigSchema, type GatewayConfig } from '../config/schema.ts';

/** Keys a config push may carry. */
export const REMOTE_KEYS: readonly string[] = [
  'ports',
  'sensors',
  'serialReconnect',
  'modbus',
  'localRules',
  'outputs',
  'offlineAfterMs',
];

export type MergeResult = { ok: true; config: GatewayConfig } | { ok: false; error: string };

export function mergeRemoteConfig(fileConfig: GatewayConfig, pushed: Record<string, unknown>): MergeResult {
  const problems: string[] = [];
  for (const key of Object.keys(pushed)) {
    if (!REMOTE_KEYS.includes(key)) problems.push(`config.${key}: cannot be set remotely (local file only); remote keys: ${REMOTE_KEYS.join(', ')}`);
  }
  if (problems.length > 0) return { ok: false, error: problems.join('\n') };
  const result = gatewayConfigSchema.safeParse({ ...fileConfig, ...pushed });
  if (!result.success) {
    return { ok: false, error: formatZodError(result.error).split('\n').map((l) => `config.${l}`).join('\n') };
  }
  // The password comes from the file or the environment, never from a push.
  return { ok: true, config: { ...result.data, mqtt: fileConfig.mqtt } };
}
