/**
 * Failed-login back-off: the table on its own, the authenticate hook with a recording password
 * check and an injected clock, and the real broker with mqtt.js (CONNACK 4, then 5).
 */
import type { AuthenticateError, Client } from 'aedes';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccessControl, createBrokerCounters } from '../../src/broker/access.ts';
import { AuthThrottle } from '../../src/broker/auth-throttle.ts';
import { createBroker, type EmbeddedBroker } from '../../src/broker/broker.ts';
import { hashPassword } from '../../src/broker/passwords.ts';
import { GW_A, PASSWORD_A, silentLogger } from '../helpers/fixtures.ts';
import { connect, endAllClients, gatewayClient } from '../helpers/mqtt.ts';

describe('AuthThrottle', () => {
  it('blocks an address after 5 failures until its minute is over, others stay free', () => {
    let now = 1_000;
    const t = new AuthThrottle({ now: () => now });
    for (let i = 0; i < 4; i++) t.recordFailure('10.0.0.1');
    expect(t.isBlocked('10.0.0.1')).toBe(false);
    t.recordFailure('10.0.0.1');
    expect(t.isBlocked('10.0.0.1')).toBe(true);
    expect(t.isBlocked('10.0.0.2')).toBe(false);
    now += 59_999;
    expect(t.isBlocked('10.0.0.1')).toBe(true);
    now += 1;
    expect(t.isBlocked('10.0.0.1')).toBe(false);
    expect(t.size()).toBe(0); // the expired entry is gone
  });

  it('stays within its address bound, dropping expired then oldest entries', () => {
    let now = 0;
    const t = new AuthThrottle({ now: () => now, maxAddresses: 3 });
    t.recordFailure('a');
    now = 70_000;
    t.recordFailure('b');
    t.recordFailure('c');
    t.recordFailure('d'); // full: 'a' has expired and goes
    expect(t.size()).toBe(3);
    for (let i = 0; i < 100; i++) t.recordFailure(`x${i}`);
    expect(t.size()).toBe(3);
  });
});

describe('authenticate hook with back-off', () => {
  const client = (address: string) => ({ id: GW_A, conn: { remoteAddress: address } }) as unknown as Client;

  it('answers CONNACK 5 without a password check after 5 failures, per address, for one minute', async () => {
    let now = 0;
    let checks = 0;
    const counters = createBrokerCounters();
    const hooks = createAccessControl({
      gateways: new Map([[GW_A, 'scrypt$fake']]),
      counters,
      logger: silentLogger,
      now: () => now,
      verify: async (pw) => {
        checks++;
        return pw.toString() === PASSWORD_A;
      },
    });
    const attempt = (address: string, password: string) =>
      new Promise<{ code: number | null; ok: boolean | null }>((resolve) =>
        hooks.authenticate(client(address), GW_A, Buffer.from(password), (err: AuthenticateError | null, ok) =>
          resolve({ code: err ? err.returnCode : null, ok }),
        ),
      );

    for (let i = 0; i < 5; i++) expect((await attempt('10.0.0.9', 'salah')).code).toBe(4);
    expect(checks).toBe(5);
    expect(await attempt('10.0.0.9', PASSWORD_A)).toEqual({ code: 5, ok: false });
    expect(checks).toBe(5); // refused unchecked, even with the right password
    expect(await attempt('10.0.0.10', PASSWORD_A)).toEqual({ code: null, ok: true });
    expect(counters).toMatchObject({ authFailures: 5, authThrottled: 1 });
    now += 60_000;
    expect(await attempt('10.0.0.9', PASSWORD_A)).toEqual({ code: null, ok: true });
  });
});

describe('back-off on the real broker', () => {
  let broker: EmbeddedBroker;
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword(PASSWORD_A);
  });
  afterEach(async () => {
    await endAllClients();
    await broker.close();
  });

  it('refuses the sixth try from 127.0.0.1 with CONNACK 5, counted', async () => {
    broker = await createBroker({
      host: '127.0.0.1',
      port: 0,
      gateways: new Map([[GW_A, hash]]),
      logger: silentLogger,
      onGatewayMessage: () => undefined,
    });
    await broker.listen();
    const codeOf = (p: Promise<unknown>) => p.then(() => 0, (e: { code?: number }) => e.code);
    for (let i = 0; i < 5; i++) {
      expect(await codeOf(connect(broker.url(), { clientId: GW_A, username: GW_A, password: 'salah' }))).toBe(4);
    }
    expect(await codeOf(gatewayClient(broker.url(), GW_A, PASSWORD_A))).toBe(5);
    expect(broker.counters).toMatchObject({ authFailures: 5, authThrottled: 1 });
  });
});
