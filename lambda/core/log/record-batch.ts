/**
 * How events are stored: the events of one partition from one produce request form a record
 * batch, stored as one DynamoDB item (as Kafka stores compressed record batches). Small events
 * then share the per-item write cost, and compressible ones shrink further.
 *
 * Encoding ('framed'): the records as a JSON array in which each JSON value is replaced by the
 * length of its JSON text (`vl`), a newline, then those texts one after another; deflate-compressed
 * when that is smaller. A fetch splices each value's text into its answer as it is, without
 * parsing it and serializing it again. Items written before it ('json': one JSON array with the
 * values inline) are still read.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** One stored event. Short names: they are repeated in every record of every batch. */
export interface StoredRecord {
  /** key */
  readonly k?: string;
  /** JSON value */
  readonly v?: unknown;
  /** bytes value, base64 */
  readonly b?: string;
  /** headers */
  readonly h?: Readonly<Record<string, string>>;
  /** timestamp, epoch ms */
  readonly t: number;
  /** message ID */
  readonly m: string;
  /**
   * The write ID of an append to a head's tail, on its first event: tells the appender's own head
   * write, retried by the SDK after its answer was lost, from another's (dynamodb-log-store.ts).
   * Not part of the event: reads leave it out.
   */
  readonly w?: string;
}

/** A stored event as read for an answer: its JSON value as the JSON text it was stored as. */
export interface RawRecord extends Omit<StoredRecord, 'v'> {
  /** the JSON value's JSON text */
  readonly vj?: string;
}

export type Codec = 'framed' | 'framed+deflate' | 'json' | 'json+deflate';

export interface EncodedBatch {
  readonly codec: Codec;
  readonly data: Uint8Array;
}

export function encodeRecords(records: readonly StoredRecord[]): EncodedBatch {
  const values: string[] = [];
  // `vl` takes the place of `v`, so a decoded record has its keys in the order they were stored.
  const heads = records.map((r) => {
    if (r.v === undefined) return r;
    const head: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(r)) {
      if (name !== 'v') head[name] = field;
      else {
        const text = JSON.stringify(field);
        values.push(text);
        head.vl = text.length;
      }
    }
    return head;
  });
  const framed = Buffer.from(`${JSON.stringify(heads)}\n${values.join('')}`, 'utf8');
  // Tiny batches rarely compress; keep whichever is smaller.
  if (framed.length < 64) return { codec: 'framed', data: framed };
  const deflated = deflateRawSync(framed, { level: 6 });
  return deflated.length < framed.length ? { codec: 'framed+deflate', data: deflated } : { codec: 'framed', data: framed };
}

/** A framed record as parsed: `vl` (the value's text length) is left in place, `vj` added. */
type FramedHead = RawRecord & { vl?: number; vj?: string };

/** The records with their values as JSON text (what a fetch answer is built from). */
export function decodeRawRecords(batch: EncodedBatch): RawRecord[] {
  const text = decodeText(batch);
  if (!isFramed(batch)) return (JSON.parse(text) as StoredRecord[]).map(({ v, ...r }) => (v === undefined ? r : { ...r, vj: JSON.stringify(v) }));
  // JSON.stringify never writes a raw newline, so the first one ends the heads.
  const cut = text.indexOf('\n');
  const heads = JSON.parse(text.slice(0, cut)) as FramedHead[];
  let at = cut + 1;
  for (const head of heads) if (head.vl !== undefined) head.vj = text.slice(at, (at += head.vl));
  return heads;
}

/** The records with their values parsed, keys in their stored order. */
export function decodeRecords(batch: EncodedBatch): StoredRecord[] {
  if (!isFramed(batch)) return JSON.parse(decodeText(batch)) as StoredRecord[];
  return (decodeRawRecords(batch) as FramedHead[]).map((head) => {
    if (head.vj === undefined) return head;
    const record: Record<string, unknown> = {};
    for (const name in head) {
      if (name === 'vl') record.v = JSON.parse(head.vj);
      else if (name !== 'vj') record[name] = head[name as keyof FramedHead];
    }
    return record as unknown as StoredRecord;
  });
}

const isFramed = (batch: EncodedBatch) => batch.codec === 'framed' || batch.codec === 'framed+deflate';

function decodeText(batch: EncodedBatch): string {
  const { data } = batch;
  const bytes = batch.codec.endsWith('+deflate') ? inflateRawSync(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return bytes.toString('utf8');
}
