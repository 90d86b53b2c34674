/**
 * Local time for people: Western Indonesia Time (WIB, UTC+7, no daylight saving). The API keeps
 * UTC in `ts` and adds the same instant in WIB in `tsLocal`, e.g. `2021-01-09T15:30:00.000+07:00`.
 */
const WIB_OFFSET_MS = 7 * 60 * 60 * 1000;

/** The instant of `iso` written in WIB with an explicit `+07:00` offset. */
export function toWib(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms + WIB_OFFSET_MS).toISOString().slice(0, -1)}+07:00`;
}

/** Like `toWib`, passing `null` through. */
export function toWibOrNull(iso: string | null): string | null {
  return iso === null ? null : toWib(iso);
}
