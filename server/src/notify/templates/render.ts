/**
 * Fills the templates of texts.ts for one recipient. Names are made GSM-7 safe (toGsm7) before
 * they go in; when the text is longer than one SMS (160 septets), the place is shortened step by
 * step (site and area, site only, site cut to 40 and 20 characters) and the first that fits wins.
 * Times are WIB (UTC+7) in human text; the data stays UTC.
 */
import type { Level } from '@kentongan/firmware-protocol';
import { gsm7Length, toGsm7 } from './gsm7.ts';
import {
  CONFIRM_TEXTS,
  HEADS,
  PUBLIC_TEXTS,
  STOP_WORK_TEXTS,
  TECHNICIAN_TEXTS,
  UNACKNOWLEDGED_TEXTS,
  type Hazard,
  type Language,
} from './texts.ts';

export const SMS_SEPTETS = 160;
const WIB_OFFSET_MS = 7 * 3600_000;

/** `28/11 14:05 WIB` (short, for SMS) for a UTC ISO instant; `?` when it cannot be parsed. */
export function shortWib(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '?';
  const d = new Date(ms + WIB_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} WIB`;
}

/** Which text a recipient gets. */
export type TemplateKind = 'public' | 'stopwork' | 'technician' | 'unacknowledged';

export interface RenderInput {
  kind: TemplateKind;
  language: Language;
  hazard: Hazard;
  change: 'opened' | 'escalated' | 'deescalated' | 'resolved' | 'unacknowledged';
  /** Level after the change (`Normal` when resolved). */
  level: Level;
  siteName: string;
  areaName: string;
  sensorId: string;
  /** UTC ISO instant shown in the text. */
  at: string;
  sender: string;
}

export interface RenderedText {
  text: string;
  /** Septets in GSM-7 (null if a character is outside it, which toGsm7 prevents). */
  septets: number | null;
  /** A one-line subject for e-mail. */
  subject: string;
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
}

function templateFor(input: RenderInput): string {
  const resolved = input.change === 'resolved' || input.level === 'Normal';
  switch (input.kind) {
    case 'public':
      return PUBLIC_TEXTS[input.language][input.hazard][resolved ? 'Normal' : input.level];
    case 'stopwork':
      return STOP_WORK_TEXTS[input.language][resolved ? 'Normal' : input.level];
    case 'technician':
      return TECHNICIAN_TEXTS[input.language][resolved ? 'resolved' : 'active'];
    case 'unacknowledged':
      return UNACKNOWLEDGED_TEXTS[input.language][input.hazard];
  }
}

function headFor(input: RenderInput): string {
  const level = input.level.toUpperCase();
  const change = input.change === 'escalated' || input.change === 'deescalated' ? input.change : 'opened';
  return HEADS[input.language][change].replace('{level}', level);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 2)).trimEnd()}..`;
}

/** Renders one message; the longest place that still fits one SMS wins. */
export function renderText(input: RenderInput): RenderedText {
  const site = toGsm7(input.siteName) || '?';
  const area = toGsm7(input.areaName);
  const values = {
    head: headFor(input),
    level: input.level.toUpperCase(),
    time: shortWib(input.at),
    sender: cut(toGsm7(input.sender), 30),
    sensor: cut(toGsm7(input.sensorId), 32),
  };
  const template = templateFor(input);
  const places = [area && area !== site ? `${site}, ${area}` : site, site, cut(site, 40), cut(site, 20)];
  let text = '';
  for (const place of places) {
    text = fill(template, { ...values, place });
    if ((gsm7Length(text) ?? Infinity) <= SMS_SEPTETS) break;
  }
  const subject = text.split('. ')[0] ?? text;
  return { text, septets: gsm7Length(text), subject: cut(subject, 120) };
}

/** The confirmation-code message. */
export function renderConfirmation(language: Language, code: string, sender: string, minutes: number): string {
  return fill(CONFIRM_TEXTS[language], { code, sender: cut(toGsm7(sender), 30), minutes: String(minutes) });
}
