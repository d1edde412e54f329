/** Human output: aligned tables and durations. Only the human view uses these; `--json` never does. */
import type { FetchedEvent } from '../api/events';
import { RETAIN_FOREVER } from '../api/topics';

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  /** @default 'left' */
  readonly align?: Align;
}

/** Columns separated by two spaces, padded to the widest cell; no trailing spaces. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}

/** `label: value` lines with the values aligned. */
export function formatFields(fields: readonly (readonly [label: string, value: string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length + 1));
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n') + '\n';
}

const UNITS = [
  ['d', 24 * 60 * 60 * 1000],
  ['h', 60 * 60 * 1000],
  ['m', 60 * 1000],
  ['s', 1000],
  ['ms', 1],
] as const;

/**
 * An exact, compact duration: `7d`, `24h`, `1h30m`, `1s500ms`, `0s`. Days are used from 48 hours
 * on (`36h`, then `2d`), since "a day" is usually said as 24h.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (unit === 'd' && rest < 2 * size) continue;
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}

/** Retention as people read it: `-1` is `forever`. */
export function formatRetention(ms: number): string {
  return ms === RETAIN_FOREVER ? 'forever' : formatDuration(ms);
}

/** A dedupe window of 0 turns the check off. */
export function formatDedupeWindow(ms: number): string {
  return ms === 0 ? 'off' : formatDuration(ms);
}

/**
 * One fetched event as `<partition>/<offset> <key> <value>`, unambiguous and on one line:
 * - key: `-` when there is none; as is, unless it is empty, `-`, starts with `"`, or holds a space
 *   or a control character: then as a JSON string;
 * - value: `-` when there is none; bytes as `base64:<data>`; a JSON value other than a string as
 *   compact JSON; a string as is, unless it is empty, `-`, starts with `base64:`, holds a control
 *   character (a line break, a tab) or would itself parse as JSON (`42`, `true`, `"x"`, `{...}`):
 *   then as a JSON string. So a value reads back the same through `sluice produce`'s rule.
 */
export function formatEvent(event: FetchedEvent): string {
  const key = event.key === null ? '-' : quoteIf(event.key, /^"|\s/.test(event.key));
  let value: string;
  if (typeof event.value === 'string') {
    value = quoteIf(event.value, event.value.startsWith('base64:') || parsesAsJson(event.value));
  } else if (event.value !== undefined) {
    value = JSON.stringify(event.value);
  } else if (event.valueBase64 !== undefined) {
    value = `base64:${event.valueBase64}`;
  } else {
    value = '-';
  }
  return `${event.partition}/${event.offset} ${key} ${value}`;
}

function quoteIf(text: string, quote: boolean): string {
  return quote || text === '' || text === '-' || /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : text;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** An event's value as text: a string as is, other JSON compact, bytes as `base64:<data>`, none as ''. */
function valueText(event: FetchedEvent): string {
  if (typeof event.value === 'string') return event.value;
  if (event.value !== undefined) return JSON.stringify(event.value);
  if (event.valueBase64 !== undefined) return `base64:${event.valueBase64}`;
  return '';
}

/**
 * A kcat-style format string applied to an event: `%t` topic, `%p` partition, `%o` offset, `%k`
 * key ('' when none), `%s` value, `%h` headers (`k=v,k2=v2`), `%T` timestamp (epoch ms), `%K`/`%S`
 * key/value length in bytes, `%%` a percent sign; `\n`, `\t`, `\r`, `\\` escapes.
 * @throws Error naming the first unknown `%` sequence
 */
export function compileFormat(format: string): (event: FetchedEvent) => string {
  const parts: (string | ((e: FetchedEvent) => string))[] = [];
  const text = format.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const spec = text[++i];
    if (spec === '%') {
      literal += '%';
      continue;
    }
    const field = FORMAT_FIELDS[spec ?? ''];
    if (!field) throw new Error(`unknown format sequence "%${spec ?? ''}"; use %t %p %o %k %s %h %T %K %S or %%`);
    if (literal) parts.push(literal);
    literal = '';
    parts.push(field);
  }
  if (literal) parts.push(literal);
  return (event) => parts.map((p) => (typeof p === 'string' ? p : p(event))).join('');
}

const FORMAT_FIELDS: Readonly<Record<string, (e: FetchedEvent) => string>> = {
  t: (e) => e.topic,
  p: (e) => String(e.partition),
  o: (e) => String(e.offset),
  k: (e) => e.key ?? '',
  s: valueText,
  h: (e) => Object.entries(e.headers).map(([k, v]) => `${k}=${v}`).join(','),
  T: (e) => String(e.timestamp),
  K: (e) => String(e.key === null ? 0 : Buffer.byteLength(e.key)),
  S: (e) => String(e.valueBase64 !== undefined ? Buffer.from(e.valueBase64, 'base64').length : Buffer.byteLength(valueText(e))),
};
