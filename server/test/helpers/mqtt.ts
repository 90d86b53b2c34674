/** Real mqtt.js clients (MQTT 3.1.1: aedes speaks nothing else) and waiting helpers. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

const clients: MqttClient[] = [];

/** Connects and resolves on CONNACK 0; rejects with the CONNACK error otherwise. */
export function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => reject(err));
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

export function gatewayClient(url: string, gatewayId: string, password: string): Promise<MqttClient> {
  return connect(url, { clientId: gatewayId, username: gatewayId, password });
}

/** Ends every client made by `connect`; for afterEach. */
export async function endAllClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
}

/** Collects messages on a topic filter. */
export function collect(client: MqttClient): { messages: { topic: string; payload: Buffer; retain: boolean }[] } {
  const box = { messages: [] as { topic: string; payload: Buffer; retain: boolean }[] };
  client.on('message', (topic, payload, packet) => box.messages.push({ topic, payload, retain: packet.retain }));
  return box;
}

/** Polls until `check` returns a value (not undefined/false) or the timeout passes. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the event loop run for `ms` (to show that something did NOT happen). */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** Retries an async assertion until it passes or the timeout passes (then throws its error). */
export async function eventually<T>(assertion: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
