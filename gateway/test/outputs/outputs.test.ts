/**
 * Local outputs with real effects: a command output runs a real program (sh writing to a file),
 * a GPIO output writes the sysfs files of a folder laid out like /sys/class/gpio (no GPIO
 * hardware here: the kernel side is not exercised, the file protocol is). Server output
 * commands are checked for redelivery, expiry and garbage.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandOutput } from '../../src/outputs/command-output.ts';
import { GpioOutput } from '../../src/outputs/gpio-output.ts';
import { OutputBank } from '../../src/outputs/output-bank.ts';
import { PATTERN_CYCLES, patternForLevel } from '../../src/outputs/patterns.ts';
import { outputsSchema } from '../../src/outputs/schema.ts';
import { quietLogger, tempDir, waitFor } from '../helpers/fixtures.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir('kentongan-out-');
  cleanups.push(t.cleanup);
  return t.dir;
}

/** A folder shaped like /sys/class/gpio where `export` creates gpioN/ (what the kernel does). */
function fakeSysfs(line: number): { root: string; value: () => string; direction: () => string } {
  const root = dir();
  writeFileSync(join(root, 'export'), '');
  mkdirSync(join(root, `gpio${line}`));
  writeFileSync(join(root, `gpio${line}`, 'direction'), 'in');
  writeFileSync(join(root, `gpio${line}`, 'value'), '0');
  return {
    root,
    value: () => readFileSync(join(root, `gpio${line}`, 'value'), 'utf8'),
    direction: () => readFileSync(join(root, `gpio${line}`, 'direction'), 'utf8'),
  };
}

const shortCycles = { ...PATTERN_CYCLES, siaga: { onMs: 40, offMs: 40, once: false }, waspada: { onMs: 20, offMs: 200, once: false } };

describe('patterns', () => {
  it('maps each level to its pattern', () => {
    expect(['Normal', 'Waspada', 'Siaga', 'Awas'].map((l) => patternForLevel(l as never))).toEqual(['off', 'waspada', 'siaga', 'awas']);
  });
});

describe('command output', () => {
  it('runs the program with the pattern and reports failures and timeouts', async () => {
    const out = join(dir(), 'siren.log');
    const ok = new CommandOutput({ id: 'siren', kind: 'command', argv: ['/bin/sh', '-c', 'echo "$1" >> "$2"', 'sh', '{pattern}', out], timeoutMs: 5000 });
    expect(await ok.run('awas')).toEqual({ outputId: 'siren', ok: true });
    expect(await ok.run('off')).toEqual({ outputId: 'siren', ok: true });
    expect(readFileSync(out, 'utf8')).toBe('awas\noff\n');

    const failing = new CommandOutput({ id: 'bad', kind: 'command', argv: ['/bin/sh', '-c', 'exit 3'], timeoutMs: 5000 });
    expect(await failing.run('siaga')).toEqual({ outputId: 'bad', ok: false, error: 'command failed: exit code 3' });
    const missing = new CommandOutput({ id: 'gone', kind: 'command', argv: ['/nonexistent/siren'], timeoutMs: 5000 });
    expect((await missing.run('siaga')).ok).toBe(false);
    const slow = new CommandOutput({ id: 'slow', kind: 'command', argv: ['/bin/sleep', '5'], timeoutMs: 100 });
    expect(await slow.run('awas')).toEqual({ outputId: 'slow', ok: false, error: 'command failed: timed out after 100 ms' });
  });
});

