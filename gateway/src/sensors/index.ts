/** Sensor kinds and their physics: one place for line sensors and Modbus values. */
export * from './rain.ts';
export * from './ranges.ts';
export * from './water-level.ts';
export * from './device-health.ts';
export * from './physics.ts';
