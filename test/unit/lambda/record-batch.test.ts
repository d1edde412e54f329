import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecords, type StoredRecord } from '../../../lambda/core/log/record-batch';

describe('record batch encoding', () => {
  it('compresses repetitive batches and round-trips them', () => {
    const records: StoredRecord[] = Array.from({ length: 50 }, (_, i) => ({
      k: `customer-${i % 5}`,
      v: { orderId: i, status: 'CREATED', currency: 'EUR', amount: 12.5 },
      t: 1_700_000_000_000 + i,
      m: `msg-${i}`,
    }));
    const encoded = encodeRecords(records);
    expect(encoded.codec).toBe('json+deflate');
    expect(encoded.data.length).toBeLessThan(Buffer.byteLength(JSON.stringify(records)) / 3);
    expect(decodeRecords(encoded)).toEqual(records);
  });

  it('never stores more than the plain JSON, and keeps tiny batches uncompressed', () => {
    const random: StoredRecord[] = [{ b: randomBytes(2000).toString('base64'), t: 1, m: 'r' }];
    const encoded = encodeRecords(random);
    expect(encoded.data.length).toBeLessThanOrEqual(Buffer.byteLength(JSON.stringify(random)));
    expect(decodeRecords(encoded)).toEqual(random);
    expect(encodeRecords([{ t: 1, m: 'x' }]).codec).toBe('json');
  });
});
