/**
 * The README's first command must keep working: `npm run demo -- --duration N` runs the whole
 * system in a child process and ends with the summary line. Run here on both scenarios.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'kentongan-demo-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/src/demo/main.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo -- --duration N', () => {
  it('plays the flood and ends with the summary line: Awas reached, 0 lost', async () => {
    const r = await runDemo(['--duration', '14', '--http-port', '0', '--mqtt-port', '0', '--data-dir', join(dir, 'flood')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^demo: 1442 readings stored, 1 alerts raised \(max level Awas\), \d+ notifications sent, 0 lost$/);
    expect(r.stdout).toMatch(/Dasbor operator \/ operator dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stdout).toMatch(/PESAN \/ MESSAGE: (NAIK ke )?AWAS BANJIR/);
  }, 40_000);

  it('plays a quiet day without raising anything', async () => {
    const r = await runDemo(['--duration', '8', '--scenario', 'hari-tenang', '--http-port', '0', '--mqtt-port', '0', '--data-dir', join(dir, 'quiet')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^demo: 578 readings stored, 0 alerts raised \(max level Normal\), 0 notifications sent, 0 lost$/);
  }, 30_000);

  it('refuses a bad option with a clear message', async () => {
    for (const bad of ['soon', '0']) {
      const r = await runDemo(['--duration', bad]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--duration.*must be a whole number >= 1/);
    }
  });

  it('never wipes a folder it did not make', async () => {
    const foreign = join(dir, 'foreign');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'precious.txt'), 'keep me');
    const r = await runDemo(['--duration', '5', '--http-port', '0', '--mqtt-port', '0', '--data-dir', foreign]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not empty and was not made by the demo/);
    expect(await readFile(join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');
  });
});
