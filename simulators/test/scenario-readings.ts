/**
 * Scenario -> readings, as the gateway would send them: every frame a simulated sensor writes is
 * decoded with the real line codec; channels map to quantities the way the demo gateway config
 * maps them (level_cm -> water_level, displacement_mm -> displacement, a tipping-bucket counter
 * -> rain mm since the previous reading, rain_mm -> rain, batt_v -> battery_voltage).
 */
import { decodeLine, type Quantity, type Reading } from '@kentongan/firmware-protocol';
import { builtInScenarioPath, loadScenario, type Scenario } from '../src/scenarios/schema.ts';
import { SimulatedSensor } from '../src/sensors/simulated-sensor.ts';

const MAP: Record<string, { quantity: Quantity; unit: string }> = {
  level_cm: { quantity: 'water_level', unit: 'cm' },
  displacement_mm: { quantity: 'displacement', unit: 'mm' },
  rain_mm: { quantity: 'rain', unit: 'mm' },
  batt_v: { quantity: 'battery_voltage', unit: 'V' },
};

export async function scenarioReadings(name: string, startMs: number): Promise<{ scenario: Scenario; readings: Reading[] }> {
  const scenario = await loadScenario(builtInScenarioPath(name));
  const readings: Reading[] = [];
  let t = 0;
  for (const spec of scenario.sensors) {
    const prevTips = new Map<string, number>();
    let seq = 0;
    const sensor = new SimulatedSensor(
      spec,
      (frame) => {
        const d = decodeLine(frame.trimEnd());
        if (!d.ok || (d.message.kind !== 'RDG' && d.message.kind !== 'HBT')) return;
        const ts = new Date(startMs + t * 1000).toISOString();
        for (const [ch, value] of Object.entries(d.message.channels)) {
          const spec2 = spec.channels[ch];
          let q = MAP[ch];
          let v = value;
          if (spec2?.kind === 'tipping-bucket') {
            const prev = prevTips.get(ch);
            prevTips.set(ch, value);
            if (prev === undefined) continue; // baseline, as the gateway does
            v = Number(((value - prev) * spec2.mmPerTip).toFixed(6));
            q = { quantity: 'rain', unit: 'mm' };
          }
          if (!q) continue;
          readings.push({ sensorId: spec.id, epoch: 1, seq: seq++, quantity: q.quantity, value: v, unit: q.unit, ts, quality: 'good' } as Reading);
        }
      },
      scenario.heartbeatEveryTicks,
      scenario.durationS,
    );
    sensor.boot();
    for (t = 0; t <= scenario.durationS; t += scenario.tickS) sensor.tick(t);
  }
  readings.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { scenario, readings };
}
