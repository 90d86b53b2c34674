/**
 * Simulated Modbus instruments with realistic register maps. Each answers reads of its
 * holding (03) or input (04) registers; an address it does not implement gets Modbus
 * exception 2 (illegal data address), as real devices answer. Values move a little on every
 * read so a test can tell one reply from the next. The gateway-side maps for the same devices
 * are in gateway/config/examples/modbus-*.json.
 *
 * Sources: radar level register 1 = level in mm, request address = register − 1, 9600 8E1,
 * unit 1 (Geolux LX-80 manual, as summarised in the project's domain notes); the other maps
 * follow common practice of RS-485 field instruments (32-bit values as two registers, floats
 * in IEEE 754, scaled integers) and are illustrative, not a vendor's exact map.
 */

/** What a read returns: register values, or a Modbus exception code. */
export type RegisterRead = { ok: true; registers: number[] } | { ok: false; exception: number };

export interface SimulatedUnit {
  readonly unitId: number;
  readonly name: string;
  read(fn: 3 | 4, address: number, count: number): RegisterRead;
}

const u16 = (v: number) => Math.round(v) & 0xffff;
const i16 = (v: number) => Math.round(v) & 0xffff;
function u32Words(v: number, little = false): number[] {
  const x = Math.round(v) >>> 0;
  const w = [x >>> 16, x & 0xffff];
  return little ? [w[1]!, w[0]!] : w;
}
function f32Words(v: number, little = false): number[] {
  const d = new DataView(new ArrayBuffer(4));
  d.setFloat32(0, v);
  const w = [d.getUint16(0), d.getUint16(2)];
  return little ? [w[1]!, w[0]!] : w;
}

/** Reads a window out of a sparse register table built for the current state. */
function window(table: Map<number, number>, address: number, count: number): RegisterRead {
  const registers: number[] = [];
  for (let a = address; a < address + count; a++) {
    const v = table.get(a);
    if (v === undefined) return { ok: false, exception: 2 };
    registers.push(v);
  }
  return { ok: true, registers };
}

/**
 * Radar water level (Geolux LX-80-like), holding registers:
 * 0 level mm (uint16), 1 distance to water mm (uint16), 2-3 level m (float32, high word first),
 * 4 sensor temperature 0.1 °C (int16). Mounted `mountMm` above the gauge datum.
 */
export class RadarLevelUnit implements SimulatedUnit {
  readonly name = 'radar-level';
  /** Level in mm; rises by `stepMm` on every read (a flood in fast motion). */
  levelMm: number;
  readonly stepMm: number;
  readonly mountMm: number;
  reads = 0;
  constructor(readonly unitId = 1, { startMm = 800, stepMm = 1, mountMm = 6000 }: { startMm?: number; stepMm?: number; mountMm?: number } = {}) {
    this.levelMm = startMm;
    this.stepMm = stepMm;
    this.mountMm = mountMm;
  }
  read(fn: 3 | 4, address: number, count: number): RegisterRead {
    if (fn !== 3) return { ok: false, exception: 1 };
    this.reads++;
    const level = this.levelMm;
    this.levelMm += this.stepMm;
    const t = new Map<number, number>([
      [0, u16(level)],
      [1, u16(this.mountMm - level)],
      [4, i16(276)],
    ]);
    const f = f32Words(level / 1000);
    t.set(2, f[0]!).set(3, f[1]!);
    return window(t, address, count);
  }
}

/**
 * Tipping-bucket rain gauge, input registers: 0 tip counter (uint16, wraps at 65536),
 * 1 battery mV (uint16). `tipsPerRead` tips fall between two reads.
 */
export class RainGaugeUnit implements SimulatedUnit {
  readonly name = 'rain-gauge';
  constructor(
    readonly unitId = 2,
    public tips = 0,
    public tipsPerRead = 1,
    public batteryMv = 12_600,
  ) {}
  read(fn: 3 | 4, address: number, count: number): RegisterRead {
    if (fn !== 4) return { ok: false, exception: 1 };
    const t = new Map([[0, this.tips & 0xffff], [1, u16(this.batteryMv)]]);
    this.tips = (this.tips + this.tipsPerRead) % 65536;
    return window(t, address, count);
  }
}

/**
 * Wire extensometer, holding registers: 0-1 displacement in 0.01 mm (int32, high word first),
 * 2 potentiometer raw counts (uint16). Creeps by `creepHundredthsMm` per read.
 */
export class ExtensometerUnit implements SimulatedUnit {
  readonly name = 'extensometer';
  constructor(
    readonly unitId = 3,
    public displacementHundredthsMm = 1234,
    public creepHundredthsMm = 5,
  ) {}
  read(fn: 3 | 4, address: number, count: number): RegisterRead {
    if (fn !== 3) return { ok: false, exception: 1 };
    const d = this.displacementHundredthsMm;
    this.displacementHundredthsMm += this.creepHundredthsMm;
    const w = u32Words(d);
    return window(new Map([[0, w[0]!], [1, w[1]!], [2, u16(d / 10) & 0xffff]]), address, count);
  }
}

/** Tiltmeter, input registers: 0-1 tilt x deg, 2-3 tilt y deg (float32, LOW word first: CD AB). */
export class TiltmeterUnit implements SimulatedUnit {
  readonly name = 'tiltmeter';
  constructor(
    readonly unitId = 4,
    public xDeg = 0.5,
    public yDeg = -1.25,
  ) {}
  read(fn: 3 | 4, address: number, count: number): RegisterRead {
    if (fn !== 4) return { ok: false, exception: 1 };
    const x = f32Words(this.xDeg, true);
    const y = f32Words(this.yDeg, true);
    this.xDeg += 0.001;
    return window(new Map([[0, x[0]!], [1, x[1]!], [2, y[0]!], [3, y[1]!]]), address, count);
  }
}

/**
 * Logger/device health, holding registers: 0 battery mV, 1 solar mV (uint16), 2 enclosure
 * temperature 0.1 °C (int16), 3 tamper switch (0 closed, 1 open).
 */
export class DeviceHealthUnit implements SimulatedUnit {
  readonly name = 'device-health';
  constructor(
    readonly unitId = 5,
    public batteryMv = 12_400,
    public solarMv = 18_200,
    public tempDeciC = 312,
    public tamper = 0,
  ) {}
  read(fn: 3 | 4, address: number, count: number): RegisterRead {
    if (fn !== 3) return { ok: false, exception: 1 };
    return window(new Map([[0, u16(this.batteryMv)], [1, u16(this.solarMv)], [2, i16(this.tempDeciC)], [3, this.tamper ? 1 : 0]]), address, count);
  }
}
