/** The CLI as a user runs it: a real child process through tsx. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/broker/passwords.ts';
import { tempDir } from './helpers/fixtures.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const TSX = join(import.meta.dirname, '../../node_modules/.bin/tsx');

function runCli(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Starts `run`, waits for the "running" line, sends SIGTERM and collects the exit. */
function runAndStop(args: string[]): Promise<{ code: number | null; stderr: string; running: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let running = '';
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const line = stderr.split('\n').find((l) => l.includes('running:'));
      if (line && !running) {
        running = line;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, running }));
  });
}

/**
 * Runs `hash-password` on a real pseudo-terminal (socat EXEC with pty: stdin and stdout are the
 * terminal, stderr stays a pipe), types the password once the prompt is on stderr, and returns
 * everything the terminal showed.
 */
function hashOnTerminal(password: string): Promise<{ code: number | null; terminal: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const cmd = `${TSX} ${MAIN} hash-password`;
    const child = spawn('socat', ['-', `EXEC:${cmd},pty,setsid,ctty`], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let terminal = '';
    let stderr = '';
    let typed = false;
    child.stdout.on('data', (d: Buffer) => (terminal += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!typed && stderr.includes('password')) {
        typed = true;
        // Enter; then Ctrl-D, which ends a line-mode read too (so an echoing build cannot hang).
        child.stdin.write(`${password}\r`);
        setTimeout(() => child.stdin.end('\x04'), 300);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, terminal, stderr }));
  });
}

describe('kentongan-server CLI', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(async () => {
    await cleanup();
  });

  it('hash-password reads stdin and prints a hash that verifies', async () => {
    const res = await runCli(['hash-password'], 'sandi rahasia\n');
    expect(res.code).toBe(0);
    const hash = res.stdout.trim();
    expect(await verifyPassword('sandi rahasia', hash)).toBe(true);
    expect(await verifyPassword('sandi rahasia\n', hash)).toBe(false);
  });

  it('hash-password on a terminal does not echo the password, prompts on stderr in Bahasa first', async () => {
    const res = await hashOnTerminal('sandi rahasia');
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/^Kata sandi .* \/ password/);
    expect(res.terminal).not.toContain('sandi');
    expect(res.stderr).not.toContain('sandi rahasia');
    const hash = /scrypt\$\S+/.exec(res.terminal)?.[0];
    expect(hash).toBeDefined();
    expect(await verifyPassword('sandi rahasia', hash!)).toBe(true);
  });

  it('run with a bad config prints path: message lines and exits 2', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ http: { port: 'delapan' }, sites: [{ id: 's', name: 'S', areaId: 'x', lat: 0, lon: 0 }] }));
    const res = await runCli(['run', '--config', path]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('http.port: Invalid input: expected number, received string');
    expect(res.stdout).toBe('');
  });

  it('run starts on the configured ports and stops cleanly on SIGTERM', async () => {
    const path = join(dir, 'ok.json');
    await writeFile(path, JSON.stringify({ dataDir: join(dir, 'data'), http: { port: 0 }, mqtt: { port: 0 }, notify: { channels: [] } }));
    const res = await runAndStop(['run', '--config', path, '--log-level', 'warn']);
    expect(res.running).toMatch(/API http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
    expect(res.running).toMatch(/MQTT mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(res.code).toBe(0);
  });
});
