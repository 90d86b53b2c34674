import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskAddress, maskPhone, normalizeEmail, normalizePhone, redactAddresses } from '../../src/recipients/address.ts';
import { RecipientError } from '../../src/recipients/errors.ts';

describe('normalizePhone', () => {
  it.each([
    ['081234567890', '+6281234567890'],
    ['0812-3456-789', '+628123456789'],
    ['0812 3456 7890', '+6281234567890'],
    ['62 812 3456 7890', '+6281234567890'],
    ['+62 812-3456-7890', '+6281234567890'],
    ['+62 (812) 3456.7890', '+6281234567890'],
    ['006281234567890', '+6281234567890'],
    ['  +6222-1234-5678 ', '+622212345678'],
  ])('%s -> %s', (input, out) => {
    expect(normalizePhone(input)).toBe(out);
  });

  it.each(['', '12345', '+1 415 555 0100', '+44 20 7946 0958', '0812abc4567', '08', '+62', '+620812345678', '0812345', '081234567890123', '++6281234567890', 42, null, '0'.repeat(100)])(
    'rejects %s with a clear error',
    (input) => {
      let err: unknown;
      try {
        normalizePhone(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RecipientError);
      expect((err as RecipientError).code).toBe('INVALID_PHONE');
      expect((err as Error).message).toMatch(/nomor telepon tidak valid.*invalid phone number/);
    },
  );

  it('never throws anything but RecipientError, and what it returns is +62 E.164', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        try {
          expect(normalizePhone(s)).toMatch(/^\+62[1-9]\d{7,11}$/);
        } catch (e) {
          expect(e).toBeInstanceOf(RecipientError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('masking', () => {
  it('keeps the operator prefix and the last three digits', () => {
    expect(maskPhone('+6281234567789')).toBe('+62812****789');
    expect(maskAddress('+6281234567789')).toBe('+62812****789');
    expect(maskAddress('siti@example.org')).toBe('s***@example.org');
    expect(maskAddress('weird')).toBe('****');
  });

  it('redacts numbers and e-mails inside error texts', () => {
    const text = redactAddresses('gateway said: 400 invalid destination +6281234567789 (0812-3456-7789), mail siti@example.org');
    expect(text).not.toMatch(/34567/);
    expect(text).not.toContain('siti@');
    expect(text).toContain('+62812****789');
  });
});

describe('normalizeEmail', () => {
  it('lower-cases and rejects junk', () => {
    expect(normalizeEmail(' Siti@Example.ORG ')).toBe('siti@example.org');
    for (const bad of ['no-at', 'a@b', '<x>@y.org', 'a b@c.org', 7]) expect(() => normalizeEmail(bad)).toThrow(RecipientError);
  });
});
