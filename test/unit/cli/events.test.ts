import { describe, expect, it } from 'vitest';
import type { ProduceEvent } from '../../../api/events';
import { partitionForKey } from '../../../api/partitioner';
import { EXIT_CODES, type CliIo } from '../../../cli/main';
import { fakeFetch, routedFetch, TOPIC, type RecordedRequest, type Reply } from '../client/fake-fetch';
import { fakeLog } from '../client/fake-log';
import { sluice } from './run-cli';

/** `sluice produce` against a fake service holding the 3-partition topic `orders`. */
async function produce(argv: string[], stdin: CliIo['stdin']) {
  const log = fakeLog();
  const result = await sluice(['produce', 'orders', ...argv], log.fetch, { stdin });
  const events = log.calls.flatMap((c) => c.events);
  return { ...result, log, events };
}

const event = (offset: number, fields: Record<string, unknown> = {}) => ({
  topic: 'orders',
  partition: 1,
  offset,
  key: `k${offset}`,
  value: { n: offset },
  headers: {},
  timestamp: 1_764_072_000_000 + offset,
  messageId: `m-${offset}`,
  ...fields,
});

const page = (events: ReturnType<typeof event>[], nextOffset: number, highWatermark: number): Reply => ({
  status: 200,
  body: { events, nextOffset, highWatermark, logStartOffset: 0 },
});

const query = (request: RecordedRequest | undefined) => Object.fromEntries(new URL(request!.url).searchParams);

async function* lines(...items: string[]): AsyncIterable<string> {
  for (const item of items) yield item;
}

describe('Command: sluice produce', () => {
  it('sends one event per line: JSON when the line parses, else a string; skips empty lines', async () => {
    const { code, stdout, stderr, events } = await produce(['--partition', '1'], 'plain text\n{"total":42}\n\n42\n"quoted"\ntrue\n');
    expect(stderr).toMatch(/^Produced 5 events to "orders" in \d+\.\d s \(\d+ events\/s\); by partition: 1=5\n$/);
    expect(code).toBe(0);
    expect(events.map((e) => e.value)).toEqual(['plain text', { total: 42 }, 42, 'quoted', true]);
    expect(events.every((e) => e.partition === 1 && e.key === undefined)).toBe(true);
    expect(stdout).toBe('1/0\n1/1\n1/2\n1/3\n1/4\n');
  });

  it('sends every line as a string with --raw', async () => {
    const { events } = await produce(['--raw'], '{"total":42}\r\n42\n');
    expect(events.map((e) => e.value)).toEqual(['{"total":42}', '42']);
  });

  it('keys every event with --key, which picks the partition', async () => {
    const { stdout, events } = await produce(['--key', 'customer-7'], 'a\nb\n');
    const partition = partitionForKey('customer-7', 3);
    expect(events).toEqual([
      { key: 'customer-7', value: 'a', partition },
      { key: 'customer-7', value: 'b', partition },
    ]);
    expect(stdout).toBe(`${partition}/0\n${partition}/1\n`);
  });

  it('prints one result object per line with --json, in input order', async () => {
    const { stdout, events } = await produce(['--json'], lines(...Array.from({ length: 50 }, (_, i) => `line ${i}`)));
    const printed = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { messageId: string });
    expect(printed).toHaveLength(50);
    // The idempotent producer sends no message IDs: the service assigns them (the fake: by partition and offset).
    const byId = new Map(
      events.map((e: ProduceEvent) => [`assigned-${e.partition}-${events.filter((o) => o.partition === e.partition).indexOf(e)}`, e.value]),
    );
    expect(printed.map((r) => byId.get(r.messageId))).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
    expect(printed[0]).toEqual({ partition: expect.any(Number), offset: 0, messageId: expect.any(String), duplicate: false });
  });

  it('sends nothing and prints nothing for empty input', async () => {
    const { code, stdout, log } = await produce([], '');
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(log.requests).toHaveLength(0);
  });

  it('exits 1 with the API error when the topic does not exist', async () => {
    const notFound: Reply = { status: 404, body: { error: { code: 'TopicNotFound', message: 'Topic "nope" does not exist' } } };
    const { code, stdout, stderr } = await sluice(['produce', 'nope'], fakeFetch(notFound).fetch, { stdin: 'a\n' });
    expect(code).toBe(EXIT_CODES.apiError);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: TopicNotFound: Topic "nope" does not exist\n');
  });

  it('prints the results before the first failure, then exits 1', async () => {
    let produced = 0;
    let firstSent: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (firstSent = resolve));
    const { fetch } = routedFetch((request) => {
      if (request.method === 'GET') return { status: 200, body: { ...TOPIC, partitionOffsets: [] } };
      produced++;
      firstSent();
      const events = (JSON.parse(request.body!) as { events: ProduceEvent[] }).events;
      if (produced > 1) return { status: 413, body: { error: { code: 'EventTooLarge', message: 'too big' } } };
      return { status: 200, body: { results: events.map((e, i) => ({ partition: 0, offset: i, messageId: e.messageId, duplicate: false })) } };
    });
    async function* input() {
      yield 'first';
      await first; // the first line goes alone
      yield 'second';
      yield 'third';
    }
    const { code, stdout, stderr } = await sluice(['produce', 'orders', '--partition', '0'], fetch, { stdin: input() });
    expect(code).toBe(EXIT_CODES.apiError);
    expect(stdout).toBe('0/0\n');
    expect(stderr).toBe('error: EventTooLarge: too big\n');
  });

  it.each([
    [['produce'], 'error: missing <topic>'],
    [['produce', 'orders', '--partition', 'one'], 'error: --partition must be an integer, got "one"'],
    [['produce', 'orders', '--partition=-1'], 'error: --partition must be an integer of at least 0, got "-1"'],
    [['produce', 'orders', '--follow'], 'error: unknown option "--follow" for "sluice produce"'],
  ])('%j is a usage error (exit 2, nothing read or sent)', async (argv, message) => {
    const { fetch, requests } = fakeFetch();
    const result = await sluice(argv, fetch, { stdin: 'a\n' });
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr).toContain("Run 'sluice produce --help' for details.");
    expect(requests).toHaveLength(0);
  });
});

