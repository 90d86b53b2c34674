import { describe, expect, it } from 'vitest';
import { parseGatewayTopic, topics } from '../../src/index.ts';
import { loadVectors, type NamedVector } from '../vectors.ts';

interface BuildVector extends NamedVector {
  topic: 'readings' | 'ack' | 'status' | 'health' | 'alert';
  id: string;
  expect: string;
}
interface ParseVector extends NamedVector {
  topic: string;
  expect: { gatewayId: string; kind: string } | null;
}

describe('topics.json', () => {
  it.each(loadVectors<BuildVector>('topics.json', 'build'))('build $name', ({ topic, id, expect: want }) => {
    expect(topics[topic](id)).toBe(want);
  });

  it.each(loadVectors<ParseVector>('topics.json', 'parse'))('parse $name', ({ topic, expect: want }) => {
    expect(parseGatewayTopic(topic)).toEqual(want);
  });

  it('the server filters match what gateways publish to', () => {
    expect(topics.allReadings.replace('+', 'gw-1')).toBe(topics.readings('gw-1'));
    expect(topics.allStatus.replace('+', 'gw-1')).toBe(topics.status('gw-1'));
    expect(topics.allHealth.replace('+', 'gw-1')).toBe(topics.health('gw-1'));
    expect(topics.gatewayRoot('gw-1')).toBe('kentongan/v1/gw/gw-1');
  });
});
