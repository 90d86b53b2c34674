/**
 * Message bodies of the sensor line protocol (SPEC.md §3). A body is comma-separated:
 * `KIND,<sensorId>,<seq>,...`. Sensor -> gateway kinds: HEL, RDG, HBT, ERR, ACK.
 * Gateway -> sensor: CMD. Parsing never throws; it returns a FrameError with a stable code.
 */
import { FrameError, frameBody, unframe, type FrameErrorCode } from './frame.ts';

export const LINE_PROTOCOL_VERSION = 1;
/** Sequence numbers are 16-bit unsigned and wrap from 65535 to 0. */
export const SEQ_MODULO = 65536;
export const MAX_CHANNELS = 8;

export const SENSOR_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Channel names: lower-case letter first, then lower-case letters, digits and `_`, max 16. */
export const CHANNEL_NAME_PATTERN = /^[a-z][a-z0-9_]{0,15}$/;
/**
 * Decimal numbers only (SPEC.md §3.4): no hex, no NaN/Infinity, no empty string, no leading zeros,
 * at most 15 integer digits (exact in a double) and 9 fraction digits; an exponent is accepted
 * from senders that print with `%g`, but `1e999` is refused later as not finite. At most 31 chars.
 */
const NUMBER_PATTERN = /^-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,9})?(?:[eE][+-]?[0-9]{1,3})?$/;

export type Channels = Record<string, number>;

export type SensorMessage =
  | { kind: 'HEL'; sensorId: string; seq: number; protocol: number; sensorType: string; firmware: string }
  | { kind: 'RDG'; sensorId: string; seq: number; channels: Channels }
  | { kind: 'HBT'; sensorId: string; seq: number; channels: Channels }
  | { kind: 'ERR'; sensorId: string; seq: number; code: string; text: string }
  | { kind: 'ACK'; sensorId: string; seq: number; commandSeq: number; status: 'OK' | 'FAIL'; detail: string };

export type GatewayCommand =
  | { kind: 'CMD'; sensorId: string; seq: number; command: 'PING' }
  | { kind: 'CMD'; sensorId: string; seq: number; command: 'INTERVAL'; seconds: number }
  | { kind: 'CMD'; sensorId: string; seq: number; command: 'RESET_COUNTER' };

export type AnyMessage = SensorMessage | GatewayCommand;
export type Decoded = { ok: true; message: AnyMessage; skipped: number } | { ok: false; error: FrameError };

/** Decodes one received line into a message: framing, checksum, then fields. */
export function decodeLine(line: string): Decoded {
  const unframed = unframe(line);
  if (!unframed.ok) return unframed;
  const parsed = parseBody(unframed.body);
  if (parsed instanceof FrameError) return { ok: false, error: parsed };
  return { ok: true, message: parsed, skipped: unframed.skipped };
}

/**
 * Encodes a message into a complete frame with CRC and CRLF. Throws if the message is one no
 * receiver would accept (bad id, a comma in a text field, no channels, |value| >= 1e15, ...):
 * sending it would only add a counted rejection at the other end, so it is a bug here.
 */
export function encodeMessage(message: AnyMessage): string {
  const body = formatBody(message);
  const check = parseBody(body);
  if (check instanceof FrameError) throw new Error(`cannot encode ${message.kind}: ${check.code}: ${check.message}`);
  return frameBody(body);
}

export function formatBody(m: AnyMessage): string {
  const head = `${m.kind},${m.sensorId},${m.seq}`;
  switch (m.kind) {
    case 'HEL':
      return `${head},${m.protocol},${m.sensorType},${m.firmware}`;
    case 'RDG':
    case 'HBT':
      return [head, ...Object.entries(m.channels).map(([k, v]) => `${k}=${formatNumber(v)}`)].join(',');
    case 'ERR':
      return `${head},${m.code}${m.text ? `,${m.text}` : ''}`;
    case 'ACK':
      return `${head},${m.commandSeq},${m.status}${m.detail ? `,${m.detail}` : ''}`;
    case 'CMD':
      return m.command === 'INTERVAL' ? `${head},INTERVAL,${m.seconds}` : `${head},${m.command}`;
  }
}

