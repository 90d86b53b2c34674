/**
 * Channel health as Prometheus-style metrics, in the `{ name, help, type, samples }` shape of
 * routes/metrics.ts, so the metrics route can append them:
 * - `kentongan_channel_errors_total{channel,code}`: failed sends by `NotifyError` code;
 * - `kentongan_modem_signal_dbm{channel}`, `kentongan_modem_registered{channel}` (1/0),
 *   `kentongan_modem_sim_ready{channel}` (1/0), `kentongan_modem_stop_requests_total{channel}`,
 *   `kentongan_modem_delivery_reports_total{channel,result}`, `kentongan_modem_garbage_lines_total{channel}`.
 * A modem with unknown signal has no signal sample (absent, not 0: 0 dBm would read as excellent).
 */
import type { NotificationChannel } from '../channel.ts';

export interface ChannelMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: { labels?: Record<string, string>; value: number }[];
}

export function channelHealthMetrics(channels: readonly NotificationChannel[]): ChannelMetric[] {
  const errors: ChannelMetric = { name: 'kentongan_channel_errors_total', help: 'Failed sends per channel and error code', type: 'counter', samples: [] };
  const dbm: ChannelMetric = { name: 'kentongan_modem_signal_dbm', help: 'Modem signal strength (dBm)', type: 'gauge', samples: [] };
  const reg: ChannelMetric = { name: 'kentongan_modem_registered', help: 'Modem registered on the network (1/0)', type: 'gauge', samples: [] };
  const sim: ChannelMetric = { name: 'kentongan_modem_sim_ready', help: 'Modem SIM ready (1/0)', type: 'gauge', samples: [] };
  const stops: ChannelMetric = { name: 'kentongan_modem_stop_requests_total', help: 'SMS STOP/BERHENTI replies received', type: 'counter', samples: [] };
  const reports: ChannelMetric = { name: 'kentongan_modem_delivery_reports_total', help: 'SMS delivery reports by result', type: 'counter', samples: [] };
  const garbage: ChannelMetric = { name: 'kentongan_modem_garbage_lines_total', help: 'Unexpected or overlong lines from the modem', type: 'counter', samples: [] };
  for (const ch of channels) {
    const h = ch.health?.();
    if (!h) continue;
    const channel = ch.id;
    for (const [code, value] of Object.entries(h.errors)) errors.samples.push({ labels: { channel, code }, value });
    if (ch.kind !== 'gsm-modem') continue;
    const num = (k: string) => (typeof h[k] === 'number' ? (h[k] as number) : 0);
    if (typeof h.signalDbm === 'number') dbm.samples.push({ labels: { channel }, value: h.signalDbm });
    reg.samples.push({ labels: { channel }, value: h.registered === true ? 1 : 0 });
    sim.samples.push({ labels: { channel }, value: h.sim === 'ready' ? 1 : 0 });
    stops.samples.push({ labels: { channel }, value: num('stopRequests') });
    reports.samples.push({ labels: { channel, result: 'delivered' }, value: num('deliveredReports') });
    reports.samples.push({ labels: { channel, result: 'failed' }, value: num('failedReports') });
    garbage.samples.push({ labels: { channel }, value: num('garbageLines') + num('overlongLines') });
  }
  return [errors, dbm, reg, sim, stops, reports, garbage].filter((m) => m.samples.length > 0);
}
