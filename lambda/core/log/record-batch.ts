/**
 * How events are stored: the events of one partition from one produce request form a record
 * batch, stored as one DynamoDB item (as Kafka stores compressed record batches). Small events
 * then share the per-item write cost, and compressible ones shrink further.
 *
 * Encoding: a JSON array of records, deflate-compressed when that is smaller.
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
}

export type Codec = 'json' | 'json+deflate';

export interface EncodedBatch {
  readonly codec: Codec;
  readonly data: Uint8Array;
}

export function encodeRecords(records: readonly StoredRecord[]): EncodedBatch {
  const json = Buffer.from(JSON.stringify(records), 'utf8');
  // Tiny batches rarely compress; keep whichever is smaller.
  if (json.length < 64) return { codec: 'json', data: json };
  const deflated = deflateRawSync(json, { level: 6 });
  return deflated.length < json.length ? { codec: 'json+deflate', data: deflated } : { codec: 'json', data: json };
}

export function decodeRecords(batch: EncodedBatch): StoredRecord[] {
  const json = batch.codec === 'json+deflate' ? inflateRawSync(batch.data) : Buffer.from(batch.data);
  return JSON.parse(json.toString('utf8')) as StoredRecord[];
}