/** Numbers as the wire wants them: plain decimal, no exponent for ordinary sensor values. */
function formatNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot encode non-finite number ${v}`);
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(6)));
}

function parseBody(body: string): AnyMessage | FrameError {
  const fields = body.split(',');
  const [kind, sensorId, seqText] = fields;
  if (!kind || !['HEL', 'RDG', 'HBT', 'ERR', 'ACK', 'CMD'].includes(kind)) {
    return err('unknown_kind', `unknown message kind "${(kind ?? '').slice(0, 8)}"`);
  }
  if (fields.length < 3) return err('bad_field_count', `${kind} needs at least 3 fields, got ${fields.length}`);
  if (!SENSOR_ID_PATTERN.test(sensorId!)) return err('bad_id', 'sensor id must be 1-32 letters, digits, "-" or "_"');
  const seq = parseUint(seqText!, SEQ_MODULO - 1);
  if (seq === null) return err('bad_seq', `sequence must be an integer 0..${SEQ_MODULO - 1}`);
  const rest = fields.slice(3);
  const base = { sensorId: sensorId!, seq };
  switch (kind) {
    case 'HEL': {
      if (rest.length !== 3) return err('bad_field_count', `HEL needs 6 fields, got ${fields.length}`);
      const protocol = parseUint(rest[0]!, 255);
      if (protocol === null) return err('bad_number', 'protocol version must be an integer 0..255');
      if (!/^[a-z][a-z0-9_-]{0,23}$/.test(rest[1]!)) return err('bad_value', 'sensor type must be a lower-case word');
      if (!/^[0-9A-Za-z._+-]{1,32}$/.test(rest[2]!)) return err('bad_value', 'firmware version has invalid characters');
      return { kind, ...base, protocol, sensorType: rest[1]!, firmware: rest[2]! };
    }
    case 'RDG':
    case 'HBT': {
      const channels = parseChannels(rest);
      if (channels instanceof FrameError) return channels;
      return { kind, ...base, channels };
    }
    case 'ERR': {
      if (rest.length < 1 || rest.length > 2) return err('bad_field_count', `ERR needs 4 or 5 fields, got ${fields.length}`);
      if (!/^[A-Z0-9_]{1,24}$/.test(rest[0]!)) return err('bad_value', 'error code must be upper-case letters, digits or "_"');
      return { kind, ...base, code: rest[0]!, text: rest[1] ?? '' };
    }
    case 'ACK': {
      if (rest.length < 2 || rest.length > 3) return err('bad_field_count', `ACK needs 5 or 6 fields, got ${fields.length}`);
      const commandSeq = parseUint(rest[0]!, SEQ_MODULO - 1);
      if (commandSeq === null) return err('bad_seq', 'command sequence must be an integer 0..65535');
      if (rest[1] !== 'OK' && rest[1] !== 'FAIL') return err('bad_value', 'ACK status must be OK or FAIL');
      return { kind, ...base, commandSeq, status: rest[1], detail: rest[2] ?? '' };
    }
    default: {
      // CMD
      if (rest.length < 1) return err('bad_field_count', `CMD needs at least 4 fields, got ${fields.length}`);
      const command = rest[0];
      if (command === 'PING' || command === 'RESET_COUNTER') {
        if (rest.length !== 1) return err('bad_field_count', `CMD ${command} takes no argument`);
        return { kind: 'CMD', ...base, command };
      }
      if (command === 'INTERVAL') {
        if (rest.length !== 2) return err('bad_field_count', 'CMD INTERVAL takes one argument');
        const seconds = parseUint(rest[1]!, 86400);
        if (seconds === null || seconds < 1) return err('bad_number', 'interval must be 1..86400 seconds');
        return { kind: 'CMD', ...base, command, seconds };
      }
      return err('unknown_kind', `unknown command "${(command ?? '').slice(0, 16)}"`);
    }
  }
}

function parseChannels(pairs: string[]): Channels | FrameError {
  if (pairs.length < 1 || pairs.length > MAX_CHANNELS) {
    return err('bad_field_count', `needs 1..${MAX_CHANNELS} channels, got ${pairs.length}`);
  }
  const channels: Channels = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) return err('bad_channel', `channel "${pair.slice(0, 20)}" is not name=value`);
    const name = pair.slice(0, eq);
    const text = pair.slice(eq + 1);
    if (!CHANNEL_NAME_PATTERN.test(name)) return err('bad_channel', `channel name "${name.slice(0, 20)}" is invalid`);
    if (name in channels) return err('bad_channel', `channel "${name}" appears twice`);
    if (!NUMBER_PATTERN.test(text)) return err('bad_number', `value of "${name}" is not a decimal number`);
    const value = Number(text);
    if (!Number.isFinite(value)) return err('bad_number', `value of "${name}" is not finite`);
    // "-0.00" is what C's printf gives for a tiny negative reading; store it as plain 0.
    channels[name] = value === 0 ? 0 : value;
  }
  return channels;
}

function parseUint(text: string, max: number): number | null {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

function err(code: FrameErrorCode, message: string): FrameError {
  return new FrameError(code, message);
}
