import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/config/load.ts';

const base = (modbus: unknown, extra: Record<string, unknown> = {}) => ({
  gatewayId: 'gw-1',
  dataDir: '/tmp/x',
  mqtt: { url: 'mqtt://127.0.0.1:1883', password: 'pw' },
  modbus,
  ...extra,
});
const errorOf = (json: unknown) => {
  try {
    parseGatewayConfig(json, {});
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
};

const radar = { sensorId: 'ckr-radar-01', unitId: 1, values: [{ name: 'level', address: 0, scale: 0.1, unit: 'cm', quantity: 'water_level', pollIntervalS: 10 }] };

describe('modbus config', () => {
  it('fills the defaults: 9600 8E1, 500 ms timeout, one retry, function 03, uint16 big-endian', () => {
    const c = parseGatewayConfig(base({ buses: [{ path: '/dev/ttyUSB1', devices: [radar] }] }), {});
    const bus = c.modbus.buses[0]!;
    expect([bus.baudRate, bus.dataBits, bus.parity, bus.stopBits, bus.timeoutMs, bus.retries]).toEqual([9600, 8, 'even', 1, 500, 1]);
    expect(bus.devices[0]!.values[0]).toMatchObject({ function: 3, type: 'uint16', wordOrder: 'big', offset: 0 });
    expect(parseGatewayConfig(base(undefined), {}).modbus.buses).toEqual([]);
  });

  it('reports each mistake as a path: message line', () => {
    const msg = errorOf(
      base(
        {
          buses: [
            {
              path: '/dev/ttyUSB1',
              parity: 'mark',
              devices: [
                { ...radar, unitId: 0 },
                { sensorId: 'rg', unitId: 2, values: [{ name: 'tips', function: 6, address: 70000, type: 'float64', quantity: 'rain', health: 'tamper' }] },
                { sensorId: 'ext', unitId: 2, values: [{ name: 'a', address: 0, quantity: 'displacement', unit: 'cm' }, { name: 'a', address: 1, quantity: 'displacement' }] },
                { sensorId: 'tb', unitId: 9, values: [{ name: 'tips', address: 0, type: 'int32', quantity: 'rain', tippingBucket: { mmPerTip: 0.2 } }] },
              ],
            },
            { path: '/dev/ttyUSB0', devices: [{ ...radar, sensorId: 'line-1' }] },
          ],
        },
        { ports: [{ path: '/dev/ttyUSB0' }], sensors: [{ id: 'line-1', port: '/dev/ttyUSB0', channels: { x: { quantity: 'rain' } } }] },
      ),
    );
    const lines = msg.split('\n');
    const expectLine = (prefix: string) => expect(lines.some((l) => l.startsWith(prefix)), `${prefix} in\n${msg}`).toBe(true);
    expectLine('modbus.buses.0.parity:');
    expectLine('modbus.buses.0.devices.0.unitId:');
    expectLine('modbus.buses.0.devices.1.values.0.function:');
    expectLine('modbus.buses.0.devices.1.values.0.address:');
    expectLine('modbus.buses.0.devices.1.values.0.type:');
    expectLine('modbus.buses.0.devices.3.values.0.type: a tip counter is a 16-bit register');
  });

  it('checks semantics once the shapes are right: units, duplicates, ids shared with line sensors, ports used twice', () => {
    const msg = errorOf(
      base(
        {
          buses: [
            {
              path: '/dev/ttyUSB1',
              devices: [
                { sensorId: 'ext', unitId: 2, values: [{ name: 'a', address: 0, quantity: 'displacement', unit: 'cm' }, { name: 'a', address: 1, quantity: 'displacement' }] },
                { sensorId: 'both', unitId: 2, values: [{ name: 'x', address: 0, quantity: 'rain', health: 'tamper' }] },
              ],
            },
            { path: '/dev/ttyUSB0', devices: [{ ...radar, sensorId: 'line-1' }] },
          ],
        },
        { ports: [{ path: '/dev/ttyUSB0' }], sensors: [{ id: 'line-1', port: '/dev/ttyUSB0', channels: { x: { quantity: 'rain' } } }] },
      ),
    );
    for (const line of [
      'modbus.buses.0.devices.0.values.0.unit: after scale/offset this value must be in "mm", not "cm"',
      'modbus.buses.0.devices.0.values.1.name: value name "a" is used twice',
      'modbus.buses.0.devices.0.values.1.quantity: "displacement" is already read by value "a"',
      'modbus.buses.0.devices.1.values.0.quantity: set exactly one of "quantity" and "health"',
      'modbus.buses.0.devices.1.unitId: unit id 2 is used twice on this bus',
    ]) expect(msg).toContain(line);
  });

  it('refuses a bus on a line-sensor port and a sensor id used twice', () => {
    const msg = errorOf(base({ buses: [{ path: '/dev/ttyUSB0', devices: [{ ...radar, sensorId: 'line-1' }] }] }, { ports: [{ path: '/dev/ttyUSB0' }], sensors: [{ id: 'line-1', port: '/dev/ttyUSB0', channels: { x: { quantity: 'rain' } } }] }));
    expect(msg).toContain('modbus.buses.0.path: port "/dev/ttyUSB0" is already used by ports or another bus');
    expect(msg).toContain('modbus.buses.0.devices.0.sensorId: sensor id "line-1" is used twice');
  });
});

describe('shipped Modbus examples', () => {
  it.each(['modbus-field-station.json', 'modbus-radar-distance.json'])('gateway/config/examples/%s is a valid gateway config', async (file) => {
    const { readFileSync } = await import('node:fs');
    const json = JSON.parse(readFileSync(new URL(`../../../config/examples/${file}`, import.meta.url), 'utf8'));
    const config = parseGatewayConfig(json, { KENTONGAN_MQTT_PASSWORD: 'from-the-environment' });
    expect(config.modbus.buses[0]!.devices.length).toBeGreaterThan(0);
    expect(config.modbus.buses[0]!.parity).toBe('even');
  });
});
