/**
 * The Consumer against the local platform started in-process (real handlers over HTTP, DynamoDB
 * Local): assignment across members, rebalancing when one leaves, resuming from committed offsets
 * in a new consumer, and an exactly-once copy from one topic to another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchedEvent } from '../../api/events';
import { Consumer, SluiceClient, type ConsumerOptions, type RunConfig, type TopicPartition } from '../../client';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
let sluice: SluiceClient;
const started: Consumer[] = [];

/** Fast enough for tests: short polls and frequent heartbeats. */
const FAST: Omit<ConsumerOptions, 'groupId'> = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 200,
  waitMs: 200,
  offsetReset: 'earliest',
  retry: { initialDelayMs: 10, maxDelayMs: 50 },
};

interface Running {
  readonly consumer: Consumer;
  readonly done: Promise<void>;
  readonly seen: FetchedEvent[];
  assigned: readonly TopicPartition[];
}

function start(groupId: string, topics: string[], run: Partial<RunConfig> = {}, options: Partial<ConsumerOptions> = {}): Running {
  const consumer = sluice.consumer({ groupId, ...FAST, ...options });
  started.push(consumer);
  consumer.subscribe({ topics });
  const state: Running = { consumer, done: Promise.resolve(), seen: [], assigned: [] };
  const config = {
    eachMessage: async ({ message }: { message: FetchedEvent }) => void state.seen.push(message),
    ...run,
    onAssignment: (assignments: readonly TopicPartition[]) => (state.assigned = assignments),
  } as RunConfig;
  (state as { done: Promise<void> }).done = consumer.run(config);
  return state;
}

const until = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false) =>
  waitFor(async () => probe(), { timeoutMs: 20_000, intervalMs: 50, what });

async function produceSpread(topic: string, count: number, from = 0): Promise<Set<string>> {
  const producer = sluice.producer();
  const results = await producer.send({
    topic,
    messages: Array.from({ length: count }, (_, i) => ({ key: `k-${from + i}`, value: { n: from + i } })),
  });
  await producer.disconnect();
  return new Set(results.map((r) => r.messageId));
}

beforeAll(async () => {
  platform = await startTestPlatform('consumer');
  sluice = new SluiceClient({ endpoint: platform.endpoint });
});

afterAll(async () => {
  await Promise.all(started.map((c) => c.disconnect().catch(() => undefined)));
  await platform?.stop();
});

describe('Consumer against the local platform', () => {
  it('splits 4 partitions 2/2 between two members, and gives all 4 to the one left', async () => {
    await sluice.createTopic({ name: 'split', partitions: 4 });
    const a = start('split-group', ['split']);
    await until('a to own all 4 partitions', () => a.assigned.length === 4);
    const b = start('split-group', ['split']);
    await until('a 2/2 split', () => a.assigned.length === 2 && b.assigned.length === 2);

    const described = await sluice.describeGroup('split-group');
    expect(described.members.map((m) => m.assignments.length)).toEqual([2, 2]);
    const owners = new Set(described.partitions.map((p) => p.owner));
    expect(owners).toEqual(new Set([a.consumer.memberId, b.consumer.memberId]));

    await b.consumer.disconnect();
    await b.done;
    await until('a to own all 4 again', () => a.assigned.length === 4);
    expect((await sluice.describeGroup('split-group')).members.map((m) => m.memberId)).toEqual([a.consumer.memberId]);
    await a.consumer.disconnect();
    await a.done;
  });

  it('resumes in a new consumer from the committed offsets: nothing skipped, nothing repeated', async () => {
    await sluice.createTopic({ name: 'resume', partitions: 4 });
    const produced = await produceSpread('resume', 200);

    let first!: Running;
    first = start('resume-group', ['resume'], {
      eachMessage: async ({ message }) => {
        first.seen.push(message);
        if (first.seen.length === 80) void first.consumer.disconnect();
      },
    });
    await first.done;
    expect(first.seen.length).toBeGreaterThanOrEqual(80);
    expect(first.seen.length).toBeLessThan(200);

    for (const id of await produceSpread('resume', 100, 200)) produced.add(id);
    const second = start('resume-group', ['resume']);
    await until('every event to be consumed', () => first.seen.length + second.seen.length >= produced.size);
    await second.consumer.disconnect();
    await second.done;

    const firstIds = first.seen.map((e) => e.messageId);
    const secondIds = second.seen.map((e) => e.messageId);
    expect(new Set([...firstIds, ...secondIds])).toEqual(produced);
    expect(firstIds.length + secondIds.length).toBe(produced.size); // a clean stop commits what it processed
    // The second consumer started each partition exactly where the first one had committed.
    for (let partition = 0; partition < 4; partition++) {
      const last = first.seen.filter((e) => e.partition === partition).at(-1);
      const next = second.seen.find((e) => e.partition === partition);
      if (next) expect(next.offset).toBe(last ? last.offset + 1 : 0);
    }
    const group = await sluice.describeGroup('resume-group');
    expect(group.partitions.map((p) => p.lag)).toEqual([0, 0, 0, 0]);
  });

  it('copies topic A to topic B exactly once, across two members and a handler that fails once', async () => {
    await sluice.createTopic({ name: 'copy-in', partitions: 4 });
    await sluice.createTopic({ name: 'copy-out', partitions: 2 });
    const produced = 120;
    await produceSpread('copy-in', produced);

    let failed = false;
    const copy: RunConfig = {
      guarantee: 'exactly-once',
      eachMessage: async ({ message, transaction }) => {
        transaction.send({ topic: 'copy-out', messages: [{ key: message.key, value: message.value }] });
        if ((message.value as { n: number }).n === 7 && !failed) {
          failed = true;
          throw new Error('fails once, after sending');
        }
      },
    };
    const a = start('copy-group', ['copy-in'], copy, { maxRecords: 10 });
    await until('the first outputs', async () => (await outputs()).length > 0);
    const b = start('copy-group', ['copy-in'], copy, { maxRecords: 10 });
    await until('all inputs committed', async () => {
      const group = await sluice.describeGroup('copy-group');
      return group.partitions.every((p) => p.lag === 0) && group.partitions.length === 4;
    });
    await Promise.all([a.consumer.disconnect(), b.consumer.disconnect()]);
    await Promise.all([a.done, b.done]);

    const values = (await outputs()).map((e) => (e.value as { n: number }).n).sort((x, y) => x - y);
    expect(failed).toBe(true);
    expect(values).toEqual(Array.from({ length: produced }, (_, n) => n));
  });
});

async function outputs(): Promise<FetchedEvent[]> {
  const all: FetchedEvent[] = [];
  for (const partition of [0, 1]) {
    let offset = 0;
    for (;;) {
      const page = await sluice.fetch('copy-out', partition, { offset, limit: 1000 });
      all.push(...page.events);
      if (page.nextOffset >= page.highWatermark) break;
      offset = page.nextOffset;
    }
  }
  return all;
}
