/** Modbus RTU slave simulator: realistic register maps on a real serial line, with fault injection. */
export * from './register-maps.ts';
export * from './slave-simulator.ts';