describe('gpio output (sysfs)', () => {
  it('sets direction once, drives steady on and off, inverts for active-low relays', async () => {
    const fs = fakeSysfs(529);
    const gpio = new GpioOutput(outputsSchema.parse([{ id: 'lamp', kind: 'gpio', line: 529, sysfsRoot: fs.root }])[0] as never);
    expect(await gpio.run('awas')).toEqual({ outputId: 'lamp', ok: true });
    expect(fs.direction()).toBe('low');
    expect(fs.value()).toBe('1');
    await gpio.run('off');
    expect(fs.value()).toBe('0');

    const inv = fakeSysfs(530);
    const relay = new GpioOutput(outputsSchema.parse([{ id: 'relay', kind: 'gpio', line: 530, activeLow: true, sysfsRoot: inv.root }])[0] as never);
    await relay.run('awas');
    expect(inv.direction()).toBe('high');
    expect(inv.value()).toBe('0');
    await relay.close();
    expect(inv.value()).toBe('1');
  });

  it('exports a line that is not yet exported', async () => {
    const root = dir();
    writeFileSync(join(root, 'export'), '');
    const gpio = new GpioOutput({ id: 'x', kind: 'gpio', line: 17, activeLow: false, sysfsRoot: root });
    // Nothing creates gpio17/ here, so after the export write the direction write fails: reported, not thrown.
    const r = await gpio.run('awas');
    expect(readFileSync(join(root, 'export'), 'utf8')).toBe('17');
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/gpio17/);
    expect(existsSync(join(root, 'gpio17'))).toBe(false);
  });

  it('blinks the siaga pattern on and off', async () => {
    const fs = fakeSysfs(5);
    const gpio = new GpioOutput({ id: 'lamp', kind: 'gpio', line: 5, activeLow: false, sysfsRoot: fs.root }, { cycles: shortCycles });
    const seen: string[] = [];
    await gpio.run('siaga');
    const t0 = Date.now();
    while (Date.now() - t0 < 300) {
      const v = fs.value();
      if (seen[seen.length - 1] !== v) seen.push(v);
      await new Promise((r) => setTimeout(r, 5));
    }
    await gpio.close();
    expect(seen.length).toBeGreaterThanOrEqual(4); // 1,0,1,0,...
    expect(seen.slice(0, 4)).toEqual(['1', '0', '1', '0']);
  });
});

describe('output bank and server commands', () => {
  const cmd = (o: Record<string, unknown>) => Buffer.from(JSON.stringify({ v: 1, commandId: 'c1', pattern: 'awas', durationS: 60, issuedAt: new Date().toISOString(), reason: 'test', ...o }));

  it('applies a command once, ignores redelivery, expired, unknown outputs and garbage', async () => {
    const out = join(dir(), 'siren.log');
    const bank = new OutputBank([{ id: 'siren', kind: 'command', argv: ['/bin/sh', '-c', 'echo "$1" >> "$2"', 'sh', '{pattern}', out], timeoutMs: 5000 }], {
      logger: quietLogger(),
      now: () => new Date(),
    });
    cleanups.push(() => void bank.close());
    expect(await bank.handleCommand(cmd({}))).toEqual([{ outputId: 'siren', ok: true }]);
    expect(await bank.handleCommand(cmd({}))).toEqual([]); // redelivered
    expect(await bank.handleCommand(cmd({ commandId: 'old', issuedAt: new Date(Date.now() - 120_000).toISOString() }))).toEqual([]);
    expect(await bank.handleCommand(cmd({ commandId: 'c2', outputId: 'nope' }))).toEqual([]);
    for (const bad of ['{', 'null', '[]', JSON.stringify({ v: 1, commandId: 'x', pattern: 'loud', durationS: 1, issuedAt: 'now', reason: '' }), 'x'.repeat(600_000)]) {
      expect(await bank.handleCommand(Buffer.from(bad))).toEqual([]);
    }
    expect(bank.counters).toMatchObject({ commandsApplied: 1, commandsDuplicate: 1, commandsExpired: 1, commandsInvalid: 6 });
    expect(readFileSync(out, 'utf8')).toBe('awas\n');
    expect(bank.patterns()).toEqual({ siren: 'awas' });
  });

  it('hands the outputs back to the local pattern when a server command ends', async () => {
    const out = join(dir(), 'siren.log');
    const bank = new OutputBank([{ id: 'siren', kind: 'command', argv: ['/bin/sh', '-c', 'echo "$1" >> "$2"', 'sh', '{pattern}', out], timeoutMs: 5000 }], {
      logger: quietLogger(),
      now: () => new Date(),
    });
    cleanups.push(() => void bank.close());
    await bank.driveLocal('siaga');
    // durationS 1: issued 0.8 s ago, so it runs for about 0.2 s more.
    await bank.handleCommand(cmd({ commandId: 't', pattern: 'test', durationS: 1, issuedAt: new Date(Date.now() - 800).toISOString() }));
    await waitFor(() => readFileSync(out, 'utf8') === 'siaga\ntest\nsiaga\n', 3000, 'revert to the local pattern');
  });
});
