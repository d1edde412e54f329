/**
 * `sluice produce`, `fetch` and `consume` (without a group) as a user runs them, against the local
 * platform over HTTP: keys placed by murmur2, headers, timestamps, JSON Lines, kcat format strings,
 * the last N events, a start time, every partition, several topics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../api/partitioner';
import { EXIT_CODES, run, type CliIo } from '../../cli/main';
import { SluiceClient, type FetchedEvent } from '../../client';
import type { Platform } from '../../local/platform';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
let client: SluiceClient;
let n = 0;

beforeAll(async () => {
  platform = await startTestPlatform('cli-events');
  client = new SluiceClient({ endpoint: platform.endpoint });
});

afterAll(async () => {
  await platform?.stop();
});

async function sluice(argv: string[], io: Partial<CliIo> = {}, live: { stdout: string } = { stdout: '' }) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (c: string) => (live.stdout = stdout += c) },
    stderr: { write: (c: string) => (stderr += c) },
    env: { SLUICE_ENDPOINT: platform.endpoint },
    ...io,
  });
  return { code, stdout, stderr };
}

async function freshTopic(partitions: number): Promise<string> {
  const name = `cli-events-${++n}`;
  await client.createTopic({ name, partitions, retentionMs: -1 }); // events of any age stay
  return name;
}

/** Every event of the topic, partition by partition. */
async function allEvents(topic: string): Promise<FetchedEvent[]> {
  const { partitions } = await client.describeTopic(topic);
  const events: FetchedEvent[] = [];
  for (let p = 0; p < partitions; p++) {
    for (let offset = 0; ; ) {
      const response = await client.fetch(topic, p, { offset, limit: 1000 });
      events.push(...response.events);
      if (response.nextOffset >= response.highWatermark) break;
      offset = response.nextOffset;
    }
  }
  return events;
}

describe('sluice produce', () => {
  it('places -K keys where murmur2 says: seq 1 1000 | awk \'{print "k" ($1 % 50) ":" $1}\' | sluice produce t -K:', async () => {
    const topic = await freshTopic(4);
    const input = Array.from({ length: 1000 }, (_, i) => `k${(i + 1) % 50}:${i + 1}`).join('\n') + '\n';
    const { code, stdout, stderr } = await sluice(['produce', topic, '-K:'], { stdin: input });
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1000);
    // A progress line every 2 s while it runs, then the summary.
    expect(stderr).toMatch(new RegExp(`^(\\.\\.\\. \\d+ events read, \\d+ produced \\(\\d+ events/s\\)\\n)*Produced 1000 events to "${topic}" in [\\d.]+ s \\(\\d+ events/s\\); by partition: 0=\\d+ 1=\\d+ 2=\\d+ 3=\\d+\\n$`));
    const events = await allEvents(topic);
    expect(events).toHaveLength(1000);
    for (const event of events) {
      expect(event.partition, `key ${event.key}`).toBe(partitionForKey(event.key!, 4));
      expect(event.key).toBe(`k${(event.value as number) % 50}`);
    }
    // Per key, the values keep their input order (one partition, in offset order).
    const k7 = events.filter((e) => e.key === 'k7').map((e) => e.value);
    expect(k7).toEqual(Array.from({ length: 20 }, (_, i) => 7 + 50 * i));
  });

  it('adds -H headers, --timestamp and --partition to every event; a line without the separator has no key', async () => {
    const topic = await freshTopic(2);
    const input = 'a=1\nno key here\n';
    const { code } = await sluice(['produce', topic, '-K', '=', '-H', 'source=cli', '-H', 'trace=x=y', '--timestamp', '2026-01-02T03:04:05Z', '--partition', '1', '-q'], {
      stdin: input,
    });
    expect(code).toBe(EXIT_CODES.ok);
    const events = await allEvents(topic);
    expect(events.map((e) => [e.partition, e.key, e.value, e.headers, e.timestamp])).toEqual([
      [1, 'a', 1, { source: 'cli', trace: 'x=y' }, Date.parse('2026-01-02T03:04:05Z')],
      [1, null, 'no key here', { source: 'cli', trace: 'x=y' }, Date.parse('2026-01-02T03:04:05Z')],
    ]);
  });

  it('reads JSON Lines with --format jsonl: key, value, headers, timestamp, partition', async () => {
    const topic = await freshTopic(3);
    const input = [
      JSON.stringify({ key: 'order-1', value: { total: 42 }, headers: { type: 'created' }, timestamp: 1_700_000_000_000 }),
      JSON.stringify({ value: 'plain', partition: 2, timestamp: '2026-01-02T00:00:00Z' }),
    ].join('\n');
    const { code, stdout } = await sluice(['produce', topic, '--format', 'jsonl', '-H', 'source=cli'], { stdin: input });
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout).toBe(`${partitionForKey('order-1', 3)}/0\n2/0\n`);
    const events = await allEvents(topic);
    const byKey = new Map(events.map((e) => [e.key, e]));
    expect(byKey.get('order-1')).toMatchObject({ value: { total: 42 }, headers: { source: 'cli', type: 'created' }, timestamp: 1_700_000_000_000 });
    expect(byKey.get(null)).toMatchObject({ partition: 2, value: 'plain', headers: { source: 'cli' }, timestamp: Date.parse('2026-01-02T00:00:00Z') });
  });

  it('refuses a bad JSON Lines line with its line number (exit 2)', async () => {
    const topic = await freshTopic(1);
    const { code, stderr } = await sluice(['produce', topic, '--format', 'jsonl'], { stdin: '{"value":1}\n{"valu":2}\n' });
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr).toMatch(/^error: line 2: unknown field "valu"/);
  });
});

