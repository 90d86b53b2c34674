/**
 * MQTT topic contract (SPEC.md §5). Every topic lives under `kentongan/v1/`.
 * A gateway may publish only below `kentongan/v1/gw/<gatewayId>/`; the server enforces it.
 */
export const TOPIC_ROOT = 'kentongan/v1';

/** Gateway and area ids: letters, digits, `-` and `_`, 1..32 chars, so they are safe as one topic level. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export const topics = {
  gatewayRoot: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}`,
  /** gateway -> server, QoS 1: a batch of readings. */
  readings: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/readings`,
  /** server -> gateway, QoS 1: the batch is durably stored; the gateway may drop it from its queue. */
  ack: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/ack`,
  /** gateway -> server, QoS 1, retained: birth (`online`) and will (`offline`). */
  status: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/status`,
  /** gateway -> server, QoS 0: periodic health (queue depth, rejected frames, sensors). */
  health: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/health`,
  /** server -> gateway, QoS 1, retained: the desired gateway config (remote configuration, SPEC §5.8). */
  config: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/config`,
  /** gateway -> server, QoS 1, retained: which config version is applied, or why a pushed one was refused. */
  configStatus: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/config-status`,
  /** gateway -> server, QoS 1: records of local alarms raised while cut off (acked on `ack`). */
  alarms: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/alarms`,
  /** server -> gateway, QoS 1: drive a local output (siren, lamp) with a level pattern. */
  output: (gatewayId: string) => `${TOPIC_ROOT}/gw/${gatewayId}/output`,
  /** server -> everyone, QoS 1, retained: the current warning level of an area. */
  alert: (areaId: string) => `${TOPIC_ROOT}/alerts/${areaId}`,
  /** Subscription filters the server uses. */
  allReadings: `${TOPIC_ROOT}/gw/+/readings`,
  allStatus: `${TOPIC_ROOT}/gw/+/status`,
  allHealth: `${TOPIC_ROOT}/gw/+/health`,
  allConfigStatus: `${TOPIC_ROOT}/gw/+/config-status`,
  allAlarms: `${TOPIC_ROOT}/gw/+/alarms`,
} as const;

export type GatewayTopicKind =
  | 'readings'
  | 'ack'
  | 'status'
  | 'health'
  | 'config'
  | 'config-status'
  | 'alarms'
  | 'output';

/** Parses `kentongan/v1/gw/<id>/<kind>`; returns null for anything else. */
export function parseGatewayTopic(topic: string): { gatewayId: string; kind: string } | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'gw') return null;
  const gatewayId = parts[3]!;
  if (!ID_PATTERN.test(gatewayId)) return null;
  return { gatewayId, kind: parts[4]! };
}
