import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { codecOf, decodeRawRecords, decodeRecords, encodeRecords, PageDecoder, storedCodec, type Codec, type EncodedBatch, type StoredRecord } from '../../../lambda/core/log/record-batch';

const decodePage = (batches: readonly EncodedBatch[], maxJoinedBytes?: number) => {
  const page = new PageDecoder(batches, maxJoinedBytes);
  return batches.map((_, i) => page.records(i));
};

describe('record batch encoding', () => {
  it('compresses repetitive batches and round-trips them', () => {
    const records: StoredRecord[] = Array.from({ length: 50 }, (_, i) => ({
      k: `customer-${i % 5}`,
      v: { orderId: i, status: 'CREATED', currency: 'EUR', amount: 12.5 },
      t: 1_700_000_000_000 + i,
      m: `msg-${i}`,
    }));
    const encoded = encodeRecords(records);
    expect(encoded.codec).toBe('framed+deflate-sync');
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

  it('still reads framed items deflated with a final block (the codec before sync-flushed streams)', () => {
    const records: StoredRecord[] = Array.from({ length: 20 }, (_, i) => ({ k: 'a', v: { n: i, s: 'repeat repeat' }, t: i, m: `m${i}` }));
    const framed = Buffer.from(`${JSON.stringify(records.map(({ v, ...r }) => ({ ...r, vl: JSON.stringify(v).length })))}\n${records.map((r) => JSON.stringify(r.v)).join('')}`);
    const encoded: EncodedBatch = { codec: 'framed+deflate', data: deflateRawSync(framed) };
    expect(decodeRecords(encoded)).toEqual(records);
    expect(decodePage([encoded, encodeRecords(records), encoded]).map((rs) => rs.map((r) => r.vj))).toEqual(
      Array.from({ length: 3 }, () => records.map((r) => JSON.stringify(r.v))),
    );
  });

  it('decodes a page of items in one inflate, each item to exactly its own records', () => {
    // Values with multi-byte characters and newlines inside strings: the split counts UTF-16
    // units of the joined text, so both must land on the right item.
    const batches = Array.from({ length: 30 }, (_, b) =>
      encodeRecords(Array.from({ length: 1 + (b % 4) }, (_, i) => ({ k: `k${b}`, v: { b, i, note: `ünï — 🚀 line\n${'x'.repeat(b * 7)}` }, t: b * 10 + i, m: `m${b}-${i}` }))),
    );
    batches.splice(10, 0, encodeRecords([{ t: 1, m: 'tiny' }]), { codec: 'framed', data: Buffer.from('[{"t":2,"m":"plain","vl":4}]\ntrue') });
    expect(batches.filter((b) => b.codec === 'framed+deflate-sync').length).toBe(30);
    const single = batches.map((b) => decodeRawRecords(b));
    expect(decodePage(batches)).toEqual(single);
    // Asked from the middle of a run, or past the joined limit: the same records.
    const page = new PageDecoder(batches);
    expect([20, 5, 0, 31, 12].map((i) => page.records(i))).toEqual([20, 5, 0, 31, 12].map((i) => single[i]));
    expect(decodePage(batches, 2000)).toEqual(single);
  });

  it('fails a corrupt item on its own, with its own error, when decoded with others', () => {
    const good = Array.from({ length: 3 }, (_, b) => encodeRecords(Array.from({ length: 5 }, (_, i) => ({ v: { b, i, pad: 'abc abc abc abc' }, t: i, m: `m${i}` }))));
    const corrupt: EncodedBatch = { codec: 'framed+deflate-sync', data: Buffer.from([0xff, 0xfe, 0xfd, 0x01]) };
    const page = new PageDecoder([good[0]!, corrupt, good[1]!, good[2]!]);
    expect(page.records(0)).toEqual(decodeRawRecords(good[0]!));
    expect(() => page.records(1)).toThrow(/invalid|incorrect|unexpected/i);
    expect(page.records(2)).toEqual(decodeRawRecords(good[1]!));
    expect(page.records(3)).toEqual(decodeRawRecords(good[2]!));
    // An item that inflates but does not hold the framed text it claims is refused, not misread.
    const truncated: EncodedBatch = { codec: 'framed', data: Buffer.from('[{"t":2,"m":"x","vl":10}]\nshort') };
    expect(() => decodeRawRecords(truncated)).toThrow(/shorter than its values/);
    expect(() => decodeRawRecords({ codec: 'zstd' as EncodedBatch['codec'], data: Buffer.from('x') })).toThrow(/unknown batch codec "zstd"/);
  });

  it('stores the current codec as a one-letter token and earlier ones by name, and reads both back', () => {
    const codecs: Codec[] = ['framed', 'framed+deflate-sync', 'framed+deflate', 'json', 'json+deflate'];
    expect(codecs.map(storedCodec)).toEqual(['framed', 'z', 'framed+deflate', 'json', 'json+deflate']);
    for (const codec of codecs) expect(codecOf(storedCodec(codec))).toBe(codec);
    // A full name still reads (an item written by hand or by a tool), and an unknown one fails where it is decoded.
    expect(codecOf('framed+deflate-sync')).toBe('framed+deflate-sync');
    expect(() => decodeRecords({ codec: codecOf('q'), data: Buffer.from('[]') })).toThrow(/unknown batch codec "q"/);
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