describe('sluice fetch and consume without a group', () => {
  /** A topic of 2 partitions: 3 old events (a day ago) and 2 new ones on each. */
  async function history() {
    const topic = await freshTopic(2);
    const dayAgo = Date.now() - 86_400_000;
    for (const p of [0, 1]) {
      await client.produce(topic, [
        ...[0, 1, 2].map((i) => ({ partition: p, key: `old-${i}`, value: `old ${p}.${i}`, timestamp: dayAgo + i })),
        ...[0, 1].map((i) => ({ partition: p, key: `new-${i}`, value: `new ${p}.${i}`, headers: { h: String(i) } })),
      ]);
    }
    return topic;
  }

  it('fetch without --partition prints every partition, in order; -f formats each event', async () => {
    const topic = await history();
    const { code, stdout } = await sluice(['fetch', topic, '-f', '%t|%p|%o|%k|%s|%h\\n']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      `${topic}|0|0|old-0|old 0.0|`,
      `${topic}|0|1|old-1|old 0.1|`,
      `${topic}|0|2|old-2|old 0.2|`,
      `${topic}|0|3|new-0|new 0.0|h=0`,
      `${topic}|0|4|new-1|new 0.1|h=1`,
      `${topic}|1|0|old-0|old 1.0|`,
      `${topic}|1|1|old-1|old 1.1|`,
      `${topic}|1|2|old-2|old 1.2|`,
      `${topic}|1|3|new-0|new 1.0|h=0`,
      `${topic}|1|4|new-1|new 1.1|h=1`,
    ]);
  });

  it('fetch --from -N prints the last N events of each partition; --from-time -15m the recent ones', async () => {
    const topic = await history();
    const last = await sluice(['fetch', topic, '--from', '-1', '-f', '%p/%o ']);
    expect(last.stdout).toBe('0/4 1/4 ');
    const recent = await sluice(['fetch', topic, '--from-time', '-15m', '-f', '%p/%o ']);
    expect(recent.stdout).toBe('0/3 0/4 1/3 1/4 ');
    const iso = await sluice(['fetch', topic, '--partition', '1', '--from-time', new Date(Date.now() - 3_600_000).toISOString(), '-f', '%o ']);
    expect(iso.stdout).toBe('3 4 ');
    const pretty = await sluice(['fetch', topic, '--partition', '0', '--from', '-1', '--pretty']);
    expect(JSON.parse(pretty.stdout)).toMatchObject({ topic, partition: 0, offset: 4, key: 'new-1', value: 'new 0.1' });
    expect(pretty.stdout).toContain('\n  "partition": 0,\n');
  });

  it('consume t --from-time -5m -f \'%p %o %k %s\\n\' tails several topics without joining a group', async () => {
    const first = await history();
    const second = await history();
    const { code, stdout, stderr } = await sluice(['consume', first, second, '--from-time', '-5m', '-f', '%t %p %o %k %s\\n', '--max-messages', '8']);
    expect(code).toBe(EXIT_CODES.ok);
    expect(stderr).toBe('');
    const lines = stdout.split('\n').filter(Boolean).sort();
    expect(lines).toEqual(
      [first, second].flatMap((t) => [0, 1].flatMap((p) => [0, 1].map((i) => `${t} ${p} ${3 + i} new-${i} new ${p}.${i}`))).sort(),
    );
    expect((await client.listGroups()).groups).toEqual([]);
  });

  it('consume without a group ends on Ctrl-C with exit 0, waiting on every partition', async () => {
    const topic = await freshTopic(3);
    const controller = new AbortController();
    const live = { stdout: '' };
    const running = sluice(['consume', topic, '-f', '%p:%s\\n'], { signal: controller.signal }, live);
    // It starts at "latest": pings sent before it got there are not printed. Ping until one is.
    for (let i = 0; !live.stdout.includes('2:ping'); i++) {
      expect(i, 'pings before the tail printed one').toBeLessThan(500);
      await client.produce(topic, [{ partition: 2, value: `ping ${i}` }]);
    }
    const started = Date.now();
    controller.abort();
    const { code, stdout } = await running;
    expect(code).toBe(EXIT_CODES.ok);
    // Ctrl-C ends the long polls at once, not after their 20 s.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stdout).toMatch(/^(2:ping \d+\n)+$/);
  });
});

