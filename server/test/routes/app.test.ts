/**
 * The HTTP API through `app.inject()`: a real SQLite store in a temp folder, hostile queries,
 * metrics and docs (alert routes: alerts.test.ts).
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GW_A } from '../helpers/fixtures.ts';
import { createAppHarness, errorOf, NOW, type AppHarness } from '../helpers/app-harness.ts';

describe('HTTP API', () => {
  let h: AppHarness;
  let app: FastifyInstance;
  beforeEach(async () => {
    h = await createAppHarness();
    app = h.app;
  });
  afterEach(async () => {
    await h.close();
  });
  const seed = () => h.seed();

  describe('GET /api/v1/health', () => {
    it('reports ok with uptime, broker clients and the readings count', async () => {
      seed();
      h.broker.online.add(GW_A);
      const res = await app.inject('/api/v1/health');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        status: 'ok',
        time: NOW.toISOString(),
        timeLocal: '2025-01-09T16:00:00.000+07:00',
        startedAt: '2025-01-09T08:58:30.000Z',
        uptimeS: 90,
        broker: { clients: 1, gatewaysOnline: 1, gatewaysConfigured: 2 },
        db: { ok: true, readings: 4 },
      });
    });

    it('answers 503 degraded when the database is gone', async () => {
      h.db.close();
      const res = await app.inject('/api/v1/health');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'degraded', db: { ok: false, readings: null } });
    });
  });

  describe('GET /api/v1/sites', () => {
    it('lists sites with sensors, latest value per quantity in UTC and WIB, and sequence gaps', async () => {
      seed();
      const res = await app.inject('/api/v1/sites');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.sites).toHaveLength(1);
      const site = body.sites[0];
      expect(site).toMatchObject({ id: 'cikeruh', areaId: 'jatinangor', areaName: 'Kecamatan Jatinangor' });
      const wlSensor = site.sensors.find((s: { id: string }) => s.id === 'wl-1');
      expect(wlSensor.latest).toEqual([
        expect.objectContaining({ quantity: 'temperature', value: 61, unit: 'degC' }),
        expect.objectContaining({
          quantity: 'water_level',
          value: 62,
          ts: '2025-01-09T08:04:00.000Z',
          tsLocal: '2025-01-09T15:04:00.000+07:00',
          gatewayId: GW_A,
        }),
      ]);
      expect(wlSensor.sequence).toEqual({ currentEpoch: 1, received: 4, gaps: 0 });
      const rain = site.sensors.find((s: { id: string }) => s.id === 'rg-1');
      expect(rain).toMatchObject({ latest: [], sequence: { currentEpoch: null, received: 0, gaps: 0 } });
      expect(body.unregisteredSensors).toEqual([]);
    });
  });

  describe('GET /api/v1/sensors/:id/readings', () => {
    const url = (q: string, id = 'wl-1') => `/api/v1/sensors/${id}/readings?${q}`;

    it('returns the window ascending, with WIB times', async () => {
      seed();
      const res = await app.inject(url('quantity=water_level&from=2025-01-09T08:00:00Z&to=2025-01-09T15:03:00%2B07:00'));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ sensorId: 'wl-1', quantity: 'water_level', truncated: false, to: '2025-01-09T08:03:00.000Z' });
      expect(body.readings.map((r: { seq: number }) => r.seq)).toEqual([1, 2]);
      expect(body.readings[0]).toEqual({
        ts: '2025-01-09T08:01:00.000Z',
        tsLocal: '2025-01-09T15:01:00.000+07:00',
        value: 50,
        unit: 'cm',
        quality: 'good',
        epoch: 1,
        seq: 1,
      });
    });

    it('defaults to the last 24 h before now and marks a cut window as truncated', async () => {
      seed();
      const res = await app.inject(url('quantity=water_level&limit=2'));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ from: '2025-01-08T09:00:00.000Z', to: NOW.toISOString(), truncated: true });
      expect(res.json().readings.map((r: { seq: number }) => r.seq)).toEqual([2, 4]);
    });

    it.each([
      ['', 'quantity'],
      ['quantity=banjir', 'quantity'],
      ['quantity=water_level&limit=0', 'limit'],
      ['quantity=water_level&limit=abc', 'limit'],
      ['quantity=water_level&limit=100001', 'limit'],
      ['quantity=water_level&limit=1.5', 'limit'],
      ['quantity=water_level&from=yesterday', 'from'],
      ['quantity=water_level&to=2025-13-01T00:00:00Z', 'to'],
      ['quantity=water_level&sql=1%3BDROP', 'sql'],
      ['quantity=water_level&from=2025-01-09T09:00:00Z&to=2025-01-09T08:00:00Z', 'from must not be after to'],
    ])('refuses query %j with 400 naming %s', async (query, mention) => {
      const res = await app.inject(url(query));
      expect(res.statusCode).toBe(400);
      const err = errorOf(res);
      expect(err.code).toBe('VALIDATION_FAILED');
      expect(err.message).toContain(mention);
    });

    it('answers 404 for an unknown sensor and 400 for an id that cannot be one', async () => {
      const res = await app.inject(url('quantity=water_level', 'tidak-ada'));
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).code).toBe('SENSOR_NOT_FOUND');
      const bad = await app.inject(url('quantity=water_level', 'x'.repeat(40)));
      expect(bad.statusCode).toBe(400);
    });
  });

  describe('GET /api/v1/gateways', () => {
    it('lists configured gateways offline until connected, with their last status and health', async () => {
      let res = await app.inject('/api/v1/gateways');
      expect(res.json().gateways.map((g: { id: string; state: string }) => [g.id, g.state])).toEqual([
        ['gw-a', 'offline'],
        ['gw-b', 'offline'],
      ]);
      h.broker.online.add(GW_A);
      h.gatewayState.recordStatus({ v: 1, gatewayId: GW_A, state: 'online', ts: '2025-01-09T08:00:00.000Z' }, NOW);
      h.gatewayState.recordHealth(
        {
          v: 1,
          gatewayId: GW_A,
          ts: '2025-01-09T08:59:00.000Z',
          uptimeS: 3540,
          queueDepth: 0,
          oldestQueuedAgeS: null,
          rejectedFrames: {},
          sensors: [],
        },
        NOW,
      );
      res = await app.inject('/api/v1/gateways');
      const a = res.json().gateways[0];
      expect(a).toMatchObject({
        id: GW_A,
        configured: true,
        state: 'online',
        lastStatus: { state: 'online', software: null, receivedAt: NOW.toISOString() },
        lastHealth: { uptimeS: 3540, queueDepth: 0, tsLocal: '2025-01-09T15:59:00.000+07:00' },
      });
    });
  });

  describe('metrics, docs and unknown routes', () => {
    it('writes Prometheus text by default and JSON on request', async () => {
      seed();
      h.ingest.counters.readingsStored = 4;
      h.ingest.counters.rejected.invalid_json = 2;
      h.broker.counters.authFailures = 3;
      h.broker.counters.authThrottled = 5;
      h.broker.counters.oversizePackets = 6;
      h.broker.counters.badFrames = 7;
      h.engine.levels = { jatinangor: 'Awas' };
      const res = await app.inject('/api/v1/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.body).toContain('# TYPE kentongan_readings_stored_total counter\nkentongan_readings_stored_total 4\n');
      expect(res.body).toContain('kentongan_ingest_rejected_total{reason="invalid_json"} 2');
      expect(res.body).toContain('kentongan_mqtt_auth_failures_total 3');
      expect(res.body).toContain('kentongan_mqtt_auth_throttled_total 5');
      expect(res.body).toContain('kentongan_mqtt_oversize_packets_total 6');
      expect(res.body).toContain('kentongan_mqtt_bad_frames_total 7');
      expect(res.body).toContain('kentongan_store_readings 4');
      expect(res.body).toContain('kentongan_area_level{area="jatinangor"} 3');
      expect(res.body).toContain('kentongan_sensor_sequence_gaps{sensor="wl-1"} 0');
      const json = (await app.inject('/api/v1/metrics?format=json')).json();
      expect(json.kentongan_readings_stored_total).toBe(4);
      expect((await app.inject('/api/v1/metrics?format=xml')).statusCode).toBe(400);
    });

    it('serves the OpenAPI document and the Swagger UI', async () => {
      const res = await app.inject('/documentation/json');
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.openapi).toMatch(/^3\./);
      for (const p of ['/api/v1/health', '/api/v1/sites', '/api/v1/sensors/{id}/readings', '/api/v1/gateways', '/api/v1/alerts', '/api/v1/alerts/{id}/acknowledge', '/api/v1/alerts/{id}/resolve', '/api/v1/areas', '/api/v1/metrics']) {
        expect(Object.keys(doc.paths)).toContain(p);
      }
      const ui = await app.inject('/documentation/');
      expect(ui.statusCode).toBe(200);
      expect(ui.headers['content-type']).toContain('text/html');
    });

    it('answers unknown routes with the error shape', async () => {
      const res = await app.inject('/api/v1/nothing-here');
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).code).toBe('NOT_FOUND');
    });
  });
});
