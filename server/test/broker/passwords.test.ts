import { describe, expect, it } from 'vitest';
import { PASSWORD_HASH_PATTERN } from '../../src/config/schema.ts';
import { hashPassword, verifyPassword } from '../../src/broker/passwords.ts';

describe('password hashing', () => {
  it('verifies the right password and refuses others', async () => {
    const hash = await hashPassword('kata-sandi-rahasia');
    expect(hash).toMatch(PASSWORD_HASH_PATTERN);
    expect(hash.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('kata-sandi-rahasia', hash)).toBe(true);
    expect(await verifyPassword(Buffer.from('kata-sandi-rahasia'), hash)).toBe(true);
    expect(await verifyPassword('kata-sandi-rahasiA', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('sama'), hashPassword('sama')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('sama', a)).toBe(true);
    expect(await verifyPassword('sama', b)).toBe(true);
  });

  it('keeps non-ASCII passwords intact', async () => {
    const hash = await hashPassword('kéntongan-ꦏꦺꦤ꧀ꦠꦺꦴꦔꦤ꧀');
    expect(await verifyPassword('kéntongan-ꦏꦺꦤ꧀ꦠꦺꦴꦔꦤ꧀', hash)).toBe(true);
    expect(await verifyPassword('kentongan-ꦏꦺꦤ꧀ꦠꦺꦴꦔꦤ꧀', hash)).toBe(false);
  });

  it('returns false, never throws, for malformed or hostile hashes', async () => {
    const good = await hashPassword('x');
    const [, n, r, p, salt, key] = good.split('$');
    const bad = [
      '',
      'scrypt$',
      'bcrypt$2b$10$abc',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$1000$${r}$${p}$${salt}$${key}`, // N not a power of two
      `scrypt$${2 ** 24}$${r}$${p}$${salt}$${key}`, // N too large (memory bomb)
      `scrypt$${n}$999$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$$${key}`, // empty salt
      `scrypt$${n}$${r}$${p}$${salt}$AAAA`, // key too short
    ];
    for (const h of bad) expect(await verifyPassword('x', h)).toBe(false);
  });

  it('refuses passwords longer than the limit without hashing them', async () => {
    const hash = await hashPassword('a'.repeat(10));
    expect(await verifyPassword('a'.repeat(5000), hash)).toBe(false);
  });
});
