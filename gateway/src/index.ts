/** Kentongan field gateway: serial line-protocol sensors -> durable queue -> MQTT. */
export { startGateway, GATEWAY_SOFTWARE, DATABASE_FILE, type GatewayDeps, type RunningGateway } from './gateway.ts';
export type { GatewayStats } from './stats.ts';
export { parseGatewayConfig, loadGatewayConfig, PASSWORD_ENV } from './config/load.ts';
export {
  gatewayConfigSchema,
  DEFAULT_MAX_QUEUED_READINGS,
  type GatewayConfig,
  type GatewayConfigInput,
  type PortConfig,
  type SensorConfig,
  type ChannelConfig,
} from './config/schema.ts';
export { ConfigError, GatewayError, type GatewayErrorCode } from './errors.ts';
export { tapBinding, type BindingTap } from './transport/binding-tap.ts';
export type { PortState } from './transport/serial-line-source.ts';
export { calibrate, tipDelta, MAX_WRAP_TIPS, TIP_COUNTER_MODULO } from './drivers/calibration.ts';
export type { BindingInterface, BindingPortInterface } from './transport/serial-types.ts';
export * from './sensors/index.ts';
export {
  modbusSchema,
  ModbusBus,
  ModbusIngest,
  RtuMaster,
  ModbusRequestError,
  decodeRegisters,
  encodeRegisters,
  planReads,
  crc16Modbus,
  type ModbusConfig,
  type ModbusBusConfig,
  type ModbusDeviceConfig,
  type ModbusValueConfig,
  type ModbusBusStats,
  type ModbusDeviceStats,
  type RegisterType,
  type WordOrder,
} from './drivers/modbus/index.ts';
