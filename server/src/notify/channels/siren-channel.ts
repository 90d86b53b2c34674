/**
 * The siren channel: turns an alert change into output commands (`outputCommandSchema`,
 * firmware-protocol SPEC §5.8) for the gateways of the alert's area, published with QoS 1 on
 * `topics.output(gatewayId)`. Each level has its own pattern (`waspada`, `siaga`, `awas`) so
 * people near the siren can tell them apart; the area's return to Normal sends `off`.
 * Displays read the retained area topic `kentongan/v1/alerts/<areaId>` (published by the alert
 * engine), so this channel only drives outputs.
 *
 * An area may have several alerts at once: the siren plays the highest level among the active
 * alerts this channel has seen (a Waspada alert resolving must not silence an Awas one). That
 * memory is in-process: after a restart the next change of each alert restores it.
 *
 * Test mode (`test(areaId)`): pattern `test` and a reason that says, in Bahasa Indonesia and
 * English, that it is a test. Announce tests beforehand: residents cut siren cables when sirens
 * scared them without reason (lesson from deployed systems, BNPB/UGM GAMA-EWS practice).
 *
 * The command id is derived from the outbox dedupe key, so a retried send carries the same id
 * and the gateway ignores the duplicate.
 */
import { createHash } from 'node:crypto';
import { levelRank, outputCommandSchema, topics, type Level, type OutputCommand, type OutputPattern } from '@kentongan/firmware-protocol';
import type { ChannelConfig } from '../../config/schema.ts';
import { NotifyError, type ChannelContext, type NotificationChannel } from '../channel.ts';
import { ErrorCounter } from './error-counter.ts';

export type SirenConfig = Extract<ChannelConfig, { kind: 'siren' }>;

export const TEST_REASON = 'UJI SIRINE, BUKAN PERINGATAN / SIREN TEST, NOT A WARNING';

/** The siren channel plus its announced test. */
export interface SirenChannel extends NotificationChannel {
  /** Sounds the `test` pattern on the area's outputs for `durationS` (default 30 s). */
  test(areaId: string, durationS?: number): Promise<OutputCommand[]>;
}

export function patternFor(level: Level): OutputPattern {
  switch (level) {
    case 'Waspada':
      return 'waspada';
    case 'Siaga':
      return 'siaga';
    case 'Awas':
      return 'awas';
    default:
      return 'off';
  }
}

function commandId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export function createSirenChannel(
  config: SirenConfig,
  ctx: Pick<ChannelContext, 'logger' | 'now' | 'publish' | 'gatewaysOfArea'>,
): SirenChannel {
  const log = ctx.logger.child({ channelId: config.id });
  const errors = new ErrorCounter();
  /** areaId -> alertId -> level of the active alerts seen. */
  const areas = new Map<string, Map<string, Level>>();
  let published = 0;

  function targets(areaId: string): { gatewayId: string; outputId?: string }[] {
    const own = config.targets.filter((t) => t.areaId === areaId);
    if (own.length > 0) return own;
    return (ctx.gatewaysOfArea?.(areaId) ?? []).map((gatewayId) => ({ gatewayId }));
  }

  async function publishAll(areaId: string, key: string, pattern: OutputPattern, durationS: number, reason: string): Promise<OutputCommand[]> {
    const publish = ctx.publish;
    if (!publish) throw new NotifyError('SIREN_NO_BROKER', 'no MQTT publisher configured');
    const list = targets(areaId);
    if (list.length === 0) throw new NotifyError('SIREN_NO_TARGET', `no siren gateway for area ${areaId}`, { retryable: false });
    const issuedAt = ctx.now().toISOString();
    const commands = list.map((t) =>
      outputCommandSchema.parse({
        v: 1,
        commandId: commandId(key, t.gatewayId, t.outputId ?? ''),
        ...(t.outputId !== undefined ? { outputId: t.outputId } : {}),
        pattern,
        durationS: pattern === 'off' ? 0 : durationS,
        issuedAt,
        reason: reason.slice(0, 200),
      }),
    );
    // Every gateway is tried; one failure makes the send fail (and be retried with the same ids).
    const results = await Promise.allSettled(
      list.map((t, i) => publish(topics.output(t.gatewayId), JSON.stringify(commands[i]), { qos: 1, retain: false })),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    published += results.length - failed.length;
    if (failed.length > 0) {
      throw new NotifyError('SIREN_PUBLISH', `${failed.length} of ${list.length} siren commands not published`, {
        cause: (failed[0] as PromiseRejectedResult).reason,
      });
    }
    return commands;
  }

  return {
    id: config.id,
    kind: 'siren',
    maxAttempts: config.maxAttempts,
    async send({ dedupeKey, payload }) {
      try {
        // Reminders to staff do not re-sound the siren.
        if (payload.change === 'unacknowledged') return;
        const { alert } = payload;
        let active = areas.get(alert.areaId);
        if (!active) areas.set(alert.areaId, (active = new Map()));
        if (payload.change === 'resolved' || payload.to === 'Normal') active.delete(alert.id);
        else active.set(alert.id, payload.to);
        let level: Level = 'Normal';
        for (const l of active.values()) if (levelRank(l) > levelRank(level)) level = l;
        if (active.size === 0) areas.delete(alert.areaId);
        const pattern = patternFor(level);
        const reason = `alert ${alert.id} ${payload.change} ${payload.to}; area ${level}`;
        await publishAll(alert.areaId, dedupeKey, pattern, config.durationS, reason);
        log.info({ areaId: alert.areaId, pattern }, 'siren command published');
      } catch (err) {
        errors.count(err);
        if (err instanceof NotifyError) throw err;
        throw new NotifyError('SIREN_PUBLISH', `siren command failed: ${(err as Error).message}`, { cause: err });
      }
    },
    async test(areaId, durationS = 30) {
      try {
        const commands = await publishAll(areaId, `test:${areaId}:${ctx.now().toISOString()}`, 'test', durationS, TEST_REASON);
        log.info({ areaId, durationS }, 'siren test published');
        return commands;
      } catch (err) {
        errors.count(err);
        throw err;
      }
    },
    health: () => ({ errors: errors.snapshot(), published, areasSounding: areas.size }),
  };
}
