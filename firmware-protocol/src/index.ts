/** Kentongan wire contracts: the single source of truth for every protocol on the wire. */
export * from './quantities.ts';
export * from './levels.ts';
export * from './line/crc16.ts';
export * from './line/frame.ts';
export * from './line/messages.ts';
export * from './line/sequence.ts';
export * from './mqtt/topics.ts';
export * from './mqtt/payloads.ts';
export * from './mqtt/output-command.ts';
export * from './rules/detector-contract.ts';
export * from './rules/index.ts';
export * from './mqtt/gateway-control.ts';
