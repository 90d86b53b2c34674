/**
 * The Atom feed of current alerts (RFC 4287), the way alert hubs consume CAP: one entry per
 * alert with its latest CAP message, linked as `application/cap+xml`. Active alerts are listed;
 * a resolved alert stays for `keepCancelledMs` (default 24 h) so hubs see its Cancel.
 * Required Atom elements: feed id, title, updated (+ author, self link); entry id, title,
 * updated, link. Everything is escaped (xml.ts).
 */
import type { CapRecord } from './cap-log.ts';
import { CAP_CATEGORY } from './mapping.ts';
import { xmlText } from './xml.ts';

export const ATOM_PATH = '/feeds/alerts.atom';

export interface AtomOptions {
  /** Absolute base URL, e.g. `https://ews.example.go.id` (no trailing slash). */
  baseUrl: string;
  /** Who publishes, e.g. "BPBD Sumedang". */
  author: string;
  now: Date;
  keepCancelledMs?: number;
}

/** URL of one CAP message (routes/cap.ts serves it). */
export function capMessageUrl(baseUrl: string, identifier: string): string {
  return `${baseUrl}/api/v1/cap/messages/${encodeURIComponent(identifier)}.xml`;
}

function title(r: CapRecord): string {
  const hazard = r.alert.hazard === 'flood' ? 'BANJIR / FLOOD' : 'LONGSOR / LANDSLIDE';
  const level = r.msgType === 'Cancel' ? 'AMAN / ALL CLEAR' : r.to.toUpperCase();
  return `${level} ${hazard}: ${r.siteName}, ${r.areaName}`;
}

/** Entries to show: the latest message of each alert, minus all-clears older than the window. */
export function feedEntries(latest: readonly CapRecord[], now: Date, keepCancelledMs = 24 * 3600_000): CapRecord[] {
  return latest.filter((r) => r.msgType !== 'Cancel' || now.getTime() - Date.parse(r.sent) <= keepCancelledMs);
}

export function atomFeed(entries: readonly CapRecord[], opts: AtomOptions): string {
  const self = `${opts.baseUrl}${ATOM_PATH}`;
  const updated = entries.reduce((max, e) => (e.sent > max ? e.sent : max), '') || opts.now.toISOString();
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="id">',
    `  <id>${xmlText(self)}</id>`,
    `  <title>${xmlText(`Peringatan dini ${opts.author} / Early warnings`)}</title>`,
    `  <updated>${xmlText(new Date(updated).toISOString())}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlText(self)}"/>`,
    `  <author><name>${xmlText(opts.author)}</name></author>`,
  ];
  for (const e of entries) {
    const href = capMessageUrl(opts.baseUrl, e.identifier);
    const at = new Date(e.sent).toISOString();
    lines.push(
      '  <entry>',
      `    <id>${xmlText(href)}</id>`,
      `    <title>${xmlText(title(e))}</title>`,
      `    <updated>${xmlText(at)}</updated>`,
      `    <published>${xmlText(at)}</published>`,
      `    <link rel="alternate" type="application/cap+xml" href="${xmlText(href)}"/>`,
      `    <category term="${xmlText(CAP_CATEGORY[e.alert.hazard])}"/>`,
      `    <summary>${xmlText(`${e.msgType}: ${title(e)}`)}</summary>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}
