/**
 * Late data (issue 4, item 3): a level change decided by a reading that reached the server long
 * after it was measured says so, with the delay, so nobody mistakes a replayed backlog for
 * something happening now.
 */
import type { BilingualText } from './types.ts';

/** The data delay (received - event time) if it is above `noticeAfterMs`, else null. */
export function lateBy(receivedMs: number | undefined, eventMs: number, noticeAfterMs: number): number | null {
  if (receivedMs === undefined || !Number.isFinite(receivedMs) || !Number.isFinite(eventMs)) return null;
  const delay = receivedMs - eventMs;
  return delay > noticeAfterMs ? delay : null;
}

/** "terdeteksi terlambat, data tertunda N menit / detected late, data delayed N minutes". */
export function lateNotice(delayMs: number): BilingualText {
  const minutes = Math.max(1, Math.round(delayMs / 60_000));
  return {
    id: `terdeteksi terlambat, data tertunda ${minutes} menit`,
    en: `detected late, data delayed ${minutes} minute${minutes === 1 ? '' : 's'}`,
  };
}
