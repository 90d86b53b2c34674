/**
 * Framing of the sensor line protocol (SPEC.md §2): `$<body>*<CRC>\r\n`.
 * This file knows nothing of message kinds; `messages.ts` parses the body.
 */
import { crcHex } from './crc16.ts';

/** Longest frame on the wire, `$` to `\n` inclusive. A line longer than this is refused unread. */
export const MAX_FRAME_BYTES = 256;
/** Longest body: the frame less `$`, `*`, 4 CRC digits and CRLF. */
export const MAX_BODY_CHARS = MAX_FRAME_BYTES - 8;

/** Stable reason codes for refused frames; gateways count rejections per code. */
export type FrameErrorCode =
  | 'too_long'
  | 'empty'
  | 'no_start'
  | 'no_crc'
  | 'bad_crc_format'
  | 'bad_crc'
  | 'bad_char'
  | 'unknown_kind'
  | 'bad_field_count'
  | 'bad_id'
  | 'bad_seq'
  | 'bad_number'
  | 'bad_channel'
  | 'bad_value';

export class FrameError {
  constructor(
    readonly code: FrameErrorCode,
    readonly message: string,
  ) {}
}

export type Unframed = { ok: true; body: string; skipped: number } | { ok: false; error: FrameError };

/** Body characters: printable ASCII except the delimiters `$` and `*`. */
const BODY_CHARS = /^[\x20-\x23\x25-\x29\x2B-\x7E]*$/;

/** Wraps a body into a complete frame, CRLF included. Throws on a body no receiver would accept: that is a bug. */
export function frameBody(body: string): string {
  if (!BODY_CHARS.test(body)) throw new Error('frame body contains a character outside printable ASCII or a delimiter');
  if (body.length > MAX_BODY_CHARS) throw new Error(`frame body is ${body.length} chars, max ${MAX_BODY_CHARS}`);
  return `$${body}*${crcHex(body)}\r\n`;
}

/**
 * Checks one received line (with or without its CR/LF) and returns the body.
 * Resynchronises on the last `$` in the line, as NMEA receivers do, so that noise before a
 * frame costs only the noise; `skipped` counts the bytes dropped in front.
 */
export function unframe(line: string): Unframed {
  let text = line;
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.length + 2 > MAX_FRAME_BYTES) return fail('too_long', `line of ${text.length + 2} bytes exceeds ${MAX_FRAME_BYTES}`);
  if (text.length === 0) return fail('empty', 'empty line');
  const start = text.lastIndexOf('$');
  if (start < 0) return fail('no_start', 'no "$" start of frame');
  const frame = text.slice(start);
  const star = frame.lastIndexOf('*');
  if (star < 0) return fail('no_crc', 'no "*" before the checksum');
  const body = frame.slice(1, star);
  const crc = frame.slice(star + 1);
  if (!/^[0-9A-F]{4}$/.test(crc)) return fail('bad_crc_format', 'checksum must be 4 upper-case hex digits');
  if (!BODY_CHARS.test(body)) return fail('bad_char', 'body contains a non-printable character or a delimiter');
  const expected = crcHex(body);
  if (crc !== expected) return fail('bad_crc', `checksum ${crc} does not match ${expected}`);
  return { ok: true, body, skipped: start };
}

function fail(code: FrameErrorCode, message: string): Unframed {
  return { ok: false, error: new FrameError(code, message) };
}
