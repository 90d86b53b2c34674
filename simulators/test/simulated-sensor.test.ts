import { describe, expect, it } from 'vitest';
import { crcHex, decodeLine } from '@kentongan/firmware-protocol';
import { SimulatedSensor } from '../src/sensors/simulated-sensor.ts';
import { interpolate } from '../src/scenarios/curves.ts';
import { builtInScenarioPath, loadScenario, parseScenario, ScenarioError } from '../src/scenarios/schema.ts';

describe('scenario curves', () => {
  it('interpolates linearly and holds flat outside the points', () => {
    const pts: [number, number][] = [[10, 0], [20, 100]];
    expect(interpolate(pts, 0)).toBe(0);
    expect(interpolate(pts, 15)).toBe(50);
    expect(interpolate(pts, 99)).toBe(100);
  });
});

describe('scenario files', () => {
  it('loads the shipped scenarios', async () => {
    for (const name of ['banjir-cikeruh', 'hari-tenang']) {
      const s = await loadScenario(builtInScenarioPath(name));
      expect(s.name).toBe(name);
    }
  });

  it('rejects a bad scenario with path: message lines', () => {
    const bad = { name: 'x', title: { id: 'a', en: 'a' }, description: { id: 'a', en: 'a' }, durationS: 10, tickS: 0, sensors: [] };
    expect(() => parseScenario(bad)).toThrow(ScenarioError);
    expect(() => parseScenario(bad)).toThrow(/tickS: .*\n.*sensors: /s);
  });

  it('rejects curves whose times do not ascend', () => {
    const bad = {
      name: 'x', title: { id: 'a', en: 'a' }, description: { id: 'a', en: 'a' }, durationS: 10, tickS: 1,
      sensors: [{ id: 's1', type: 'water_level', channels: { level_cm: { kind: 'curve', points: [[5, 1], [5, 2]] } } }],
    };
    expect(() => parseScenario(bad)).toThrow(/sensors\.0\.channels\.level_cm\.points: times must be strictly ascending/);
  });
});

describe('SimulatedSensor', () => {
  const spec = parseScenario({
    name: 't', title: { id: 'a', en: 'a' }, description: { id: 'a', en: 'a' }, durationS: 7200, tickS: 60,
    sensors: [
      { id: 'wl-1', type: 'water_level', channels: { level_cm: { kind: 'curve', points: [[0, 50], [3600, 110]] } } },
      { id: 'rg-1', type: 'rain', channels: { tips: { kind: 'tipping-bucket', mmPerTip: 0.2, rateMmPerH: [[0, 12], [7200, 12]] } } },
    ],
  }).sensors;

  it('speaks valid frames: HEL first, then readings with rising sequence numbers', () => {
    const frames: string[] = [];
    const s = new SimulatedSensor(spec[0]!, (f) => frames.push(f), 5);
    s.boot();
    for (let t = 0; t <= 1800; t += 60) s.tick(t);
    const decoded = frames.map((f) => decodeLine(f));
    expect(decoded.every((d) => d.ok)).toBe(true);
    const msgs = decoded.map((d) => (d.ok ? d.message : null))!;
    expect(msgs[0]!.kind).toBe('HEL');
    expect(msgs.map((m) => m!.seq)).toEqual(msgs.map((_, i) => i));
    const readings = msgs.filter((m) => m!.kind === 'RDG');
    expect(readings).toHaveLength(31);
    expect(s.counters.channelValues).toBe(31);
    expect(msgs.filter((m) => m!.kind === 'HBT')).toHaveLength(6);
    const last = readings.at(-1)!;
    expect(last.kind === 'RDG' && last.channels.level_cm).toBe(80);
  });

  it('integrates rain rate into a cumulative tip counter (12 mm/h = 60 tips/h at 0.2 mm)', () => {
    const frames: string[] = [];
    const s = new SimulatedSensor(spec[1]!, (f) => frames.push(f), 1000);
    s.boot();
    for (let t = 0; t <= 3600; t += 60) s.tick(t);
    const last = decodeLine(frames.at(-1)!);
    expect(last.ok && last.message.kind === 'RDG' && last.message.channels.tips).toBe(60);
  });

  it('answers a PING command with an ACK that names the command sequence', () => {
    const frames: string[] = [];
    const s = new SimulatedSensor(spec[0]!, (f) => frames.push(f));
    s.onLine('$CMD,wl-1,42,PING*' + '0000');
    expect(frames).toHaveLength(0); // bad CRC: ignored
    s.onLine(encodeCmd());
    const reply = decodeLine(frames[0]!);
    expect(reply.ok && reply.message.kind === 'ACK' && reply.message.commandSeq).toBe(42);
  });
});

function encodeCmd(): string {
  return `$CMD,wl-1,42,PING*${crcHex('CMD,wl-1,42,PING')}\r\n`;
}
