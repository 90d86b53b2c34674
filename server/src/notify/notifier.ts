/**
 * Turns an alert change into outbox rows, inside the alert change's transaction (see outbox.ts),
 * and records its CAP message (cap/cap-log.ts). Acknowledgements are internal and not sent.
 *
 * System channels (console, webhook): one row per change, as before.
 * People channels (SMS modem, HTTP SMS gateway, e-mail): one row per recipient, text rendered
 * for them (language, role, one SMS). A webhook channel that has recipients attached (staff with
 * its `channelId`) is treated as a people channel too: a chat-bot bridge gets one call per person,
 * whose Idempotency-Key ends with the recipient id. Who hears what:
 * - public changes (audience `public`, the default): confirmed residents subscribed to the
 *   alert's area or a parent area (desa -> kecamatan), operators and village heads (the resident
 *   text, which they forward), responders (on landslide alerts the stop-work text: no work on the
 *   slope while it rains, the Cimanggung 2021 lesson). Staff with `escalationOrder` 1 only.
 * - `unacknowledged` (Siaga/Awas not acknowledged in time): operators, responders and village
 *   heads with `escalationOrder` <= n + 1 for the n-th reminder, so each reminder reaches more people.
 * - audience `technician` (sensor health): technicians only, never residents.
 *
 * Dedupe key: `<alertId>:<change>:<level>:<channelId>` (system rows) plus `:<recipientId>`
 * (people rows); when the same change to the same level happens again within one alert (Awas, down
 * to Siaga, Awas again) the key gets `:<n>` (n >= 2), because a second evacuation call is a real
 * event residents must hear, not a duplicate. A recipient subscribed to both a desa and its
 * kecamatan gets one row (targets are deduplicated by recipient id).
 */
import type { Quantity } from '@kentongan/firmware-protocol';
import type { AlertChange } from '../alerts/types.ts';
import { CapLog, isCapChange } from '../cap/cap-log.ts';
import { areaWithParents, RecipientStore, type Target } from '../recipients/store.ts';
import { renderMessage, type NotifiableChange } from './messages.ts';
import type { EnqueueRow, NotificationPayload, Outbox } from './outbox.ts';
import { renderText, type TemplateKind } from './templates/render.ts';

/** Names and the measured quantity, for the message text. */
export interface ChangeContext {
  quantity?: Quantity;
  siteName: string;
  areaName: string;
}

/** Who an alert is for (helper B's field; absent = public). */
export type Audience = 'public' | 'technician';

export function isNotifiable(change: AlertChange['change'] | string): change is NotifiableChange {
  return change !== 'acknowledged';
}

/** Channels that deliver to people (one row per recipient); console, webhook and sirens are systems. */
export function isPeopleChannel(kind: string): boolean {
  return !/^(console|webhook)$/i.test(kind) && !/siren|mqtt|display|topic/i.test(kind);
}

export function dedupeKey(alertId: string, change: string, level: string, channelId: string, occurrence: number): string {
  const base = `${alertId}:${change}:${level}:${channelId}`;
  return occurrence > 1 ? `${base}:${occurrence}` : base;
}

export function audienceOf(change: AlertChange): Audience {
  const c = change as AlertChange & { audience?: Audience };
  const a = change.alert as AlertChange['alert'] & { audience?: Audience };
  return c.audience ?? a.audience ?? 'public';
}

export class Notifier {
  private readonly recipients: RecipientStore;
  private readonly cap: CapLog;

  constructor(
    private readonly outbox: Outbox,
    private readonly channels: readonly { id: string; kind: string }[],
    private readonly sender: string,
  ) {
    this.recipients = new RecipientStore(outbox.db);
    this.cap = new CapLog(outbox.db);
  }

