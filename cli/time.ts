/** Times and durations on the command line: epoch ms, ISO 8601 date-times, `-15m` or `PT10M`. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration in ms, or undefined when `text` is not one: compact (`15m`, `1h30m`, `500ms`, `2d`)
 * or ISO 8601 (`PT10M`, `P1DT2H`, `PT0.5S`; weeks `P2W`; no years or months, whose length varies).
 * A leading `-` or `+` is allowed and ignored: callers decide the direction.
 */
export function parseDuration(text: string): number | undefined {
  const body = text.trim().replace(/^[-+]/, '');
  const compact = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/i;
  if (compact.test(body)) {
    let ms = 0;
    for (const [, n, unit] of body.toLowerCase().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNIT_MS[unit!]!;
    return Math.round(ms);
  }
  const iso = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(body);
  if (iso && body.length > 1 && !/T$/i.test(body)) {
    const [, w, d, h, m, s] = iso.map((v) => (v === undefined ? 0 : Number(v)));
    return Math.round(w! * UNIT_MS.w! + d! * UNIT_MS.d! + h! * UNIT_MS.h! + m! * UNIT_MS.m! + s! * 1000);
  }
  return undefined;
}

/**
 * A point in time as epoch ms, or undefined when `text` is none: epoch ms (`1767225600000`), an
 * ISO 8601 date-time (`2026-11-30T12:00:00Z`, a date alone is midnight UTC), or a duration ago
 * (`-15m`, `PT10M`: that long before `now`).
 */
export function parseTime(text: string, now: number = Date.now()): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const duration = parseDuration(trimmed);
  if (duration !== undefined && !trimmed.startsWith('+')) return Math.max(0, now - duration);
  if (/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/i.test(trimmed)) {
    // A date-time without a zone would be read in local time: Sluice's times are UTC, so say so.
    const zoned = /T|\s/.test(trimmed) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) ? `${trimmed}Z` : trimmed;
    const ms = Date.parse(zoned);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

export const TIME_FORMS = 'epoch ms, an ISO 8601 date-time, or a duration ago such as -15m or PT10M';
