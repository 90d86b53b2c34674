/**
 * A pseudo-terminal pair: two serial device paths connected back to back, so a simulated
 * sensor writes on one end and the real gateway opens the other as a real serial port.
 * Uses socat where installed (as CI does), else a small Python relay (python3 ships on the
 * machines we target), so the demo works on a fresh machine.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PtyPair {
  /** The end a simulated device writes to. */
  devicePath: string;
  /** The end the gateway opens. */
  hostPath: string;
  /** Which tool made it. */
  via: 'socat' | 'python3';
  close(): Promise<void>;
}

const RELAY_SCRIPT = fileURLToPath(new URL('./pty-relay.py', import.meta.url));

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Opens a pair named `<dir>/<name>-dev` and `<dir>/<name>-host`; resolves once both exist.
 * `via` forces a tool (tests cover both); by default socat when installed.
 */
export async function openPtyPair(
  dir: string,
  name: string,
  { via = hasCommand('socat') ? 'socat' : 'python3', timeoutMs = 5000 }: { via?: 'socat' | 'python3'; timeoutMs?: number } = {},
): Promise<PtyPair> {
  const devicePath = join(dir, `${name}-dev`);
  const hostPath = join(dir, `${name}-host`);
  await Promise.all([rm(devicePath, { force: true }), rm(hostPath, { force: true })]);
  const child: ChildProcess =
    via === 'socat'
      ? spawn('socat', [`pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], { stdio: 'ignore' })
      : spawn('python3', [RELAY_SCRIPT, devicePath, hostPath], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(devicePath) && existsSync(hostPath))) {
    if (exited) throw new Error(`${via} exited before the pseudo-terminal pair ${name} was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pseudo-terminal pair ${name} not ready after ${timeoutMs} ms (${via})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    devicePath,
    hostPath,
    via,
    async close() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await Promise.all([rm(devicePath, { force: true }), rm(hostPath, { force: true })]);
    },
  };
}
