import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { decodeRawRecords, decodeRecords, encodeRecords, type StoredRecord } from '../../../lambda/core/log/record-batch';

describe('record batch encoding', () => {
  it('compresses repetitive batches and round-trips them', () => {
    const records: StoredRecord[] = Array.from({ length: 50 }, (_, i) => ({
      k: `customer-${i % 5}`,
      v: { orderId: i, status: 'CREATED', currency: 'EUR', amount: 12.5 },
      t: 1_700_000_000_000 + i,
      m: `msg-${i}`,
    }));
    const encoded = encodeRecords(records);
    expect(encoded.codec).toBe('framed+deflate');
    expect(encoded.data.length).toBeLessThan(Buffer.byteLength(JSON.stringify(records)) / 3);
    expect(decodeRecords(encoded)).toEqual(records);
  });

  it('never stores more than the plain JSON, and keeps tiny batches uncompressed', () => {
    const random: StoredRecord[] = [{ b: randomBytes(2000).toString('base64'), t: 1, m: 'r' }];
    const encoded = encodeRecords(random);
    expect(encoded.data.length).toBeLessThanOrEqual(Buffer.byteLength(JSON.stringify(random)));
    expect(decodeRecords(encoded)).toEqual(random);
    expect(encodeRecords([{ t: 1, m: 'x' }]).codec).toBe('framed');
  });

  it('gives each JSON value as its JSON text, unparsed, beside the other fields', () => {
    const records: StoredRecord[] = [
      { k: 'a', v: { text: 'say "hi"\n — 🚀', n: [1, 2.5, null] }, h: { x: 'y' }, t: 1, m: 'm1' },
      { b: Buffer.from('bytes').toString('base64'), t: 2, m: 'm2' },
      { t: 3, m: 'm3' },
      { v: 'a string with a newline\n', t: 4, m: 'm4' },
      { v: null, t: 5, m: 'm5' },
    ];
    for (const encoded of [encodeRecords(records), encodeRecords(Array.from({ length: 40 }, () => records).flat())]) {
      const raw = decodeRawRecords(encoded);
      expect(raw.map((r) => r.vj)).toEqual(records.map((r) => (r.v === undefined ? undefined : JSON.stringify(r.v))).concat(...Array.from({ length: raw.length / records.length - 1 }, () => records.map((r) => (r.v === undefined ? undefined : JSON.stringify(r.v))))));
      expect(raw[1]).toMatchObject({ b: records[1]!.b, t: 2, m: 'm2' });
      expect(JSON.stringify(decodeRecords(encoded).slice(0, records.length))).toBe(JSON.stringify(records));
    }
  });

  it('still reads items stored as one JSON array (the codec before framing)', () => {
    const records: StoredRecord[] = [{ k: 'a', v: { n: 1 }, t: 1, m: 'm1' }, { b: 'AA==', t: 2, m: 'm2' }];
    const json = Buffer.from(JSON.stringify(records));
    for (const encoded of [{ codec: 'json' as const, data: json }, { codec: 'json+deflate' as const, data: deflateRawSync(json) }]) {
      expect(decodeRecords(encoded)).toEqual(records);
      expect(decodeRawRecords(encoded)).toEqual([{ k: 'a', vj: '{"n":1}', t: 1, m: 'm1' }, { b: 'AA==', t: 2, m: 'm2' }]);
    }
  });
});

