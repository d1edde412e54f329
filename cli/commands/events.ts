/** `sluice produce` (stdin lines to events, through the batching Producer) and `sluice fetch`. */
import { PRODUCER_DEFAULTS } from '../../client/producer';
import { EVENT_LIMITS, FETCH_LIMITS, type ProduceEvent, type ProduceResult } from '../../api/events';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
import { formatEvent } from '../format';
import { eventPrinter, parseStart, partitionsOf, PRINT_OPTIONS, START_OPTIONS, tail } from '../tail';
import { parseTime, TIME_FORMS } from '../time';

/** Sends not yet settled before produce waits for the oldest (bounds memory on a large input). */
const MAX_OUTSTANDING_SENDS = 1000;

/** A progress line on stderr at most this often, so only inputs that take a while show one. */
const PROGRESS_EVERY_MS = 2000;

type Outcome = { readonly ok: true; readonly result: ProduceResult } | { readonly ok: false; readonly error: unknown };

const FORMATS = ['text', 'jsonl'] as const;

const produce: Command = {
  path: ['produce'],
  args: ['topic'],
  summary: 'Produce events read from stdin, one per line.',
  details: [
    'A line that parses as JSON is sent as that JSON value (an object, a number, true, a "quoted" string, ...),',
    'any other line as a string; with --raw, every line as a string. Empty lines are skipped.',
    'With -K SEP, a line is "<key>SEP<value>", split at the first SEP (a line without SEP has no key).',
    'With --format jsonl, each line is a JSON object {"key", "value", "headers", "timestamp", "partition"},',
    'all optional; --key, -H, --timestamp and --partition fill in what a line leaves out.',
    'Events go through the batching producer (keys placed by murmur2, as Kafka places them).',
    'Prints "<partition>/<offset>" per event, in input order (--json: one result object per line; --quiet:',
    'none), then a summary on stderr; a long run shows progress on stderr every few seconds.',
    'Stops at the first failure, after the events already sent have completed.',
  ].join('\n'),
  options: {
    key: {
      type: 'string',
      valueName: 'KEY',
      description: 'Key of every event (default: none; keyless events are spread over the partitions)',
    },
    'key-separator': {
      type: 'string',
      short: 'K',
      valueName: 'SEP',
      description: 'Each line is a key, SEP, then the value (kcat -K)',
    },
    header: {
      type: 'string',
      short: 'H',
      valueName: 'K=V',
      multiple: true,
      description: 'A header on every event; repeat for more',
    },
    partition: {
      type: 'string',
      valueName: 'N',
      description: 'Send every event to this partition (default: the partition of the key, else spread)',
    },
    timestamp: {
      type: 'string',
      valueName: 'TIME',
      description: `The events' timestamp: epoch ms or an ISO 8601 date-time (default: when appended)`,
    },
    format: {
      type: 'string',
      valueName: 'FORMAT',
      description: '"text": a value per line (default); "jsonl": a JSON object per line (see above)',
    },
    raw: { type: 'boolean', description: 'Send every line as a string value, even one that parses as JSON' },
    quiet: { type: 'boolean', short: 'q', description: 'Print no line per event, only the summary' },
    'batch-size': {
      type: 'string',
      valueName: 'N',
      description: `Most events per request, 1-${EVENT_LIMITS.maxEventsPerRequest} (default: ${PRODUCER_DEFAULTS.batchSize}, which fits events of any size; small events fit about 98)`,
    },
  },
  async run({ client, args, options, json, stdout, stderr, stdinLines }) {
    const topic = args[0]!;
    const toEvent = lineParser(options);
    const quiet = options.quiet === true;

    const batchSize = integerOption(produce, options, 'batch-size', {}, 1);
    if (batchSize !== undefined && batchSize > EVENT_LIMITS.maxEventsPerRequest) {
      throw new UsageError(`--batch-size must be at most ${EVENT_LIMITS.maxEventsPerRequest}`, produce.path);
    }
    const producer = client.producer(batchSize === undefined ? {} : { batchSize });
    const outstanding: Promise<Outcome>[] = [];
    let printed: Promise<void> = Promise.resolve();
    let failure: { readonly error: unknown } | undefined;
    const perPartition = new Map<number, number>();
    const started = Date.now();
    let read = 0;
    // Progress while reading and while the last batches complete; a short run shows none.
    const progress = json
      ? undefined
      : setInterval(() => {
          const done = sum(perPartition);
          stderr.write(`... ${read} events read, ${done} produced (${rate(done, Date.now() - started)})\n`);
        }, PROGRESS_EVERY_MS);
    let lineNumber = 0;
    try {
      for await (const line of stdinLines()) {
        lineNumber++;
        if (failure) break;
        if (line === '') continue;
        const message = toEvent(line, lineNumber);
        read++;
        const outcome = producer.send({ topic, messages: [message] }).then(
          ([result]): Outcome => ({ ok: true, result: result! }),
          (error: unknown): Outcome => ({ ok: false, error }),
        );
        // Results are printed in input order, up to the first failure.
        printed = printed.then(async () => {
          const settled = await outcome;
          if (failure) return;
          if (!settled.ok) {
            failure = { error: settled.error };
            return;
          }
          const { partition } = settled.result;
          perPartition.set(partition, (perPartition.get(partition) ?? 0) + 1);
          if (!quiet) stdout.write(json ? `${JSON.stringify(settled.result)}\n` : `${formatResult(settled.result)}\n`);
        });
        outstanding.push(outcome);
        if (outstanding.length >= MAX_OUTSTANDING_SENDS) await outstanding.shift();
      }
    } finally {
      await producer.disconnect();
      await printed;
      clearInterval(progress);
    }
    if (failure) throw failure.error;
    if (!json) stderr.write(`${summary(topic, perPartition, Date.now() - started)}\n`);
  },
};

