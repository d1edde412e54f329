import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../api/partitioner';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur2 (Kafka Utils.murmur2)', () => {
  // Values produced by Kafka's Java implementation.
  it.each([
    ['1', -1993445489],
    ['12', 126087238],
    ['123', -267702483],
    ['1234', -1614185708],
    ['12345', -1188365604],
  ])('hashes %j to %i', (key, expected) => {
    expect(murmur2(utf8(key))).toBe(expected);
  });

  it('hashes the empty key like Java (seed ^ 0, mixed)', () => {
    expect(Number.isInteger(murmur2(new Uint8Array()))).toBe(true);
  });
});

describe('partitionForKey', () => {
  it('takes the positive hash modulo the partition count', () => {
    // toPositive(-1993445489) = 154038159; % 3 = 0, % 10 = 9
    expect(partitionForKey('1', 3)).toBe(154038159 % 3);
    expect(partitionForKey('1', 10)).toBe(9);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    expect(partitionForKey('ü', 1000)).toBe((murmur2(Uint8Array.from([0xc3, 0xbc])) & 0x7fffffff) % 1000);
  });

  it('always lands inside the topic', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`key-${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
    }
  });
});
