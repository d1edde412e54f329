/**
 * Reading partitions without a group (`fetch`, `consume` without --group): where to start each
 * one, and a loop per partition that prints what it reads until the end (or, following, until
 * Ctrl-C).
 */
import { FETCH_LIMITS, type FetchedEvent } from '../api/events';
import type { FetchOptions } from '../client/sluice-client';
import { UsageError, type Command, type CommandContext, type OptionSpec, type SluiceApi } from './command';
import { compileFormat, formatEvent } from './format';
import { parseTime, TIME_FORMS } from './time';

/** The flags that say where to start and how to print, shared by `fetch` and `consume`. */
export const START_OPTIONS = {
  from: {
    type: 'string',
    valueName: 'WHERE',
    description: '"earliest", "latest", an offset, or -N: the last N events of each partition',
  },
  'from-time': {
    type: 'string',
    valueName: 'TIME',
    description: `Start at the first event at or after TIME: ${TIME_FORMS}`,
  },
} as const satisfies Record<string, OptionSpec>;

export const PRINT_OPTIONS = {
  format: {
    type: 'string',
    short: 'f',
    valueName: 'FMT',
    description:
      'Print each event as FMT (kcat style): %t topic, %p partition, %o offset, %k key, %s value, ' +
      '%h headers (k=v,...), %T timestamp (epoch ms), %K/%S key/value bytes, %%; \\n \\t escapes',
  },
  pretty: { type: 'boolean', description: 'Print each event as indented JSON (--json: one compact line each)' },
} as const satisfies Record<string, OptionSpec>;

/** Where one partition starts: an offset (or earliest/latest), a time, or N before its end. */
export type Start = { readonly offset: FetchOptions['offset'] } | { readonly timestamp: number } | { readonly last: number };

/** The start the flags ask for, or `fallback` when they name none. */
export function parseStart(command: Command, options: CommandContext['options'], fallback: Start, now = Date.now()): Start {
  const from = options.from;
  const time = options['from-time'];
  if (from !== undefined && time !== undefined) throw new UsageError('give --from or --from-time, not both', command.path);
  if (typeof time === 'string') {
    const timestamp = parseTime(time, now);
    if (timestamp === undefined) throw new UsageError(`--from-time must be ${TIME_FORMS}, got "${time}"`, command.path);
    return { timestamp };
  }
  if (typeof from !== 'string') return fallback;
  const text = from.trim().toLowerCase();
  if (text === 'earliest' || text === 'latest') return { offset: text };
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return { offset: Number(text) };
  if (/^-\d+$/.test(text) && Number(text) < 0 && Number.isSafeInteger(Number(text))) return { last: -Number(text) };
  throw new UsageError(
    `--from must be "earliest", "latest", an offset (an integer of at least 0) or -N (the last N events), got "${from}"`,
    command.path,
  );
}

/** How events are printed: -f FMT, --pretty, --json or the command's own line. */
export function eventPrinter(command: Command, options: CommandContext['options'], json: boolean, line: (event: FetchedEvent) => string) {
  const format = options.format;
  if (typeof format === 'string') {
    if (json || options.pretty === true) throw new UsageError('give one of --format, --pretty and --json', command.path);
    try {
      return compileFormat(format);
    } catch (err) {
      throw new UsageError(`--format: ${(err as Error).message}`, command.path);
    }
  }
  if (options.pretty === true) return (event: FetchedEvent) => `${JSON.stringify(event, null, json ? undefined : 2)}\n`;
  if (json) return (event: FetchedEvent) => `${JSON.stringify(event)}\n`;
  return (event: FetchedEvent) => `${line(event)}\n`;
}

export interface TailOptions {
  readonly client: SluiceApi;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly start: Start }[];
  /** At the end of a partition, wait for more (until `signal`) instead of stopping. */
  readonly follow: boolean;
  /** Stop after this many events in all. @default - no limit */
  readonly limit?: number;
  readonly signal: AbortSignal | undefined;
  readonly print: (event: FetchedEvent) => void;
}

/**
 * Reads the partitions: one after another when not following (output in partition order), all at
 * once when following (each waits in its own long poll). Resolves when done or aborted.
 */
export async function tail({ client, partitions, follow, limit, signal, print }: TailOptions): Promise<void> {
  let count = 0;
  const stop = new AbortController();
  const done = () => stop.signal.aborted || signal?.aborted === true || (limit !== undefined && count >= limit);
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });

  const readOne = async (topic: string, partition: number, start: Start) => {
    let position: FetchOptions = 'last' in start ? { offset: 'latest' } : start;
    while (!done()) {
      const size = Math.min(FETCH_LIMITS.maxLimit, limit === undefined ? FETCH_LIMITS.maxLimit : limit - count);
      let response;
      try {
        // Ctrl-C aborts the request itself, a long poll included: nothing is left waiting for it.
        response = await client.fetch(topic, partition, { ...position, limit: size, waitMs: follow ? FETCH_LIMITS.maxWaitMs : undefined, signal: stop.signal });
      } catch (err) {
        if (done()) return;
        throw err;
      }
      for (const event of response.events) {
        if (done()) return;
        count++;
        print(event);
      }
      if (limit !== undefined && count >= limit) stop.abort();
      const stalled = response.events.length === 0 && 'offset' in position && position.offset === response.nextOffset;
      if (!follow && (response.nextOffset >= response.highWatermark || stalled)) return;
      position = { offset: response.nextOffset };
    }
  };

  try {
    if (follow) {
      await Promise.all(
        partitions.map((p) =>
          readOne(p.topic, p.partition, p.start).catch((err: unknown) => {
            stop.abort(); // one failing partition ends the others' waits too
            throw err;
          }),
        ),
      );
    } else {
      for (const p of partitions) {
        if (done()) break;
        await readOne(p.topic, p.partition, p.start);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Every partition of each topic, or only `partition` when given, with where each starts: `-N`
 * (`last`) becomes an offset, N before the partition's high watermark (not before its log start).
 */
export async function partitionsOf(client: SluiceApi, topics: readonly string[], partition: number | undefined, start: Start) {
  const all: { topic: string; partition: number; start: Start }[] = [];
  for (const topic of topics) {
    if (partition !== undefined && !('last' in start)) {
      all.push({ topic, partition, start });
      continue;
    }
    const described = await client.describeTopic(topic);
    for (const bounds of described.partitionOffsets) {
      if (partition !== undefined && bounds.partition !== partition) continue;
      const from: Start = 'last' in start ? { offset: Math.max(bounds.logStartOffset, bounds.highWatermark - start.last) } : start;
      all.push({ topic, partition: bounds.partition, start: from });
    }
    // A partition the topic does not have: its fetch reports it (PartitionNotFound).
    if (partition !== undefined && partition >= described.partitions) all.push({ topic, partition, start: { offset: 'latest' } });
  }
  return all;
}

export { formatEvent };
