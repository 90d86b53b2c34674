/** Alert routes through `app.inject()` with the recording engine: lifecycle errors and bad bodies. */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppHarness, errorOf, type AppHarness } from '../helpers/app-harness.ts';
import { sampleAlert } from '../helpers/recording-engine.ts';

describe('HTTP API: alerts', () => {
  let h: AppHarness;
  let app: FastifyInstance;
  beforeEach(async () => {
    h = await createAppHarness();
    app = h.app;
  });
  afterEach(async () => {
    await h.close();
  });

  describe('alerts', () => {
    beforeEach(() => {
      h.engine.alerts.set('al-1', sampleAlert('al-1'));
      h.engine.alerts.set('al-2', sampleAlert('al-2', { state: 'resolved', areaId: 'other' }));
      h.engine.levels = { jatinangor: 'Siaga' };
    });
    const post = (path: string, payload: unknown, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: path,
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
        headers: { 'content-type': 'application/json', ...headers },
      });

    it('lists alerts filtered by state and area', async () => {
      const all = await app.inject('/api/v1/alerts');
      expect(all.json().alerts.map((a: { id: string }) => a.id)).toEqual(['al-1', 'al-2']);
      const active = await app.inject('/api/v1/alerts?state=active&areaId=jatinangor');
      expect(active.json().alerts).toEqual([
        expect.objectContaining({ id: 'al-1', level: 'Siaga', openedAtLocal: '2025-01-09T15:30:00.000+07:00' }),
      ]);
      const bad = await app.inject('/api/v1/alerts?state=panic');
      expect(bad.statusCode).toBe(400);
      expect(errorOf(bad).message).toContain('state');
    });

    it('shows one alert, 404 for an unknown one', async () => {
      expect((await app.inject('/api/v1/alerts/al-1')).json().alert.id).toBe('al-1');
      const res = await app.inject('/api/v1/alerts/nope');
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).code).toBe('ALERT_NOT_FOUND');
    });

    it('acknowledges and resolves; 404 unknown, 409 already resolved', async () => {
      const ack = await post('/api/v1/alerts/al-1/acknowledge', { by: 'Operator Pusdalops', note: 'tim dikirim' });
      expect(ack.statusCode).toBe(200);
      expect(ack.json().alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'Operator Pusdalops', note: 'tim dikirim' });
      const res = await post('/api/v1/alerts/al-1/resolve', { by: 'Operator' });
      expect(res.statusCode).toBe(200);
      expect(res.json().alert).toMatchObject({ state: 'resolved', resolvedBy: 'Operator', note: null });
      const again = await post('/api/v1/alerts/al-1/resolve', { by: 'Operator' });
      expect(again.statusCode).toBe(409);
      expect(errorOf(again).code).toBe('ALERT_ALREADY_RESOLVED');
      const unknown = await post('/api/v1/alerts/nope/acknowledge', { by: 'Operator' });
      expect(unknown.statusCode).toBe(404);
    });

    it.each([
      ['malformed JSON', '{"by": "x",', 400, 'INVALID_JSON'],
      ['empty body', '', 400, 'INVALID_JSON'],
      ['wrong type', { by: 5 }, 400, 'VALIDATION_FAILED'],
      ['missing by', { note: 'x' }, 400, 'VALIDATION_FAILED'],
      ['blank by', { by: '   ' }, 400, 'VALIDATION_FAILED'],
      ['extra field', { by: 'x', admin: true }, 400, 'VALIDATION_FAILED'],
      ['array body', [{ by: 'x' }], 400, 'VALIDATION_FAILED'],
      ['note too long', { by: 'x', note: 'n'.repeat(1001) }, 400, 'VALIDATION_FAILED'],
      ['prototype poisoning', '{"by":"x","__proto__":{"admin":true}}', 400, 'INVALID_JSON'],
    ])('refuses %s', async (_name, payload, status, code) => {
      const res = await post('/api/v1/alerts/al-1/acknowledge', payload);
      expect(res.statusCode).toBe(status);
      const err = errorOf(res);
      expect(err.message.length).toBeGreaterThan(0);
      expect(err.code).toBe(code);
      expect(h.engine.alerts.get('al-1')!.state).toBe('open');
    });

    it('refuses an oversize body with 413 and a wrong media type with 415', async () => {
      const big = await post('/api/v1/alerts/al-1/acknowledge', { by: 'x', note: 'n'.repeat(70 * 1024) });
      expect(big.statusCode).toBe(413);
      expect(errorOf(big).code).toBe('BODY_TOO_LARGE');
      const text = await app.inject({
        method: 'POST',
        url: '/api/v1/alerts/al-1/acknowledge',
        payload: 'by=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(text.statusCode).toBe(415);
      expect(errorOf(text).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('gives each area its current level and active alert count', async () => {
      const res = await app.inject('/api/v1/areas');
      expect(res.json()).toEqual({ areas: [{ id: 'jatinangor', name: 'Kecamatan Jatinangor', level: 'Siaga', activeAlerts: 1 }] });
    });
  });

});