describe('sluice topics create --if-not-exists', () => {
  it('succeeds and leaves an existing topic as it is; without the flag, exit 1', async () => {
    const topic = await freshTopic(2);
    const again = await sluice(['topics', 'create', topic, '--partitions', '5', '--if-not-exists']);
    expect(again.code).toBe(EXIT_CODES.ok);
    expect(again.stdout).toBe(`Topic "${topic}" exists already (2 partitions); left as it is.\n`);
    expect((await client.describeTopic(topic)).partitions).toBe(2);
    const refused = await sluice(['topics', 'create', topic]);
    expect(refused.code).toBe(EXIT_CODES.apiError);
    expect(refused.stderr).toMatch(/^error: TopicAlreadyExists: /);
    const created = await sluice(['topics', 'create', `${topic}-new`, '--if-not-exists', '--json']);
    expect(created.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: `${topic}-new`, partitions: expect.any(Number) });
  });
});

describe('sluice topics alter', () => {
  it('grows a topic: keys then go where murmur2 says for the new count; fewer partitions are refused', async () => {
    const topic = await freshTopic(2);
    const grown = await sluice(['topics', 'alter', topic, '--partitions', '5']);
    expect(grown.code).toBe(EXIT_CODES.ok);
    expect(grown.stdout).toMatch(new RegExp(`^Altered topic "${topic}": 5 partitions, `));
    expect((await client.describeTopic(topic)).partitions).toBe(5);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const produced = await sluice(['produce', topic, '-K', ':', '-q'], { stdin: keys.map((k) => `${k}:1`).join('\n') });
    expect(produced.code).toBe(EXIT_CODES.ok);
    for (const event of await allEvents(topic)) expect(event.partition).toBe(partitionForKey(event.key!, 5));

    const shrink = await sluice(['topics', 'alter', topic, '--partitions', '3']);
    expect(shrink.code).toBe(EXIT_CODES.apiError);
    expect(shrink.stderr).toMatch(/^error: \w+: /);
    expect((await client.describeTopic(topic)).partitions).toBe(5);
    const nothing = await sluice(['topics', 'alter', topic]);
    expect(nothing.code).toBe(EXIT_CODES.usage);
  });
});
