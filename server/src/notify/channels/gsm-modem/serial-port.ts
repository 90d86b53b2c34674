/** The modem's serial port (serialport 13), as the AT session sees it. */
import { SerialPort } from 'serialport';
import type { AtPort } from './at-session.ts';

export interface ClosableAtPort extends AtPort {
  close(): Promise<void>;
}

/** Opens `path` at `baudRate` 8N1; `onClose` runs when the port goes away (unplugged modem). */
export async function openSerialAtPort(path: string, baudRate: number, onClose: () => void): Promise<ClosableAtPort> {
  const sp = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
  let closing = false;
  sp.on('close', () => {
    if (!closing) onClose();
  });
  // Errors after open (a write to an unplugged port) surface as 'close' or command timeouts.
  sp.on('error', () => undefined);
  return {
    write: (data) => {
      sp.write(data, 'latin1');
    },
    onData: (fn) => {
      sp.on('data', fn);
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (!sp.isOpen) return resolve();
        sp.close(() => resolve());
      }),
  };
}
