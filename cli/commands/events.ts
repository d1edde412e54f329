/** `sluice produce` (stdin lines to events, through the Producer) and `sluice fetch`. */
import { FETCH_LIMITS, type ProduceEvent, type ProduceResult } from '../../api/events';
import type { FetchOptions } from '../../client/sluice-client';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
import { formatEvent } from '../format';

/** Sends not yet settled before produce waits for the oldest (bounds memory on a large input). */
const MAX_OUTSTANDING_SENDS = 1000;

type Outcome = { readonly ok: true; readonly result: ProduceResult } | { readonly ok: false; readonly error: unknown };

const produce: Command = {
  path: ['produce'],
  args: ['topic'],
  summary: 'Produce events read from stdin, one per line.',
  details: [
    'A line that parses as JSON is sent as that JSON value (an object, a number, true, a "quoted" string, ...),',
    'any other line as a string; with --raw, every line as a string. Empty lines are skipped.',
    'Prints "<partition>/<offset>" per event, in input order (--json: one result object per line).',
    'Stops at the first failure, after the events already sent have completed.',
  ].join('\n'),
  options: {
    key: {
      type: 'string',
      valueName: 'KEY',
      description: 'Key of every event (default: none; keyless events are spread over the partitions)',
    },
    partition: {
      type: 'string',
      valueName: 'N',
      description: 'Send every event to this partition (default: the partition of the key, else spread)',
    },
    raw: { type: 'boolean', description: 'Send every line as a string value, even one that parses as JSON' },
  },
  async run({ client, args, options, json, stdout, stdinLines }) {
    const topic = args[0]!;
    const partition = integerOption(produce, options, 'partition', {}, 0);
    const key = typeof options.key === 'string' ? options.key : undefined;
    const raw = options.raw === true;

    const producer = client.producer();
    const outstanding: Promise<Outcome>[] = [];
    let printed: Promise<void> = Promise.resolve();
    let failure: { readonly error: unknown } | undefined;
    try {
      for await (const line of stdinLines()) {
        if (failure) break;
        if (line === '') continue;
        const message: ProduceEvent = {
          ...(key === undefined ? {} : { key }),
          ...(partition === undefined ? {} : { partition }),
          value: raw ? line : parseLine(line),
        };
        const outcome = producer.send({ topic, messages: [message] }).then(
          ([result]): Outcome => ({ ok: true, result: result! }),
          (error: unknown): Outcome => ({ ok: false, error }),
        );
        // Results are printed in input order, up to the first failure.
        printed = printed.then(async () => {
          const settled = await outcome;
          if (failure) return;
          if (!settled.ok) failure = { error: settled.error };
          else stdout.write(json ? `${JSON.stringify(settled.result)}\n` : `${formatResult(settled.result)}\n`);
        });
        outstanding.push(outcome);
        if (outstanding.length >= MAX_OUTSTANDING_SENDS) await outstanding.shift();
      }
    } finally {
      await producer.disconnect();
      await printed;
    }
    if (failure) throw failure.error;
  },
};

const fetch: Command = {
  path: ['fetch'],
  args: ['topic'],
  summary: 'Print the events of one partition.',
  interruptible: true,
  details: [
    'Reads from --from (or --timestamp) up to the end of the partition; with --follow, then waits for',
    'new events until Ctrl-C. Prints "<partition>/<offset> <key> <value>" lines: "-" for no key or',
    'no value, bytes as "base64:<data>", other JSON values as JSON, strings as they are unless that',
    'would be ambiguous (empty, "-", a line break, text that parses as JSON, ...): then as a JSON string.',
    'With --json: one event object per line, as the API returns it.',
  ].join('\n'),
  options: {
    partition: { type: 'string', valueName: 'N', description: 'The partition to read (required)', required: true },
    from: {
      type: 'string',
      valueName: 'OFFSET',
      description: 'Where to start: "earliest", "latest" or an offset (default: earliest)',
    },
    timestamp: {
      type: 'string',
      valueName: 'MS',
      description: 'Start at the first event whose timestamp is at or after this time, in epoch ms (instead of --from)',
    },
    limit: { type: 'string', valueName: 'N', description: 'Stop after printing N events (default: no limit)' },
    follow: {
      type: 'boolean',
      description:
        'At the end of the partition, keep waiting for new events ' +
        `(long polls of ${FETCH_LIMITS.maxWaitMs / 1000} s) until Ctrl-C`,
    },
  },
  async run({ client, args, options, json, stdout, signal }) {
    const topic = args[0]!;
    const partition = integerOption(fetch, options, 'partition', {}, 0)!; // required
    const timestamp = integerOption(fetch, options, 'timestamp', {}, 0);
    const limit = integerOption(fetch, options, 'limit', {}, 1);
    const follow = options.follow === true;
    if (timestamp !== undefined && options.from !== undefined) {
      throw new UsageError('give --from or --timestamp, not both', fetch.path);
    }
    let position: FetchOptions = timestamp !== undefined ? { timestamp } : { offset: parseFrom(options.from) };

    let count = 0;
    for (;;) {
      const size = Math.min(FETCH_LIMITS.maxLimit, limit === undefined ? FETCH_LIMITS.maxLimit : limit - count);
      const waitMs = follow ? FETCH_LIMITS.maxWaitMs : undefined;
      let response;
      try {
        // Ctrl-C aborts the request itself, a long poll included: nothing is left waiting for it.
        response = await client.fetch(topic, partition, { ...position, limit: size, waitMs, signal });
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      for (const event of response.events) stdout.write(json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`);
      count += response.events.length;
      if (limit !== undefined && count >= limit) return;
      const stalled = response.events.length === 0 && 'offset' in position && position.offset === response.nextOffset;
      if (!follow && (response.nextOffset >= response.highWatermark || stalled)) return;
      position = { offset: response.nextOffset };
    }
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

function parseFrom(from: CommandContext['options'][string]): FetchOptions['offset'] {
  if (from === undefined) return 'earliest';
  const text = String(from).trim().toLowerCase();
  if (text === 'earliest' || text === 'latest') return text;
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  throw new UsageError(`--from must be "earliest", "latest" or an offset (an integer of at least 0), got "${from}"`, fetch.path);
}
