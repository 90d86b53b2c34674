/**
 * The systemd unit and install files of gateway/deploy: `systemd-analyze verify` accepts the
 * unit without a warning (and does warn on a broken copy, so the check can fail), the
 * ExecStart runs a file that exists in this repository relative to WorkingDirectory, and the
 * install script, example config and README agree with the unit. `systemd-analyze` comes with
 * Debian's `systemd` package (present on every Debian 12 / Raspberry Pi OS install).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/load.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(REPO, 'gateway/deploy');
const UNIT = join(DEPLOY, 'kentongan-gateway.service');
const unitText = readFileSync(UNIT, 'utf8');

/** `Key=value` lines of the unit (last one wins, as systemd does for these keys). */
function unitKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1]!, m[2]!);
  }
  return keys;
}

/** Warnings systemd-analyze prints about the given unit file. */
function verify(unitPath: string): string[] {
  const r = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`systemd-analyze not runnable (Debian package systemd): ${r.error.message}`);
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(unitPath));
}

describe('systemd unit', () => {
  it('passes systemd-analyze verify, and the check catches a broken unit', () => {
    expect(verify(UNIT)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'kentongan-unit-'));
    try {
      const broken = join(dir, 'kentongan-gateway.service');
      writeFileSync(broken, unitText.replace('Restart=always', 'Restart=alwayz').replace('NoNewPrivileges=yes', 'NoNewPrivilegez=yes'));
      const warnings = verify(broken);
      expect(warnings.some((w) => w.includes('alwayz'))).toBe(true);
      expect(warnings.some((w) => w.includes('NoNewPrivilegez'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restarts always, runs as its own user with a state folder, a password file and hardening', () => {
    const k = unitKeys(unitText);
    expect(k.get('Restart')).toBe('always');
    expect(Number(k.get('RestartSec'))).toBeGreaterThan(0);
    expect(k.get('StartLimitIntervalSec')).toBe('0');
    expect(k.get('User')).toBe('kentongan');
    expect(k.get('StateDirectory')).toBe('kentongan-gateway');
    expect(k.get('EnvironmentFile')).toBe('/etc/kentongan/gateway.env');
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'RestrictAddressFamilies', 'CapabilityBoundingSet']) expect(k.has(key), key).toBe(true);
  });

  it('starts a file that exists in this repository, from the install folder the script uses', () => {
    const k = unitKeys(unitText);
    const workDir = k.get('WorkingDirectory')!;
    const exec = k.get('ExecStart')!.split(/\s+/);
    expect(exec.slice(0, 3)).toEqual(['/usr/bin/node', '--import', 'tsx']);
    const entry = exec[3]!;
    // The repository checked out at WorkingDirectory: the entry path is relative to the repo root.
    expect(existsSync(join(REPO, entry)), entry).toBe(true);
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies.tsx).toBeDefined();
    expect(exec.slice(4)).toEqual(['run', '--config', '/etc/kentongan/gateway.json']);
    const install = readFileSync(join(DEPLOY, 'install.sh'), 'utf8');
    expect(install).toContain(`APP_DIR=${workDir}\n`);
    expect(install).toContain('/etc/systemd/system/kentongan-gateway.service');
    expect(spawnSync('bash', ['-n', join(DEPLOY, 'install.sh')]).status).toBe(0);
  });

  it('ships an example config that validates and keeps its data in the unit state folder', () => {
    const example = JSON.parse(readFileSync(join(DEPLOY, 'gateway.example.json'), 'utf8'));
    const config = parseGatewayConfig(example, { KENTONGAN_MQTT_PASSWORD: 'x' });
    expect(config.dataDir).toBe(`/var/lib/${unitKeys(unitText).get('StateDirectory')}`);
    expect(config.localRules.length).toBeGreaterThan(0);
    expect(config.outputs.map((o) => o.kind).sort()).toEqual(['command', 'gpio']);
  });
});
