/** Human output: aligned tables and durations. Only the human view uses these; `--json` never does. */
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
