/**
 * Window specifications, immutable (each method returns a new value), validated when made so a bad
 * window fails while the topology is built. All times are milliseconds of event time.
 */
import { TopologyError } from './errors';

function checkDuration(name: string, ms: number, allowZero: boolean): void {
  const ok = Number.isSafeInteger(ms) && (allowZero ? ms >= 0 : ms > 0);
  if (!ok) throw new TopologyError(`${name} must be an integer number of milliseconds ${allowZero ? '>= 0' : '> 0'}, got ${ms}`);
}

/** A time window of event time, [start, end): end is exclusive. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Fixed-size windows aligned to the epoch: tumbling (`ofSize(ms)`, each record in one window) or
 * hopping (`.advanceBy(ms)` smaller than the size, each record in size/advance windows). A window
 * accepts records until stream time reaches its end plus the grace period.
 */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  /** Tumbling windows of `sizeMs`, no grace period. */
  static ofSize(sizeMs: number): TimeWindows {
    checkDuration('TimeWindows size', sizeMs, false);
    return new TimeWindows(sizeMs, sizeMs, 0);
  }

  /** Hopping windows: a new window starts every `advanceMs` (0 < advance <= size). */
  advanceBy(advanceMs: number): TimeWindows {
    checkDuration('TimeWindows advance', advanceMs, false);
    if (advanceMs > this.sizeMs) {
      throw new TopologyError(`TimeWindows advance (${advanceMs} ms) must not exceed the size (${this.sizeMs} ms)`);
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** How long after a window's end it still accepts out-of-order records. */
  grace(graceMs: number): TimeWindows {
    checkDuration('TimeWindows grace', graceMs, true);
    return new TimeWindows(this.sizeMs, this.advanceMs, graceMs);
  }

  /** The windows holding `timestamp`, earliest first (windows start at 0 or later). */
  windowsFor(timestamp: number): TimeWindow[] {
    // The earliest start s with s + size > timestamp, rounded up to a multiple of the advance.
    const earliest = Math.max(0, timestamp - this.sizeMs + 1);
    let start = Math.ceil(earliest / this.advanceMs) * this.advanceMs;
    const windows: TimeWindow[] = [];
    for (; start <= timestamp; start += this.advanceMs) windows.push({ start, end: start + this.sizeMs });
    return windows;
  }

  toString(): string {
    const kind = this.advanceMs === this.sizeMs ? 'tumbling' : `hopping by ${this.advanceMs} ms`;
    return `TimeWindows(${this.sizeMs} ms, ${kind}, grace ${this.graceMs} ms)`;
  }
}

/**
 * Session windows: a key's records closer than the inactivity gap belong to one session; a record
 * that bridges two sessions merges them. A session [first, last] accepts records until stream time
 * passes last + gap + grace.
 */
export class SessionWindows {
  private constructor(
    readonly inactivityGapMs: number,
    readonly graceMs: number,
  ) {}

  static withInactivityGap(gapMs: number): SessionWindows {
    checkDuration('SessionWindows inactivity gap', gapMs, false);
    return new SessionWindows(gapMs, 0);
  }

  grace(graceMs: number): SessionWindows {
    checkDuration('SessionWindows grace', graceMs, true);
    return new SessionWindows(this.inactivityGapMs, graceMs);
  }

  toString(): string {
    return `SessionWindows(gap ${this.inactivityGapMs} ms, grace ${this.graceMs} ms)`;
  }
}

/**
 * The window of a stream-stream join: records of the two sides join when their timestamps differ by
 * at most `timeDifferenceMs`. A record's join window [ts - difference, ts + difference] stays open
 * until stream time passes its end plus the grace period.
 */
export class JoinWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  /** Records join when |left.timestamp - right.timestamp| <= timeDifferenceMs; no grace period. */
  static ofTimeDifference(timeDifferenceMs: number): JoinWindows {
    checkDuration('JoinWindows time difference', timeDifferenceMs, true);
    return new JoinWindows(timeDifferenceMs, 0);
  }

  grace(graceMs: number): JoinWindows {
    checkDuration('JoinWindows grace', graceMs, true);
    return new JoinWindows(this.timeDifferenceMs, graceMs);
  }

  toString(): string {
    return `JoinWindows(±${this.timeDifferenceMs} ms, grace ${this.graceMs} ms)`;
  }
}
