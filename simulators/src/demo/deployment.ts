/**
 * The demo deployment: one river gauge post on the Cikeruh at Jatinangor (Sumedang) with a
 * water-level sensor and a tipping-bucket rain gauge, behind one gateway. Builds the server
 * and gateway configs the same way an operator would write them by hand.
 *
 * The server side comes from server/config/example.json. Its water-level thresholds map the
 * Katulampa gauge scheme (weir chief, 2018; BPBD practice)
 * onto the four BNPB levels, as an example until BPBD sets Cikeruh's own at commissioning:
 * Siaga 4 (60-80 cm) and Siaga 3 (90-150) -> Waspada from 60 cm; Siaga 2 (160-200) -> Siaga;
 * Siaga 1 (210-250, evacuate) -> Awas. Each level clears 5-10 cm below (hysteresis).
 */
import type { GatewayConfigInput } from '@kentongan/gateway';
import type { ServerConfigInput } from '@kentongan/server';
import exampleServerConfig from '@kentongan/server/config/example.json' with { type: 'json' };
import type { Scenario } from '../scenarios/schema.ts';

export const DEMO_GATEWAY_ID = 'gw-cikeruh';

export interface DemoPorts {
  /** Host-side serial path of each sensor, by sensor id. */
  hostPathOf: (sensorId: string) => string;
}

export function demoServerConfig(opts: {
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  gatewayPasswordHash: string;
  webhookUrl?: string;
}): ServerConfigInput {
  // Areas, sites, sensors and rules come from the shipped example: one source for the
  // Cikeruh deployment, so the demo shows exactly what a newcomer starts from.
  const { areas, sites, sensors, rules, notify } = exampleServerConfig as ServerConfigInput;
  return {
    dataDir: opts.dataDir,
    http: { host: '127.0.0.1', port: opts.httpPort },
    mqtt: { host: '127.0.0.1', port: opts.mqttPort },
    gateways: [{ id: DEMO_GATEWAY_ID, passwordHash: opts.gatewayPasswordHash }],
    areas,
    sites,
    // Bind each sensor to the demo gateway: no other gateway may send its readings.
    sensors: sensors?.map((sensor) => ({ ...sensor, gatewayId: DEMO_GATEWAY_ID })),
    rules,
    notify: {
      ...notify,
      channels: [
        { kind: 'console', id: 'console' },
        ...(opts.webhookUrl ? [{ kind: 'webhook' as const, id: 'webhook', url: opts.webhookUrl }] : []),
      ],
    },
  };
}

/** Channel maps by sensor type: what each raw channel becomes after calibration. */
const CHANNEL_MAPS: Record<string, NonNullable<GatewayConfigInput['sensors']>[number]['channels']> = {
  water_level: { level_cm: { quantity: 'water_level', scale: 1, offset: 0, range: { min: -50, max: 2000 } } },
  rain: { tips: { quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } } },
};

export function demoGatewayConfig(opts: {
  dataDir: string;
  mqttUrl: string;
  password: string;
  scenario: Scenario;
  ports: DemoPorts;
}): GatewayConfigInput {
  const sensors = opts.scenario.sensors.map((s) => {
    const channels = CHANNEL_MAPS[s.type];
    if (!channels) throw new Error(`demo has no channel map for sensor type ${s.type}`);
    return { id: s.id, port: opts.ports.hostPathOf(s.id), channels };
  });
  return {
    gatewayId: DEMO_GATEWAY_ID,
    dataDir: opts.dataDir,
    mqtt: { url: opts.mqttUrl, username: DEMO_GATEWAY_ID, password: opts.password, batchIntervalMs: 200 },
    ports: sensors.map((s) => ({ path: s.port, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 })),
    sensors,
    healthIntervalS: 10,
  };
}