/** Turns an input line into an event, as the flags say. @throws UsageError for a bad line or flag */
function lineParser(options: CommandContext['options']): (line: string, lineNumber: number) => ProduceEvent {
  const partition = integerOption(produce, options, 'partition', {}, 0);
  const key = typeof options.key === 'string' ? options.key : undefined;
  const separator = typeof options['key-separator'] === 'string' ? options['key-separator'] : undefined;
  const raw = options.raw === true;
  const format = FORMATS.find((f) => f === String(options.format ?? 'text').toLowerCase());
  if (!format) throw new UsageError(`--format must be "text" or "jsonl", got "${String(options.format)}"`, produce.path);
  if (separator === '') throw new UsageError('--key-separator must not be empty', produce.path);
  if (separator !== undefined && key !== undefined) throw new UsageError('give --key or --key-separator, not both', produce.path);
  if (format === 'jsonl' && (separator !== undefined || raw)) {
    throw new UsageError('--format jsonl carries keys and values itself: leave out --key-separator and --raw', produce.path);
  }
  let timestamp: number | undefined;
  if (typeof options.timestamp === 'string') {
    timestamp = parseTime(options.timestamp);
    if (timestamp === undefined) throw new UsageError(`--timestamp must be ${TIME_FORMS}, got "${options.timestamp}"`, produce.path);
  }
  const headers = parseHeaders(options.header);
  const defaults: ProduceEvent = {
    ...(key === undefined ? {} : { key }),
    ...(partition === undefined ? {} : { partition }),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(headers ? { headers } : {}),
  };
  const valueOf = (text: string) => (raw ? text : parseLine(text));

  if (format === 'jsonl') return (line, lineNumber) => jsonlEvent(line, lineNumber, defaults);
  if (separator === undefined) return (line) => ({ ...defaults, value: valueOf(line) });
  return (line) => {
    const at = line.indexOf(separator);
    if (at < 0) return { ...defaults, value: valueOf(line) };
    return { ...defaults, key: line.slice(0, at), value: valueOf(line.slice(at + separator.length)) };
  };
}

function parseHeaders(values: CommandContext['options'][string]): Record<string, string> | undefined {
  if (values === undefined) return undefined;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const header of Array.isArray(values) ? values : [String(values)]) {
    const at = header.indexOf('=');
    if (at <= 0) throw new UsageError(`--header must be NAME=VALUE, got "${header}"`, produce.path);
    headers[header.slice(0, at)] = header.slice(at + 1);
  }
  return { ...headers };
}

