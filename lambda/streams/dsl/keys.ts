/**
 * State keys. Every store key that is range-queried is built from parts whose lexicographic order is
 * the order the query needs: timestamps are zero-padded to a fixed width, so string order is numeric
 * order, and a record key is length-prefixed, so one key's entries never share a prefix with another's.
 */
import { StreamRecordError } from './errors';

/** Digits of Number.MAX_SAFE_INTEGER: every valid timestamp fits. */
const TIME_DIGITS = 16;

/** Largest timestamp the windowed operations accept. */
export const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

/** A timestamp as a fixed-width decimal string; values outside [0, MAX_TIMESTAMP] are clamped (range bounds only). */
export function pad(ms: number): string {
  const clamped = Math.min(Math.max(Math.floor(ms), 0), MAX_TIMESTAMP);
  return String(clamped).padStart(TIME_DIGITS, '0');
}

/** `<length>:<key>|`: unambiguous as a prefix (the digits end at the first ':'). */
export function keyPrefix(key: string): string {
  return `${key.length}:${key}|`;
}

/** A bound above every key that continues `prefix` with an ASCII character (our separators are ASCII). */
export function afterAscii(prefix: string): string {
  return `${prefix}\u007f`;
}

/** Windowed operations need event times they can pad and compare: integers in [0, MAX_TIMESTAMP]. */
export function checkTimestamp(timestamp: number, operation: string): void {
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP) {
    throw new StreamRecordError(`${operation}: the record's timestamp ${timestamp} is not an integer epoch-ms time >= 0`);
  }
}

/** Sluice keys are strings: the DSL turns a callback's non-string key into its JSON text (`5` → "5"). */
export function toKey(key: unknown, operation: string): string | null {
  if (key === null) return null;
  if (typeof key === 'string') return key;
  if (key === undefined) throw new StreamRecordError(`${operation}: the key is undefined (return null for no key)`);
  const text = JSON.stringify(key);
  if (text === undefined) throw new StreamRecordError(`${operation}: the key ${String(key)} is not JSON`);
  return text;
}

/**
 * Orders strings by code point, as DynamoDB orders string keys (by UTF-8 bytes); JavaScript's `<`
 * compares UTF-16 units, which differs above U+D7FF.
 */
export function compareKeys(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}
