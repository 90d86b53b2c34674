/** Human-readable demo output: Bahasa Indonesia first, English alongside, local time (WIB). */
const WIB = new Intl.DateTimeFormat('id-ID', {
  timeZone: 'Asia/Jakarta',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

export function wibClock(date = new Date()): string {
  return `${WIB.format(date).replace(/\./g, ':')} WIB`;
}

export function say(line: string): void {
  process.stdout.write(`[${wibClock()}] ${line}\n`);
}

const CHANGE_WORDS: Record<string, [string, string]> = {
  opened: ['PERINGATAN BARU', 'new alert'],
  escalated: ['NAIK', 'escalated'],
  deescalated: ['TURUN', 'de-escalated'],
  acknowledged: ['DIKETAHUI', 'acknowledged'],
  resolved: ['SELESAI', 'resolved'],
};

export function describeChange(change: { change: string; from: string | null; to: string; alert: { sensorId: string; areaId: string; evidence: { value: number; unit: string } } }): string {
  const [id, en] = CHANGE_WORDS[change.change] ?? [change.change, change.change];
  const levels = change.from ? `${change.from} -> ${change.to}` : change.to;
  const { value, unit } = change.alert.evidence;
  return `${id} / ${en}: ${levels} | ${change.alert.areaId} | sensor ${change.alert.sensorId} = ${value} ${unit}`;
}

/** Scenario clock for progress lines: hours and minutes since the scenario began. */
export function scenarioClock(t: number): string {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  return `jam ke-${h}:${String(m).padStart(2, '0')} / hour ${h}:${String(m).padStart(2, '0')}`;
}
