/**
 * Output commands (SPEC.md §5.8): the server drives a gateway's local outputs (siren, lamp,
 * display relay) on `kentongan/v1/gw/<id>/output`, QoS 1. Each level has its own pattern so
 * that people near the siren can tell Waspada from Awas; `test` is the announced test pattern
 * and `off` silences. The gateway answers nothing on this topic: what it drove shows in its
 * health message and its local alarm records.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION } from './payloads.ts';
import { ID_PATTERN } from './topics.ts';

const id = z.string().regex(ID_PATTERN, 'must be 1-32 letters, digits, "-" or "_"');

/** Patterns every output driver understands. */
export const OUTPUT_PATTERNS = ['off', 'waspada', 'siaga', 'awas', 'test'] as const;
export type OutputPattern = (typeof OUTPUT_PATTERNS)[number];

/** Longest a single command may keep an output on (an hour); the server repeats it if needed. */
export const MAX_OUTPUT_DURATION_S = 3600;

export const outputCommandSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  /** Unique per command; a redelivered command with a seen id is ignored. */
  commandId: z.string().min(1).max(64),
  /** The output to drive; absent means every output of the gateway. */
  outputId: id.optional(),
  pattern: z.enum(OUTPUT_PATTERNS),
  /** How long to run the pattern; 0 with `off`. */
  durationS: z.int().min(0).max(MAX_OUTPUT_DURATION_S),
  issuedAt: z.iso.datetime({ offset: false, precision: 3 }),
  /** Why, for the gateway's log and alarm record (e.g. "alert 1f3c… Awas"). */
  reason: z.string().max(200),
});
export type OutputCommand = z.infer<typeof outputCommandSchema>;