describe('Command: sluice fetch', () => {
  it('prints "<partition>/<offset> <key> <value>" lines from the earliest offset', async () => {
    const { fetch, requests } = fakeFetch(page([event(0), event(1, { key: null, value: 'text' })], 2, 2));
    const { code, stdout } = await sluice(['fetch', 'orders', '--partition', '1'], fetch);
    expect(code).toBe(0);
    expect(stdout).toBe('1/0 k0 {"n":0}\n1/1 - text\n');
    expect(requests[0]!.url).toBe('http://127.0.0.1:4545/topics/orders/partitions/1/events?offset=earliest&limit=1000');
  });

  it('prints one event object per line with --json', async () => {
    const { fetch } = fakeFetch(page([event(5), event(6)], 7, 7));
    const { stdout } = await sluice(['fetch', 'orders', '--partition', '1', '--from', '5', '--json'], fetch);
    expect(stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([event(5), event(6)]);
  });

  it('reads page after page up to the high watermark', async () => {
    const { fetch, requests } = fakeFetch(page([event(0), event(1)], 2, 3), page([event(2)], 3, 3));
    const { stdout } = await sluice(['fetch', 'orders', '--partition', '1'], fetch);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(requests.map(query)).toEqual([
      { offset: 'earliest', limit: '1000' },
      { offset: '2', limit: '1000' },
    ]);
  });

  it('stops after --limit events', async () => {
    const { fetch, requests } = fakeFetch(page([event(0), event(1)], 2, 10), page([event(2)], 3, 10));
    const { stdout } = await sluice(['fetch', 'orders', '--partition', '1', '--limit', '3'], fetch);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(requests.map((r) => query(r).limit)).toEqual(['3', '1']);
  });

  it('starts from --timestamp, then continues by offset', async () => {
    const { fetch, requests } = fakeFetch(page([event(4)], 5, 6), page([], 6, 6));
    await sluice(['fetch', 'orders', '--partition', '1', '--timestamp', '1764072000004'], fetch);
    expect(requests.map(query)).toEqual([
      { timestamp: '1764072000004', limit: '1000' },
      { offset: '5', limit: '1000' },
    ]);
  });

  it('with --follow, long-polls from where it got to until interrupted, aborting the waiting poll, then exits 0', async () => {
    const controller = new AbortController();
    const replies = [page([event(0)], 1, 1), page([], 1, 1), page([event(1)], 2, 2)];
    let waiting: AbortSignal | undefined;
    const { fetch, requests } = routedFetch((_request, index, signal) => {
      const reply = replies[index];
      if (reply) return reply;
      waiting = signal;
      setImmediate(() => controller.abort()); // Ctrl-C while the next long poll waits
      // As fetch does: the request ends when its signal is aborted (an open socket would keep the
      // process alive until the long poll ended, up to 20 s).
      return new Promise<Reply>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    });
    const { code, stdout } = await sluice(['fetch', 'orders', '--partition', '1', '--from', 'latest', '--follow'], fetch, {
      signal: controller.signal,
    });
    expect(waiting?.aborted).toBe(true);
    expect(code).toBe(0);
    expect(stdout).toBe('1/0 k0 {"n":0}\n1/1 k1 {"n":1}\n');
    expect(requests.map(query)).toEqual([
      { offset: 'latest', limit: '1000', waitMs: '20000' },
      { offset: '1', limit: '1000', waitMs: '20000' },
      { offset: '1', limit: '1000', waitMs: '20000' },
      { offset: '2', limit: '1000', waitMs: '20000' },
    ]);
  });

  it('exits 1 with OffsetOutOfRange and its message', async () => {
    const body = { error: { code: 'OffsetOutOfRange', message: 'Offset 99 is outside partition 1 of "orders": log start 0, high watermark 2' } };
    const { fetch } = fakeFetch({ status: 416, body });
    const { code, stderr } = await sluice(['fetch', 'orders', '--partition', '1', '--from', '99'], fetch);
    expect(code).toBe(EXIT_CODES.apiError);
    expect(stderr).toBe(`error: OffsetOutOfRange: ${body.error.message}\n`);
  });

  it.each([
    [['fetch', '--partition', '0'], 'error: missing <topic>'],
    [['fetch', 'orders', '--partition', '0', '--from', 'start'], 'error: --from must be "earliest", "latest", an offset'],
    [['fetch', 'orders', '--partition', '0', '--from', '3', '--timestamp', '5'], 'error: give one of --from, --from-time and --timestamp'],
    [['fetch', 'orders', '--partition', '0', '--limit', '0'], 'error: --limit must be an integer of at least 1, got "0"'],
    [['fetch', 'orders', '--partition', '0', '--raw'], 'error: unknown option "--raw" for "sluice fetch"'],
  ])('%j is a usage error (exit 2, nothing sent)', async (argv, message) => {
    const { fetch, requests } = fakeFetch();
    const result = await sluice(argv, fetch);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(result.stderr).toContain("Run 'sluice fetch --help' for details.");
    expect(requests).toHaveLength(0);
  });
});

describe('Command: sluice topics update', () => {
  it('PATCHes only the given changes and confirms the new configuration', async () => {
    const { fetch, requests } = fakeFetch({ status: 200, body: { ...TOPIC, retentionMs: -1 } });
    const { code, stdout } = await sluice(['topics', 'update', 'orders', '--retention-ms', 'forever'], fetch);
    expect(code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'PATCH', url: 'http://127.0.0.1:4545/topics/orders', body: '{"retentionMs":-1}' });
    expect(stdout).toBe('Updated topic "orders": retention forever, dedupe window 24h.\n');
  });

  it('prints the new configuration with --json', async () => {
    const updated = { ...TOPIC, dedupeWindowMs: 0 };
    const { fetch } = fakeFetch({ status: 200, body: updated });
    const { stdout } = await sluice(['topics', 'update', 'orders', '--dedupe-window-ms', '0', '--json'], fetch);
    expect(JSON.parse(stdout)).toEqual(updated);
  });

  it('is a usage error without a change', async () => {
    const { fetch, requests } = fakeFetch();
    const { code, stderr } = await sluice(['topics', 'update', 'orders'], fetch);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr.startsWith('error: give --retention-ms, --dedupe-window-ms or both\n')).toBe(true);
    expect(requests).toHaveLength(0);
  });
});

describe('help', () => {
  it('lists the event commands and topics update', async () => {
    const { stdout } = await sluice(['--help'], fakeFetch().fetch);
    for (const words of ['produce <topic>', 'fetch <topic>', 'topics update <name>']) expect(stdout).toContain(words);
  });

  it('shows the flags of produce and fetch', async () => {
    const produceHelp = await sluice(['produce', '--help'], fakeFetch().fetch);
    const fetchHelp = await sluice(['fetch', '--help'], fakeFetch().fetch);
    expect(produceHelp.stdout).toContain('Usage: sluice produce <topic> [options]');
    expect(produceHelp.stdout).toMatch(/\n {6}--key KEY +Key of every event/);
    expect(fetchHelp.stdout).toContain('Usage: sluice fetch <topic> [options]');
    expect(fetchHelp.stdout).toMatch(/\n {6}--follow +At the end/);
  });
});
