/**
 * MockBinding from @serialport/binding-mock, reached through `serialport`'s SerialPortMock so the
 * types resolve under NodeNext (the package ships no types for ESM importers) and so there is a
 * single MockBinding instance (its port table is module state).
 */
import { SerialPortMock } from 'serialport';
import type { BindingTap } from '../../src/transport/binding-tap.ts';

export const MockBinding = SerialPortMock.binding;

let counter = 0;
/** A fresh mock port path, created in MockBinding. */
export function mockPort(name = 'ttyMOCK'): string {
  const path = `/dev/${name}${process.pid}-${++counter}`;
  MockBinding.createPort(path, { echo: false, record: false });
  return path;
}

/** Injects bytes as if the device sent them; the port must be open. */
export function emit(tap: BindingTap, path: string, data: Buffer | string): void {
  const port = tap.port(path) as unknown as { emitData(data: Buffer | string): void } | undefined;
  if (!port) throw new Error(`port ${path} is not open`);
  port.emitData(data);
}