/** One JSON Lines event; the line's own fields win over the flags' defaults, headers are merged. */
function jsonlEvent(line: string, lineNumber: number, defaults: ProduceEvent): ProduceEvent {
  const bad = (why: string) => new UsageError(`line ${lineNumber}: ${why}`, produce.path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw bad('not JSON (--format jsonl wants an object per line)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('not a JSON object');
  const { key, value, headers, timestamp, partition, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw bad(`unknown field "${unknown[0]}" (allowed: key, value, headers, timestamp, partition)`);
  if (key !== undefined && key !== null && typeof key !== 'string') throw bad('"key" must be a string or null');
  if (headers !== undefined && (headers === null || typeof headers !== 'object' || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string'))) {
    throw bad('"headers" must be an object of strings');
  }
  if (partition !== undefined && !(Number.isSafeInteger(partition) && (partition as number) >= 0)) throw bad('"partition" must be an integer of at least 0');
  let time = defaults.timestamp;
  if (timestamp !== undefined) {
    time = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' ? parseTime(timestamp) : undefined;
    if (time === undefined || !Number.isSafeInteger(time) || time < 0) throw bad(`"timestamp" must be epoch ms or an ISO 8601 date-time`);
  }
  const mergedHeaders = { ...(defaults.headers ?? {}), ...((headers as Record<string, string> | undefined) ?? {}) };
  const event: ProduceEvent = {
    ...(key === undefined ? (defaults.key === undefined ? {} : { key: defaults.key }) : key === null ? {} : { key }),
    ...(partition === undefined ? (defaults.partition === undefined ? {} : { partition: defaults.partition }) : { partition: partition as number }),
    ...(time === undefined ? {} : { timestamp: time }),
    ...(Object.keys(mergedHeaders).length > 0 ? { headers: mergedHeaders } : {}),
    ...(value === undefined ? {} : { value }),
  };
  return event;
}

function sum(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

function rate(events: number, ms: number): string {
  return `${Math.round(events / Math.max(ms, 1) * 1000)} events/s`;
}

/** `Produced 1000 events to "t" in 1.2 s (830 events/s); by partition: 0=250 1=250 ...` */
function summary(topic: string, perPartition: ReadonlyMap<number, number>, ms: number): string {
  const total = sum(perPartition);
  const by = [...perPartition].sort(([a], [b]) => a - b).map(([p, n]) => `${p}=${n}`).join(' ');
  return (
    `Produced ${total} event${total === 1 ? '' : 's'} to "${topic}" in ${(ms / 1000).toFixed(1)} s (${rate(total, ms)})` +
    (by ? `; by partition: ${by}` : '')
  );
}

const fetch: Command = {
  path: ['fetch'],
  args: ['topic'],
  summary: 'Print the events of a topic (every partition, or one), without a group.',
  interruptible: true,
  details: [
    'Reads from --from (default: earliest) or --from-time up to the end of each partition, in order; with',
    '--follow, then waits for new events on every partition until Ctrl-C. Prints',
    '"<partition>/<offset> <key> <value>" lines: "-" for no key or no value, bytes as "base64:<data>",',
    'other JSON values as JSON, strings as they are unless that would be ambiguous (empty, "-", a line',
    'break, text that parses as JSON, ...): then as a JSON string. -f FMT prints a format of your own;',
    '--json: one event object per line, as the API returns it.',
  ].join('\n'),
  options: {
    partition: { type: 'string', valueName: 'N', description: 'Only this partition (default: every partition)' },
    ...START_OPTIONS,
    timestamp: {
      type: 'string',
      valueName: 'MS',
      description: 'Same as --from-time, in epoch ms (kept for scripts)',
    },
    limit: { type: 'string', valueName: 'N', description: 'Stop after printing N events (default: no limit)' },
    follow: {
      type: 'boolean',
      description:
        'At the end of a partition, keep waiting for new events ' +
        `(long polls of ${FETCH_LIMITS.maxWaitMs / 1000} s) until Ctrl-C`,
    },
    ...PRINT_OPTIONS,
  },
  async run({ client, args, options, json, stdout, signal }) {
    const topic = args[0]!;
    const partition = integerOption(fetch, options, 'partition', {}, 0);
    const limit = integerOption(fetch, options, 'limit', {}, 1);
    const timestamp = integerOption(fetch, options, 'timestamp', {}, 0);
    if (timestamp !== undefined && (options.from !== undefined || options['from-time'] !== undefined)) {
      throw new UsageError('give one of --from, --from-time and --timestamp', fetch.path);
    }
    const start = timestamp !== undefined ? { timestamp } : parseStart(fetch, options, { offset: 'earliest' });
    const line = eventPrinter(fetch, options, json, formatEvent);
    const partitions = await partitionsOf(client, [topic], partition, start);
    await tail({ client, partitions, follow: options.follow === true, limit, signal, print: (e) => stdout.write(line(e)) });
  },
};

export const EVENT_COMMANDS: readonly Command[] = [produce, fetch];

function formatResult(result: ProduceResult): string {
  return `${result.partition}/${result.offset}`;
}

/** A line that is JSON becomes that value; any other line, a string. */
function parseLine(line: string): ProduceEvent['value'] {
  try {
    return JSON.parse(line) as ProduceEvent['value'];
  } catch {
    return line;
  }
}
