/**
 * Validation of operator input for acknowledge/resolve. The HTTP layer validates too; this is
 * the engine's own guard, because every input path must answer bad input with a clear error.
 */
import { AlertInputError } from './errors.ts';

const MAX_ACTOR_CHARS = 64;
const MAX_NOTE_CHARS = 1000;

/** The operator's name, trimmed; throws `AlertInputError` when unusable. */
export function checkActor(by: unknown): string {
  if (typeof by !== 'string') throw new AlertInputError('by must be a string');
  const actor = by.trim();
  if (actor.length === 0 || actor.length > MAX_ACTOR_CHARS) {
    throw new AlertInputError(`by must be 1-${MAX_ACTOR_CHARS} characters`);
  }
  // `rule:<id>` marks automatic actions in the audit trail; a person cannot claim it.
  if (actor.startsWith('rule:')) throw new AlertInputError('by must not start with "rule:"');
  return actor;
}

/** The note, or null for none/blank; throws `AlertInputError` when unusable. */
export function checkNote(note: unknown): string | null {
  if (note === null || note === undefined) return null;
  if (typeof note !== 'string') throw new AlertInputError('note must be a string or null');
  if (note.length > MAX_NOTE_CHARS) throw new AlertInputError(`note must be at most ${MAX_NOTE_CHARS} characters`);
  return note.trim() === '' ? null : note;
}
