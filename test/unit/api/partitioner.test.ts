import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../api/partitioner';

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * Kafka's `Utils.murmur2`, written again from its definition with BigInt arithmetic (no Math.imul,
 * no 32-bit tricks), so the implementation under test is checked against something independent:
 * seed 0x9747b28c ^ length, 4-byte little-endian blocks, the tail (fall-through 3, 2, 1), final mix.
 */
function referenceMurmur2(bytes: Uint8Array): number {
  const m = 0x5bd1e995n;
  const mul = (a: bigint, b: bigint) => (a * b) & 0xffffffffn;
  let h = (0x9747b28cn ^ BigInt(bytes.length)) & 0xffffffffn;
  const blocks = Math.floor(bytes.length / 4);
  for (let i = 0; i < blocks; i++) {
    let k = 0n;
    for (let j = 3; j >= 0; j--) k = (k << 8n) | BigInt(bytes[i * 4 + j]!);
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m);
    h ^= k;
  }
  const tail = blocks * 4;
  const rest = bytes.length % 4;
  if (rest >= 3) h ^= BigInt(bytes[tail + 2]!) << 16n;
  if (rest >= 2) h ^= BigInt(bytes[tail + 1]!) << 8n;
  if (rest >= 1) {
    h ^= BigInt(bytes[tail]!);
    h = mul(h, m);
  }
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h)); // a Java int
}

/** The Java client's default partitioner for a key: `Utils.toPositive(Utils.murmur2(bytes)) % numPartitions`. */
const javaPartition = (key: string, partitions: number) => (referenceMurmur2(utf8(key)) & 0x7fffffff) % partitions;

/** Published by Kafka itself (UtilsTest.testMurmur2) and by Kafka's Java implementation. */
const KAFKA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
  ['1', -1993445489],
  ['12', 126087238],
  ['123', -267702483],
  ['1234', -1614185708],
  ['12345', -1188365604],
];

/** Every tail length (0-3 bytes past a block), multi-byte UTF-8 (2, 3 and 4 bytes a character). */
const KEYS = ['', 'a', 'ab', 'abc', 'abcd', 'order-42', 'ü', 'é', 'Zürich', 'naïve café', '東京', 'キー', '🙂', 'key-🙂-東京'];

describe('murmur2 (Kafka Utils.murmur2)', () => {
  it.each(KAFKA_VECTORS)('hashes %j to %i, as Kafka does', (key, expected) => {
    expect(referenceMurmur2(utf8(key))).toBe(expected); // the reference is right ...
    expect(murmur2(utf8(key))).toBe(expected); // ... and so is Sluice
  });

  it('hashes the empty key like Java (seed ^ 0, no blocks, no tail, mixed)', () => {
    expect(referenceMurmur2(new Uint8Array())).toBe(275646681);
    expect(murmur2(new Uint8Array())).toBe(275646681);
  });

  it.each(KEYS)('hashes the UTF-8 bytes of %j like the reference', (key) => {
    expect(murmur2(utf8(key))).toBe(referenceMurmur2(utf8(key)));
  });

  it('hashes bytes above 0x7f as unsigned, like Java\'s `& 0xff`', () => {
    const bytes = Uint8Array.from([0xff, 0x80, 0xc3, 0xbc, 0xfe, 0x00, 0x7f]);
    for (let length = 0; length <= bytes.length; length++) {
      expect(murmur2(bytes.subarray(0, length))).toBe(referenceMurmur2(bytes.subarray(0, length)));
    }
  });
});

describe('partitionForKey', () => {
  it('places the empty key where the Java client does', () => {
    // toPositive(275646681) = 275646681
    expect([1, 3, 7, 12, 100].map((n) => partitionForKey('', n))).toEqual([0, 275646681 % 3, 275646681 % 7, 9, 81]);
  });

  it.each(KEYS)('places %j where the Java client does, for 1 to 64 partitions', (key) => {
    for (let partitions = 1; partitions <= 64; partitions++) {
      expect(partitionForKey(key, partitions)).toBe(javaPartition(key, partitions));
    }
  });

  it('places non-ASCII keys on known partitions of a 12-partition topic', () => {
    expect(['ü', 'é', 'Zürich', '東京', 'キー', '🙂'].map((k) => partitionForKey(k, 12))).toEqual([2, 3, 1, 7, 0, 3]);
  });

  it('takes the positive hash (& 0x7fffffff, not Math.abs) modulo the partition count', () => {
    // toPositive(-1993445489) = 154038159; Math.abs would give 1993445489 (% 10 = 9 either way, % 7 differs)
    expect(partitionForKey('1', 3)).toBe(154038159 % 3);
    expect(partitionForKey('1', 10)).toBe(9);
    expect(partitionForKey('1', 7)).toBe(154038159 % 7);
    expect(154038159 % 7).not.toBe(1993445489 % 7);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    expect(partitionForKey('ü', 1000)).toBe((referenceMurmur2(Uint8Array.from([0xc3, 0xbc])) & 0x7fffffff) % 1000);
    expect(partitionForKey('ü', 1000)).not.toBe((referenceMurmur2(Uint8Array.from([0xfc])) & 0x7fffffff) % 1000);
  });

  it('always lands inside the topic', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`key-${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
    }
  });
});
