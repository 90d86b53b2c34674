/**
 * Chaos with real processes, the serial side: the water-level sensor's serial device vanishes
 * (its socat pseudo-terminal is killed, as when a USB-RS485 adapter is pulled) and comes back at
 * the same path later. The gateway CLI must notice, keep the other port (rain gauge) running,
 * retry with back-off and reopen the device by itself; every reading produced is stored once.
 *
 * Frames cannot travel while the cable is out, so the unplugged sensor reports nothing then
 * (a real sensor's frames would be lost on the wire; they would show as a sequence gap).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosRig, sleep } from './chaos-helpers.ts';

describe('chaos: serial device unplugged and replugged', () => {
  let rig: ChaosRig;
  let storedWhileUnplugged = 0;
  let producedBeforeUnplug = 0;

  beforeAll(async () => {
    rig = await ChaosRig.create();
    await rig.startServer();
    await rig.startGateway();
    await rig.attachSensors();
    await rig.tick(30);
    await rig.storedAtLeast(rig.produced());
    producedBeforeUnplug = rig.produced();

    await rig.unplug(0);
    await waitLog(rig, 'serial port lost', 1);
    // Only the rain gauge (another port) reports while the water-level device is gone.
    await rig.tick(40, 5, [1]);
    await rig.storedAtLeast(rig.produced());
    storedWhileUnplugged = rig.countRows() - producedBeforeUnplug;
    await sleep(400); // a few failed reopen attempts

    await rig.replug(0);
    await waitLog(rig, 'serial port open', 3); // one per port at start, then the water level's again
    await rig.tick(30);
    await rig.storedAtLeast(rig.produced());
    await sleep(300);
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('noticed the port vanish, kept the other port, and reopened it', () => {
    const wlPort = rig.gatewayLog.filter((l) => String(l.port ?? l.path ?? '').includes('ckr-wl-01'));
    expect(wlPort.some((l) => l.msg === 'serial port lost')).toBe(true);
    expect(wlPort.filter((l) => l.msg === 'serial port open').length).toBe(2);
    expect(storedWhileUnplugged).toBe(40); // the rain gauge's 40 readings went on
  });

  it('stores every reading produced exactly once', () => {
    const c = rig.count();
    expect(c.rows).toBe(rig.produced());
    expect(c.distinct).toBe(c.rows);
    for (const s of rig.sensors) expect(c.keys.get(s.spec.id)?.length).toBe(s.counters.channelValues);
  });
});

async function waitLog(rig: ChaosRig, msg: string, atLeast: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (rig.gatewayLog.filter((l) => l.msg === msg).length < atLeast) {
    if (Date.now() > end) throw new Error(`no "${msg}" ×${atLeast} in the gateway log`);
    await sleep(25);
  }
}
