/**
 * Gateway password hashing with scrypt (node:crypto), stored as
 * `scrypt$N$r$p$saltBase64$hashBase64`. The parameters travel with the hash, so they can be
 * raised later without invalidating existing hashes.
 *
 * N = 2^15, r = 8, p = 1 needs 32 MiB and about 0.1 s per check on a Raspberry Pi 4 class CPU:
 * strong enough for random gateway passwords, cheap enough for a Pi that verifies a gateway
 * once per connection.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const DEFAULT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on parameters read from a hash, so a hostile or mistyped config cannot exhaust memory. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
/** Longest password accepted (bytes); MQTT allows 65535, no gateway needs that. */
export const MAX_PASSWORD_BYTES = 1024;

function derive(password: Buffer, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; node's default cap (32 MiB) is exactly at our default.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a password for the server config (`gateways[].passwordHash`). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(Buffer.from(password, 'utf8'), salt, KEY_BYTES, DEFAULT);
  return `scrypt$${DEFAULT.N}$${DEFAULT.r}$${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Checks a password against a stored hash in constant time. Never throws: a malformed hash or
 * out-of-bounds parameters give `false`.
 */
export async function verifyPassword(password: string | Buffer, hash: string): Promise<boolean> {
  const parsed = parseHash(hash);
  const pw = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (!parsed || pw.length > MAX_PASSWORD_BYTES) return false;
  try {
    const key = await derive(pw, parsed.salt, parsed.key.length, parsed);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

function parseHash(hash: string): { N: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > MAX_N) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return null;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return null;
  return { N, r, p, salt, key };
}
