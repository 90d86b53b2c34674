/**
 * Recipient addresses: Indonesian phone numbers normalised to E.164 (`+62…`), e-mail addresses
 * lower-cased, and masks for logs and API answers (a phone number is personal data: DESIGN
 * "Security", never logged in clear).
 *
 * Accepted phone forms: `08…` (national, trunk prefix 0), `62…`, `+62…`, `0062…`, with spaces,
 * dashes, dots or brackets between digits. The subscriber number after `62` must be 8 to 12
 * digits starting with 1-9 (Indonesian numbers are 9-13 digits after the country code in
 * practice, mobiles `8xx`; ITU-T E.164 caps the whole number at 15 digits). Anything else
 * (another country code, letters, too short or long) is rejected with `RecipientError`.
 */
import { RecipientError } from './errors.ts';

const SEPARATORS = /[\s\-.()\u00a0]/g;

/** `+62812…` for any accepted form; throws `RecipientError('INVALID_PHONE')` otherwise. */
export function normalizePhone(input: unknown): string {
  if (typeof input !== 'string' || input.length > 40) throw invalidPhone();
  let s = input.trim().replace(SEPARATORS, '');
  if (s.startsWith('+')) s = s.slice(1);
  else if (s.startsWith('00')) s = s.slice(2);
  else if (s.startsWith('0')) s = `62${s.slice(1)}`;
  if (!/^\d+$/.test(s) || !s.startsWith('62')) throw invalidPhone();
  const subscriber = s.slice(2);
  if (!/^[1-9]\d{7,11}$/.test(subscriber)) throw invalidPhone();
  return `+${s}`;
}

function invalidPhone(): RecipientError {
  return new RecipientError(
    'INVALID_PHONE',
    'nomor telepon tidak valid: gunakan nomor Indonesia (08…, 62… atau +62…) / invalid phone number: use an Indonesian number (08…, 62… or +62…)',
  );
}

const EMAIL = /^[^\s@<>"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Lower-cased e-mail address; throws `RecipientError('INVALID_EMAIL')`. */
export function normalizeEmail(input: unknown): string {
  if (typeof input !== 'string' || input.length > 254) throw invalidEmail();
  const s = input.trim().toLowerCase();
  if (!EMAIL.test(s)) throw invalidEmail();
  return s;
}

function invalidEmail(): RecipientError {
  return new RecipientError('INVALID_EMAIL', 'alamat e-mail tidak valid / invalid e-mail address');
}

/** `+62812****789`: country code and operator prefix, then the last three digits. */
export function maskPhone(e164: string): string {
  if (e164.length < 9) return '****';
  return `${e164.slice(0, 6)}****${e164.slice(-3)}`;
}

/** `a***@example.org` for e-mail, `maskPhone` for numbers, `****` for anything else. */
export function maskAddress(address: string): string {
  if (address.startsWith('+')) return maskPhone(address);
  const at = address.indexOf('@');
  if (at > 0) return `${address[0]}***${address.slice(at)}`;
  return '****';
}

/** How a channel addresses people: e-mail for SMTP channels, phone numbers for the rest. */
export function addressKindOf(channelKind: string): 'email' | 'phone' {
  return /smtp|mail/i.test(channelKind) ? 'email' : 'phone';
}

export function normalizeAddress(channelKind: string, input: unknown): string {
  return addressKindOf(channelKind) === 'email' ? normalizeEmail(input) : normalizePhone(input);
}

/** Masks anything that looks like a phone number or e-mail in free text (channel error messages). */
export function redactAddresses(text: string): string {
  return text
    .replace(/\+?\d[\d\s-]{7,16}\d/g, (m) => maskPhone(`+${m.replace(/\D/g, '')}`))
    .replace(/[^\s@<>"',;:]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, (m) => maskAddress(m));
}
