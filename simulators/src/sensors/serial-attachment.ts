/**
 * Connects simulated sensors to a real serial device path (one end of a pseudo-terminal pair):
 * frames they produce are written to the port, lines the gateway sends are handed back to them.
 */
import { ReadlineParser } from '@serialport/parser-readline';
import { SerialPort } from 'serialport';

export interface SerialAttachment {
  write(frame: string): void;
  onLine(listener: (line: string) => void): void;
  /** Resolves once everything written so far has been handed to the OS. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function attachSerial(path: string, baudRate = 9600): Promise<SerialAttachment> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const parser = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
  const listeners: ((line: string) => void)[] = [];
  parser.on('data', (line: string) => listeners.forEach((l) => l(line)));
  // A simulator must not die because the gateway end went away; the run reports it instead.
  port.on('error', () => {});
  return {
    write: (frame) => void port.write(frame, 'latin1'),
    onLine: (listener) => void listeners.push(listener),
    flush: () => new Promise<void>((resolve) => port.drain(() => resolve())),
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.drain(() => port.close(() => resolve()));
      }),
  };
}
