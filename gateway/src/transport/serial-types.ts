/**
 * Serial binding types, taken from @serialport/stream: @serialport/bindings-interface ships no
 * types for ESM importers under NodeNext resolution, so importing it directly fails to typecheck.
 */
import type { SerialPortStream } from '@serialport/stream';

/** A serialport binding (platform bindings, MockBinding, or a wrapper such as `tapBinding`). */
export type BindingInterface = SerialPortStream['settings']['binding'];
/** An open port as a binding returns it. */
export type BindingPortInterface = NonNullable<SerialPortStream['port']>;
export type BindingOpenOptions = Parameters<BindingInterface['open']>[0];
