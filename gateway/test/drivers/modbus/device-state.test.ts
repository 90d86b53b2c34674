import { describe, expect, it } from 'vitest';
import { DeviceState } from '../../../src/drivers/modbus/device-state.ts';

const policy = { deadAfterFailures: 3, deadBackoff: { minMs: 1000, maxMs: 3000 } };

describe('DeviceState (dead device back-off, injected clock)', () => {
  it('goes dead after N failures in a row, then may poll only at min, 2×min, … capped at max', () => {
    const s = new DeviceState('wl-01', 1, policy);
    expect(s.failed('timeout', 0)).toBe(false);
    expect(s.failed('crc', 10)).toBe(false);
    expect(s.failed('timeout', 20)).toBe(true);
    expect(s.stats).toMatchObject({ state: 'dead', timeouts: 2, crcErrors: 1, requests: 3 });
    expect(s.mayPoll(500)).toBe(false);
    expect(s.mayPoll(1019)).toBe(false);
    expect(s.mayPoll(1020)).toBe(true);
    s.failed('timeout', 1020); // probe failed: next after 2 × min
    expect(s.mayPoll(3019)).toBe(false);
    expect(s.mayPoll(3020)).toBe(true);
    s.failed('timeout', 3020); // 4 × min capped at 3000
    expect(s.mayPoll(6019)).toBe(false);
    expect(s.mayPoll(6020)).toBe(true);
    expect(s.stats.skippedPolls).toBe(4);
  });

  it('an answer makes it alive again and resets the count; exceptions and a closed port never kill it', () => {
    const s = new DeviceState('wl-01', 1, policy);
    s.failed('timeout', 0);
    s.failed('timeout', 0);
    s.failed('timeout', 0);
    expect(s.succeeded(new Date(5000))).toBe(true);
    expect(s.stats.state).toBe('alive');
    expect(s.stats.lastOk).toBe('1970-01-01T00:00:05.000Z');
    for (let i = 0; i < 10; i++) expect(s.failed('exception', i)).toBe(false);
    for (let i = 0; i < 10; i++) expect(s.failed('closed', i)).toBe(false);
    expect(s.stats).toMatchObject({ state: 'alive', exceptions: 10 });
    s.failed('timeout', 0);
    s.failed('timeout', 0);
    expect(s.dead).toBe(false); // neither the exceptions nor the closed port counted towards the 3 in a row
    s.failed('exception', 0); // an answer: the row starts again
    s.failed('timeout', 0);
    s.failed('timeout', 0);
    expect(s.dead).toBe(false);
    s.failed('timeout', 0);
    expect(s.dead).toBe(true);
  });
});