  /** Queues the change for every channel and recipient; returns the number of rows written. */
  enqueue(change: AlertChange, ctx: ChangeContext, occurrence: number, now: Date): number {
    const kind: string = change.change;
    const audience = audienceOf(change);
    const settings = this.recipients.settings();
    const sender = settings?.sender ?? this.sender;
    if (audience === 'public' && isCapChange(kind)) {
      this.cap.record({
        alertId: change.alert.id,
        sent: change.at,
        change: kind,
        from: change.from,
        to: change.to,
        alert: change.alert,
        siteName: ctx.siteName,
        areaName: ctx.areaName,
        quantity: ctx.quantity,
        sender,
      });
    }
    if (!isNotifiable(kind) || this.channels.length === 0) return 0;
    const message = renderMessage({
      alert: change.alert,
      change: kind,
      from: change.from,
      to: change.to,
      at: change.at,
      quantity: ctx.quantity,
      siteName: ctx.siteName,
      areaName: ctx.areaName,
      sender,
    });
    const payload: NotificationPayload = {
      v: 1,
      alert: change.alert,
      change: kind,
      from: change.from,
      to: change.to,
      actor: change.actor,
      at: change.at,
      message,
    };
    const rows: EnqueueRow[] = [];
    const people = new Map<string, string>();
    const attached = this.recipients.channelsWithRecipients();
    for (const ch of this.channels) {
      if (isPeopleChannel(ch.kind) || (ch.kind === 'webhook' && attached.has(ch.id))) people.set(ch.id, ch.kind);
      else rows.push({ dedupeKey: dedupeKey(change.alert.id, kind, change.to, ch.id, occurrence), channelId: ch.id, channelKind: ch.kind, payload });
    }
    if (people.size > 0) {
      const areas = areaWithParents(change.alert.areaId, settings?.areaParents ?? {});
      const texts = new Map<string, ReturnType<typeof renderText>>();
      for (const [target, template] of this.targets(kind, audience, change.alert.hazard, areas, occurrence)) {
        const channelKind = people.get(target.channelId);
        if (channelKind === undefined) continue;
        const cacheKey = `${target.language}:${template}`;
        let text = texts.get(cacheKey);
        if (!text) {
          text = renderText({
            kind: template,
            language: target.language,
            hazard: change.alert.hazard,
            change: kind,
            level: change.to,
            siteName: ctx.siteName,
            areaName: ctx.areaName,
            sensorId: change.alert.sensorId,
            // Level changes show when it was measured; the all-clear and reminders when they happened.
            at: kind === 'resolved' || kind === 'unacknowledged' ? change.at : change.alert.evidence.ts,
            sender,
          });
          texts.set(cacheKey, text);
        }
        rows.push({
          dedupeKey: `${dedupeKey(change.alert.id, kind, change.to, target.channelId, occurrence)}:${target.id}`,
          channelId: target.channelId,
          channelKind,
          payload,
          recipientId: target.id,
          recipientRole: target.role,
          text: text.text,
          subject: text.subject,
        });
      }
    }
    return this.outbox.enqueueMany(rows, now);
  }

  /** Recipients of a change with the template each gets, deduplicated by recipient. */
  private targets(
    change: NotifiableChange,
    audience: Audience,
    hazard: 'flood' | 'landslide',
    areas: string[],
    occurrence: number,
  ): Map<Target, TemplateKind> {
    const seen = new Set<string>();
    const out = new Map<Target, TemplateKind>();
    const add = (list: Target[], template: TemplateKind) => {
      for (const t of list) {
        if (seen.has(t.id)) continue;
        seen.add(t.id);
        out.set(t, template);
      }
    };
    if (audience === 'technician') {
      add(this.recipients.staffIn(['technician'], areas, 10), 'technician');
    } else if (change === 'unacknowledged') {
      add(this.recipients.staffIn(['operator', 'responder', 'village_head'], areas, occurrence + 1), 'unacknowledged');
    } else {
      add(this.recipients.staffIn(['responder'], areas, 1), hazard === 'landslide' ? 'stopwork' : 'public');
      add(this.recipients.staffIn(['operator', 'village_head'], areas, 1), 'public');
      add(this.recipients.residentsIn(areas), 'public');
    }
    return out;
  }
}
