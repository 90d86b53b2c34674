/** Starts sms-receiver-process.ts as a child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./sms-receiver-process.ts', import.meta.url));

export interface ReceiverStats {
  requests: number;
  perTo: Map<string, number>;
  perKey: Map<string, number>;
}

export interface SmsReceiver {
  url: string;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startSmsReceiverProcess(delayMs = 0): Promise<SmsReceiver> {
  const child: ChildProcess = fork(SCRIPT, [String(delayMs)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sms receiver exited (${code})`)));
    child.once('message', (m) => resolve((m as { port: number }).port));
  });
  const ask = <T>(msg: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send(msg);
    });
  return {
    url: `http://127.0.0.1:${port}/sms`,
    async stats() {
      const s = await ask<{ requests: number; perTo: [string, number][]; perKey: [string, number][] }>('stats');
      return { requests: s.requests, perTo: new Map(s.perTo), perKey: new Map(s.perKey) };
    },
    async reset() {
      await ask('reset');
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
