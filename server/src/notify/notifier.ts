/**
 * Turns an alert change into outbox rows, one per configured channel. Called inside the alert
 * change's transaction (see outbox.ts). Acknowledgements are internal and not sent.
 *
 * Dedupe key: `<alertId>:<change>:<level>:<channelId>`; when the same change to the same level
 * happens again within one alert (Awas, down to Siaga, Awas again) the key gets `:<n>` (n >= 2),
 * because a second evacuation call is a real event residents must hear, not a duplicate.
 */
import type { Quantity } from '@kentongan/firmware-protocol';
import type { AlertChange } from '../alerts/types.ts';
import { renderMessage, type NotifiableChange } from './messages.ts';
import type { NotificationPayload, Outbox } from './outbox.ts';

/** Names and the measured quantity, for the message text. */
export interface ChangeContext {
  quantity?: Quantity;
  siteName: string;
  areaName: string;
}

export function isNotifiable(change: AlertChange['change']): change is NotifiableChange {
  return change !== 'acknowledged';
}

export function dedupeKey(alertId: string, change: string, level: string, channelId: string, occurrence: number): string {
  const base = `${alertId}:${change}:${level}:${channelId}`;
  return occurrence > 1 ? `${base}:${occurrence}` : base;
}

export class Notifier {
  constructor(
    private readonly outbox: Outbox,
    private readonly channels: readonly { id: string; kind: string }[],
    private readonly sender: string,
  ) {}

  /** Queues the change for every channel; returns the number of rows written. */
  enqueue(change: AlertChange, ctx: ChangeContext, occurrence: number, now: Date): number {
    if (!isNotifiable(change.change) || this.channels.length === 0) return 0;
    const message = renderMessage({
      alert: change.alert,
      change: change.change,
      from: change.from,
      to: change.to,
      at: change.at,
      quantity: ctx.quantity,
      siteName: ctx.siteName,
      areaName: ctx.areaName,
      sender: this.sender,
    });
    const payload: NotificationPayload = {
      v: 1,
      alert: change.alert,
      change: change.change,
      from: change.from,
      to: change.to,
      actor: change.actor,
      at: change.at,
      message,
    };
    let written = 0;
    for (const ch of this.channels) {
      const key = dedupeKey(change.alert.id, change.change, change.to, ch.id, occurrence);
      if (this.outbox.enqueue({ dedupeKey: key, channelId: ch.id, channelKind: ch.kind, payload }, now)) written++;
    }
    return written;
  }
}
