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
 *
 * Compression ('+deflate-sync'): raw deflate ended by a sync flush instead of a final block, with
 * the flush's fixed last four bytes (00 00 ff ff) left off, as WebSocket's permessage-deflate
 * does (RFC 7692). Such streams, each put back its four bytes, join into one deflate stream: a
 * fetch inflates the items of a page in one pass (PageDecoder), which spares zlib's set-up per
 * item (a fetch of three-event items got 5% faster). Items written with a final block
 * ('+deflate') are still read, one at a time.
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';

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

export type Codec = 'framed' | 'framed+deflate-sync' | 'framed+deflate' | 'json' | 'json+deflate';

/**
 * How a codec is written in an item (a batch's `codec`, a head's `tk`). The current codec has a
 * one-letter token: a head keeps its tail within one write unit, and its full name's 18 more bytes
 * (in the head and in every batch item) decided whether a third 1 KB event fit. Earlier codecs are
 * written and read by their names.
 */
const CODEC_TOKENS: Partial<Record<Codec, string>> = { 'framed+deflate-sync': 'z' };
const CODECS_BY_TOKEN = new Map(Object.entries(CODEC_TOKENS).map(([codec, token]) => [token, codec as Codec]));

/** The codec as an item stores it. */
export const storedCodec = (codec: Codec): string => CODEC_TOKENS[codec] ?? codec;

/** The codec an item's stored value names (decoding refuses one it does not know). */
export const codecOf = (stored: unknown): Codec => CODECS_BY_TOKEN.get(String(stored)) ?? (String(stored) as Codec);

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
  const flushed = deflateRawSync(framed, { level: 6, finishFlush: constants.Z_SYNC_FLUSH });
  if (!flushed.subarray(-SYNC_MARKER.length).equals(SYNC_MARKER)) throw new Error('deflate did not end with a sync flush');
  const deflated = flushed.subarray(0, -SYNC_MARKER.length);
  return deflated.length < framed.length ? { codec: 'framed+deflate-sync', data: deflated } : { codec: 'framed', data: framed };
}

/** The last four bytes of a sync flush (an empty stored block's lengths), left off when stored. */
const SYNC_MARKER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A framed record as parsed: `vl` (the value's text length) is left in place, `vj` added. */
type FramedHead = RawRecord & { vl?: number; vj?: string };

/** The records with their values as JSON text (what a fetch answer is built from). */
export function decodeRawRecords(batch: EncodedBatch): RawRecord[] {
  const text = decodeText(batch);
  if (!isFramed(batch)) return (JSON.parse(text) as StoredRecord[]).map(({ v, ...r }) => (v === undefined ? r : { ...r, vj: JSON.stringify(v) }));
  const framed = readFramed(text, 0);
  if (framed.end !== text.length) throw new Error(`a framed batch has ${text.length - framed.end} characters after its last value`);
  return framed.heads;
}

/**
 * Inflated text a page decodes in one pass at most. Past it (events that compress extremely well),
 * the page's items are decoded one at a time, as the answer takes them: an answer stops at a few MB.
 */
const MAX_JOINED_TEXT_BYTES = 8 * 1024 * 1024;

/**
 * The records of a query page's batches (decodeRawRecords of each), decoded when first asked for.
 * The first asked of a run of consecutive '+deflate-sync' batches inflates the rest of the run in
 * one pass. If that pass fails, passes `maxJoinedBytes`, or its text does not split into exactly
 * those batches, the run is decoded one batch at a time: a corrupt item fails alone, with its own
 * error.
 */
export class PageDecoder {
  private readonly decoded: (RawRecord[] | undefined)[];
  /** Batches below this index are decoded one at a time (their run's joined pass failed). */
  private singlyUntil = 0;

  constructor(
    private readonly batches: readonly EncodedBatch[],
    private readonly maxJoinedBytes = MAX_JOINED_TEXT_BYTES,
  ) {
    this.decoded = batches.map(() => undefined);
  }

  records(index: number): RawRecord[] {
    const known = this.decoded[index];
    if (known) return known;
    const batch = this.batches[index]!;
    if (index >= this.singlyUntil && batch.codec === 'framed+deflate-sync') {
      let end = index + 1;
      while (end < this.batches.length && this.batches[end]!.codec === 'framed+deflate-sync' && !this.decoded[end]) end++;
      if (end - index > 1) {
        const joined = joinedDecode(this.batches.slice(index, end), this.maxJoinedBytes);
        if (joined) {
          for (const [i, records] of joined.entries()) this.decoded[index + i] = records;
          return joined[0]!;
        }
        this.singlyUntil = end;
      }
    }
    return (this.decoded[index] = decodeRawRecords(batch));
  }
}

function joinedDecode(run: readonly EncodedBatch[], maxBytes: number): RawRecord[][] | undefined {
  let text: string;
  try {
    const joined = Buffer.concat(run.flatMap((b) => [b.data, SYNC_MARKER]));
    text = inflateRawSync(joined, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: maxBytes }).toString('utf8');
  } catch {
    return undefined;
  }
  const out: RawRecord[][] = [];
  let at = 0;
  try {
    for (let n = 0; n < run.length; n++) {
      const framed = readFramed(text, at);
      out.push(framed.heads);
      at = framed.end;
    }
  } catch {
    return undefined;
  }
  return at === text.length ? out : undefined;
}

/** One framed batch's records from `text` at `start`, and where its text ends. */
function readFramed(text: string, start: number): { heads: RawRecord[]; end: number } {
  // JSON.stringify never writes a raw newline, so the first one ends the heads.
  const cut = text.indexOf('\n', start);
  if (cut < 0) throw new Error('a framed batch has no end to its record heads');
  const heads = JSON.parse(text.slice(start, cut)) as FramedHead[];
  let at = cut + 1;
  for (const head of heads) if (head.vl !== undefined) head.vj = text.slice(at, (at += head.vl));
  if (at > text.length) throw new Error('a framed batch is shorter than its values');
  return { heads, end: at };
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

const isFramed = (batch: EncodedBatch) => batch.codec.startsWith('framed');

function decodeText(batch: EncodedBatch): string {
  const { data } = batch;
  switch (batch.codec) {
    case 'framed':
    case 'json':
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    case 'framed+deflate-sync':
      return inflateRawSync(Buffer.concat([data, SYNC_MARKER]), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
    case 'framed+deflate':
    case 'json+deflate':
      return inflateRawSync(data).toString('utf8');
    default:
      throw new Error(`unknown batch codec ${JSON.stringify(batch.codec)}`);
  }
}
