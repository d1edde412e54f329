/**
 * How many events fit one answer. Two sizes count, both from FETCH_LIMITS:
 * - the response body, the JSON of the events (`maxResponseBytes`);
 * - what Lambda measures against its 6 MB limit: the serialized invocation result, in which the
 *   body is a JSON string, so every `"` and `\` of the body is escaped once more
 *   (`maxLambdaResponseBytes`). Quote-heavy values nearly double there.
 * JSON escaping works character by character, so the escaped body is the sum of its escaped parts
 * and each event's share can be counted on its own. One budget can span several partitions (a
 * group's records call); the first event of the answer is always taken.
 */
import { FETCH_LIMITS, type FetchedEvent } from '../../../api/events';

/**
 * The JSON of every event a budget took, so the answer is built from it (toJson) instead of
 * serializing each event a second time. Keyed by the object: events are immutable once read.
 */
const serialized = new WeakMap<object, string>();

/** Records `json` as the JSON of `value` (which it must equal), for the count and the answer to reuse. */
export function withJson<T extends object>(value: T, json: string): T {
  serialized.set(value, json);
  return value;
}

/** The JSON of `value`, made once. */
function jsonOf(value: object): string {
  let json = serialized.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    serialized.set(value, json);
  }
  return json;
}

/**
 * How many more bytes `json` (the JSON of one event) takes inside the envelope's body string: JSON
 * escapes each `"` and `\` of it once more (it holds no raw control characters or lone surrogates,
 * and non-ASCII is kept as is). indexOf is the fastest way to count them here.
 */
export function escapesIn(json: string): number {
  let n = 0;
  for (let i = json.indexOf('"'); i >= 0; i = json.indexOf('"', i + 1)) n++;
  for (let i = json.indexOf('\\'); i >= 0; i = json.indexOf('\\', i + 1)) n++;
  return n;
}

/**
 * JSON.stringify(value) for plain objects and arrays, with the JSON a budget already made of each
 * event it took spliced in as is: a page of 1,000 events is then serialized once, not twice.
 */
export function toJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const known = serialized.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : toJson(v))).join(',')}]`;
  if (Object.getPrototypeOf(value) !== Object.prototype || 'toJSON' in value) return JSON.stringify(value);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    parts.push(`${JSON.stringify(k)}:${toJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

export class ResponseBudget {
  private bodyBytes = 0;
  /** Lambda's count beyond the body: the escapes of the events counted so far. */
  private escapeBytes = 0;
  /** Taken events whose escapes are not counted yet (see take). */
  private uncounted: string[] = [];
  private taken = 0;
  /** Set once an event was refused: the answer is full. */
  full = false;

  constructor(
    private readonly maxBodyBytes: number = FETCH_LIMITS.maxResponseBytes,
    private readonly maxLambdaBytes: number = FETCH_LIMITS.maxLambdaResponseBytes,
  ) {}

  /** Counts the event (or queue message) in if it fits (the first always does); false means stop before it. */
  take(event: FetchedEvent | object): boolean {
    if (this.full) return false;
    const json = jsonOf(event);
    const body = Buffer.byteLength(json, 'utf8') + 1;
    if (this.taken > 0 && this.bodyBytes + body > this.maxBodyBytes) return this.refuse();
    // Escapes at most double a byte, so they need counting only once twice the body could pass
    // Lambda's limit: a page of 1 KB events (1 MB) never counts them.
    if (2 * (this.bodyBytes + body) <= this.maxLambdaBytes) this.uncounted.push(json);
    else {
      for (const earlier of this.uncounted.splice(0)) this.escapeBytes += escapesIn(earlier);
      const escaped = escapesIn(json);
      if (this.taken > 0 && this.bodyBytes + this.escapeBytes + body + escaped > this.maxLambdaBytes) return this.refuse();
      this.escapeBytes += escaped;
    }
    this.bodyBytes += body;
    this.taken++;
    return true;
  }

  private refuse(): false {
    this.full = true;
    return false;
  }
}
