/**
 * Reads the uplink's quality from a small JSON file that the modem's own tooling writes (the
 * gateway does not talk to modems). Missing, unreadable or invalid: no link field in the health
 * message, and the reason is returned so the caller can log it (rarely).
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

const linkSchema = z.strictObject({
  rssiDbm: z.number().min(-200).max(0).optional(),
  quality: z.number().min(0).max(100).optional(),
  technology: z.string().max(16).optional(),
});
export type LinkQuality = z.infer<typeof linkSchema>;

/** Largest file read: the content is a handful of fields. */
const MAX_BYTES = 4096;

export function readLinkQuality(file: string): { ok: true; value: LinkQuality } | { ok: false; error: string } {
  try {
    if (statSync(file).size > MAX_BYTES) return { ok: false, error: `larger than ${MAX_BYTES} bytes` };
    const parsed = linkSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
    return { ok: true, value: parsed.data };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
