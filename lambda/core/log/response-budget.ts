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

/** Bytes `event` (or a queue message) adds to the response body and to Lambda's serialized result (with its comma). */
export function eventResponseBytes(event: FetchedEvent | object): { body: number; lambda: number } {
  const json = JSON.stringify(event);
  const body = Buffer.byteLength(json, 'utf8') + 1;
  // Inside the envelope's body string, JSON escapes each `"` and `\` of this JSON once more (it
  // holds no raw control characters, and non-ASCII is kept as is), so counting them is enough.
  let escapes = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) escapes++;
  }
  return { body, lambda: body + escapes };
}

export class ResponseBudget {
  private bodyBytes = 0;
  private lambdaBytes = 0;
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
    const size = eventResponseBytes(event);
    if (this.taken > 0 && (this.bodyBytes + size.body > this.maxBodyBytes || this.lambdaBytes + size.lambda > this.maxLambdaBytes)) {
      this.full = true;
      return false;
    }
    this.bodyBytes += size.body;
    this.lambdaBytes += size.lambda;
    this.taken++;
    return true;
  }
}
