/**
 * Human-facing text of the HTTP API is Bahasa Indonesia first, English after " / ": OpenAPI
 * summaries and the error messages the routes and the error handler write themselves.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppHarness, errorOf, type AppHarness } from '../helpers/app-harness.ts';

describe('HTTP API text: Bahasa first, English after', () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await createAppHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('writes every OpenAPI summary as "Bahasa / English"', async () => {
    const doc = (await h.app.inject('/documentation/json')).json() as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    const summaries = Object.fromEntries(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op.summary]),
      ),
    );
    expect(summaries).toEqual({
      'GET /api/v1/health': 'Kesehatan server / server health',
      'GET /api/v1/sites': 'Lokasi, sensor dan nilai terakhir / sites, sensors and latest values',
      'GET /api/v1/sensors/{id}/readings': 'Riwayat data sensor / reading history of a sensor',
      'GET /api/v1/gateways': 'Gateway dan kesehatannya / gateways and their health',
      'GET /api/v1/alerts': 'Daftar peringatan / alerts',
      'GET /api/v1/alerts/{id}': 'Satu peringatan dengan jejak auditnya / one alert with its audit trail',
      'POST /api/v1/alerts/{id}/acknowledge': 'Terima peringatan / acknowledge an alert',
      'POST /api/v1/alerts/{id}/resolve': 'Selesaikan peringatan / resolve an alert',
      'GET /api/v1/areas': 'Level saat ini per wilayah / current level per area',
      'GET /api/v1/metrics': 'Metrik (teks Prometheus atau JSON) / metrics (Prometheus text or JSON)',
    });
  });

  it('answers unknown alerts, sensors and routes in Bahasa first', async () => {
    expect(errorOf(await h.app.inject('/api/v1/alerts/nope')).message).toBe('peringatan tidak dikenal "nope" / unknown alert "nope"');
    const ack = await h.app.inject({ method: 'POST', url: '/api/v1/alerts/nope/acknowledge', payload: { by: 'Operator' } });
    expect(errorOf(ack).message).toBe('peringatan tidak dikenal "nope" / unknown alert "nope"');
    const sensor = await h.app.inject('/api/v1/sensors/tidak-ada/readings?quantity=water_level');
    expect(errorOf(sensor).message).toBe('sensor tidak dikenal "tidak-ada" / unknown sensor "tidak-ada"');
    expect(errorOf(await h.app.inject('/api/v1/nothing-here')).message).toBe(
      'rute tidak ada: GET /api/v1/nothing-here / no route GET /api/v1/nothing-here',
    );
    const range = await h.app.inject('/api/v1/sensors/wl-1/readings?quantity=water_level&from=2025-01-09T09:00:00Z&to=2025-01-09T08:00:00Z');
    expect(errorOf(range).message).toBe('querystring: from tidak boleh sesudah to / from must not be after to');
  });

  it('answers an unexpected failure (database closed) with 500 in Bahasa first, no internals', async () => {
    h.db.close();
    const res = await h.app.inject('/api/v1/sites');
    expect(res.statusCode).toBe(500);
    expect(errorOf(res)).toEqual({ code: 'INTERNAL', message: 'kesalahan internal, lihat log server / internal error, see the server log' });
  });
});
