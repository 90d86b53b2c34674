/** Modbus RTU driver: register maps from config, one transaction per bus at a time. */
export * from './schema.ts';
export * from './registers.ts';
export * from './crc.ts';
export { RtuMaster, ModbusRequestError, type ModbusFailureCode } from './rtu-master.ts';
export { DeviceState, type ModbusDeviceStats } from './device-state.ts';
export { ModbusBus, type ModbusBusOptions, type ModbusBusStats, type PolledValues } from './modbus-bus.ts';
export { ModbusIngest, type ModbusIngestOptions } from './modbus-ingest.ts';
