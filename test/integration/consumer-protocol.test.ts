/**
 * The Consumer (client/consumer*.ts) against the real group protocol: the groups and transactions
 * handlers over GroupService, TransactionService and LogService on DynamoDB Local, served
 * in-process (test/support/in-process-sluice.ts) so the group service's clock can be moved and
 * its waiting records calls observed. Every group request the service answered is in `trace`,
 * with the handler's steps, so the order of commits and processing is asserted as it happened.
 *
 * GroupService starts each records call at a random partition (Math.random); it is pinned to 0
 * here, so a call that answers several partitions answers them in partition order.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetriesExceededError } from '../../api/retry';
import { SluiceClient, type ConsumerOptions, type EachMessagePayload, type RunConfig, type TopicPartition } from '../../client';
import { outputMessageId } from '../../client/consumer-delivery';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';

const noWait = { sleep: async () => undefined, random: () => 0.5 };
/** The consumers' session timeout; moving the clock past it expires a member. */
const SESSION_MS = 10_000;

let sluice: InProcessSluice;
let n = 0;

beforeAll(async () => {
  sluice = await startInProcessSluice('consumer-protocol');
});

afterAll(async () => {
  await sluice?.close();
});

beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0);
  sluice.trace.length = 0;
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A consumer of a fresh group on a fresh topic (2 partitions, and any `outputs` topics), on the real service. */
async function setup(options: Partial<ConsumerOptions> = {}, outputs: readonly string[] = []) {
  n++;
  const group = `billing-${n}`;
  const topic = `orders-${n}`;
  await sluice.createTopic(topic, 2);
  for (const output of outputs) await sluice.createTopic(`${output}-${n}`, 1);
  /** Every request the client sent, as "METHOD /path". */
  const requests: string[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return sluice.fetch(input, init);
  };
  const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch, retry: noWait });
  const consumer = client.consumer({ groupId: group, retry: noWait, sessionTimeoutMs: SESSION_MS, offsetReset: 'earliest', ...options });
  consumer.subscribe({ topic });
  const committed = async (partition: number) =>
    (await sluice.groups.describe(group)).partitions.find((p) => p.topic === topic && p.partition === partition)?.committedOffset ?? null;
  const output = (name: string) => `${name}-${n}`;
  return { group, topic, client, consumer, committed, output, requests, append: (p: number, ...values: unknown[]) => sluice.append(topic, p, ...values) };
}
type Setup = Awaited<ReturnType<typeof setup>>;

/** A handler that notes `handle <partition>/<offset>` in the trace, then runs `then`. */
function tracing(then: (payload: EachMessagePayload) => void | Promise<void> = () => undefined) {
  return async (payload: EachMessagePayload) => {
    sluice.trace.push(`handle ${payload.partition}/${payload.message.offset}`);
    await then(payload);
  };
}

/** Runs until the consumer has nothing left to read (a records call waits), then disconnects; answers run()'s outcome. */
async function runUntilIdle(s: Setup, config: RunConfig) {
  const idle = sluice.whenWaiting();
  const running = s.consumer.run(config);
  await Promise.race([idle, running]);
  await s.consumer.disconnect();
  return running;
}

/** The events of an output topic's only partition. */
async function outputEvents(topic: string) {
  return (await sluice.log.fetch(topic, 0, { offset: 0 })).events;
}

describe('Class: Consumer, against the real group service', () => {
  describe('Method: run', () => {
    it('at-most-once: the records call commits before the handler sees the records', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b');
      await s.append(1, 'c');
      let committedWhileHandling: (number | null)[] = [];
      await runUntilIdle(s, {
        guarantee: 'at-most-once',
        eachMessage: tracing(async () => {
          if (committedWhileHandling.length === 0) committedWhileHandling = [await s.committed(0), await s.committed(1)];
        }),
      });
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([`join ${me}`, 'records+commit', 'handle 0/0', 'handle 0/1', 'handle 1/0', `leave ${me}`]);
      // Committed in the group before the first record was handed over.
      expect(committedWhileHandling).toEqual([2, 1]);
    });

    it('at-least-once: commits the offset after the last record processed, after the handler, per partition', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b');
      await s.append(1, 'c');
      await runUntilIdle(s, { eachMessage: tracing() }); // at-least-once is the default
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([`join ${me}`, 'records', 'handle 0/0', 'handle 0/1', 'commit 0=2', 'handle 1/0', 'commit 1=1', `leave ${me}`]);
      expect([await s.committed(0), await s.committed(1)]).toEqual([2, 1]);
    });

    it('exactly-once: one transaction per partition with the outputs, deterministic message IDs and the offset', async () => {
      const s = await setup({}, ['copies']);
      await s.append(0, 'a', 'b');
      const transactions: unknown[] = [];
      const spy = vi.spyOn(sluice.transactions, 'run');
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachMessage: async ({ message, transaction }) => {
          transaction.send({ topic: s.output('copies'), messages: [{ value: message.value }, { value: `${String(message.value)}!` }] });
        },
      });
      transactions.push(...spy.mock.calls.map(([request]) => request));
      const input = { topic: s.topic, partition: 0 };
      const ids = [outputMessageId(s.group, input, 0, 0), outputMessageId(s.group, input, 0, 1), outputMessageId(s.group, input, 1, 0), outputMessageId(s.group, input, 1, 1)];
      expect(transactions).toEqual([
        {
          produce: [
            {
              topic: s.output('copies'),
              events: [
                { value: 'a', messageId: ids[0] },
                { value: 'a!', messageId: ids[1] },
                { value: 'b', messageId: ids[2] },
                { value: 'b!', messageId: ids[3] },
              ],
            },
          ],
          commit: { group: s.group, memberId: s.consumer.memberId, generation: 1, offsets: [{ ...input, offset: 2 }] },
        },
      ]);
      expect(sluice.trace.filter((t) => !t.startsWith('join') && !t.startsWith('leave'))).toEqual(['records', 'transaction 0=2']);
      // The outputs and the commit landed together.
      expect((await outputEvents(s.output('copies'))).map((e) => [e.value, e.messageId])).toEqual([
        ['a', ids[0]],
        ['a!', ids[1]],
        ['b', ids[2]],
        ['b!', ids[3]],
      ]);
      expect(await s.committed(0)).toBe(2);
    });

    it('exactly-once: a retried transaction carries the same message IDs (so the retry dedupes)', async () => {
      const s = await setup({}, ['copies']);
      await s.append(0, 'a');
      // The service runs the first attempt; its answer is lost on the way back.
      sluice.fail('POST', '/transactions', { status: 500, code: 'InternalError', when: 'after' });
      const bodies: string[] = [];
      const spy = vi.spyOn(sluice.transactions, 'run');
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachMessage: async ({ message, transaction }) => transaction.send({ topic: s.output('copies'), messages: [{ value: message.value }] }),
      });
      bodies.push(...spy.mock.calls.map(([request]) => JSON.stringify(request)));
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect(sluice.trace.filter((t) => t.startsWith('transaction'))).toEqual(['transaction 0=1 -> 500 InternalError', 'transaction 0=1']);
      expect((await outputEvents(s.output('copies'))).map((e) => e.value)).toEqual(['a']); // appended once
      expect(await s.committed(0)).toBe(1);
    });

    it('exactly-once eachBatch: derives IDs from the batch start and commits the whole batch', async () => {
      const s = await setup({}, ['counts']);
      await s.append(1, 'x', 'y');
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachBatch: async ({ batch, transaction }) => {
          transaction.send({ topic: s.output('counts'), messages: [{ value: batch.messages.length }] });
        },
      });
      const events = await outputEvents(s.output('counts'));
      expect(events.map((e) => [e.value, e.messageId])).toEqual([[2, outputMessageId(s.group, { topic: s.topic, partition: 1 }, 0, 0)]]);
      expect(sluice.trace.filter((t) => t.startsWith('transaction'))).toEqual(['transaction 1=2']);
      expect(await s.committed(1)).toBe(2);
    });

    it('at-least-once eachBatch: hands one partition per batch, then commits', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b');
      await s.append(1, 'c');
      const batches: string[][] = [];
      await runUntilIdle(s, {
        eachBatch: async ({ batch }) => {
          sluice.trace.push(`batch ${batch.partition}`);
          batches.push(batch.messages.map((m) => `${m.partition}/${m.offset}`));
        },
      });
      expect(batches).toEqual([['0/0', '0/1'], ['1/0']]);
      expect(sluice.trace.slice(1, -1)).toEqual(['records', 'batch 0', 'commit 0=2', 'batch 1', 'commit 1=1']);
    });

    it('rejoins with the same member ID when fenced, and reads again from the committed offset', async () => {
      const s = await setup();
      await s.append(0, 'a');
      let first = true;
      await runUntilIdle(s, {
        eachMessage: tracing(() => {
          if (first) sluice.advance(SESSION_MS + 1); // its session timed out while it worked
          first = false;
        }),
      });
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([
        `join ${me}`,
        'records',
        'handle 0/0',
        'commit 0=1 -> 409 FencedMember', // the group dropped the member: nothing committed
        'heartbeat -> 409 FencedMember',
        `join ${me}`,
        'records',
        'handle 0/0',
        'commit 0=1',
        `leave ${me}`,
      ]);
      expect(await s.committed(0)).toBe(1);
    });

    it('rejoins when a records call is fenced', async () => {
      const s = await setup();
      const idle = sluice.whenWaiting();
      const running = s.consumer.run({ eachMessage: tracing() });
      await idle;
      const rejoined = sluice.whenTraced(`join ${s.consumer.memberId}`);
      const again = sluice.whenWaiting();
      sluice.advance(SESSION_MS + 1); // the session times out; the waiting poll ends too
      await rejoined;
      await again;
      const handled = sluice.whenTraced('commit 0=1');
      await s.append(0, 'a');
      await handled;
      await s.consumer.disconnect();
      await running;
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([
        `join ${me}`,
        'records (none)',
        'records -> 409 FencedMember',
        `join ${me}`,
        'records',
        'handle 0/0',
        'commit 0=1',
        `leave ${me}`,
      ]);
    });

    it('on RebalanceInProgress learns the new generation and assignments, and re-reads from the committed offset', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b');
      await s.append(1, 'c');
      const assignments: number[][] = [];
      let first = true;
      await runUntilIdle(s, {
        onAssignment: (a: readonly TopicPartition[]) => void assignments.push(a.map((tp) => tp.partition)),
        eachMessage: tracing(async () => {
          // Another member joins while the first record is processed; sticky assignment keeps 0 here and gives it 1.
          if (first) await sluice.groups.join(s.group, { topics: [s.topic], memberId: 'other', sessionTimeoutMs: SESSION_MS });
          first = false;
        }),
      });
      expect(sluice.trace.slice(1)).toEqual([
        'records',
        'handle 0/0',
        'handle 0/1',
        'commit 0=2 -> 409 RebalanceInProgress',
        'heartbeat', // learns generation 2; the batch of partition 1 (no longer its own) is dropped
        'records',
        'handle 0/0',
        'handle 0/1',
        'commit 0=2',
        `leave ${s.consumer.memberId}`,
      ]);
      expect(assignments).toEqual([[0, 1], [0]]);
      expect(s.consumer.assignment()).toEqual([]);
      expect(await s.committed(1)).toBeNull();
      const owners = (await sluice.groups.describe(s.group)).partitions.map((p) => p.owner);
      expect(owners).toEqual(['other', 'other']); // it left: the other member has both now
    });

    it('retries a failing handler from the record that failed, then commits', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b', 'c');
      let failures = 0;
      await runUntilIdle(s, {
        eachMessage: tracing(({ message }) => {
          if (message.offset === 1 && failures++ < 2) throw new Error('flaky');
        }),
      });
      expect(sluice.trace.slice(1, -1)).toEqual(['records', 'handle 0/0', 'handle 0/1', 'handle 0/1', 'handle 0/1', 'handle 0/2', 'commit 0=3']);
    });

    it('stops when the handler keeps failing: commits what it processed, leaves, rejects with RetriesExceeded', async () => {
      const s = await setup({ retry: { ...noWait, retries: 2 } });
      await s.append(0, 'a', 'b', 'c');
      const boom = new Error('poison');
      const outcome = await s.consumer
        .run({
          eachMessage: tracing(({ message }) => {
            if (message.offset === 1) throw boom;
          }),
        })
        .catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(RetriesExceededError);
      expect((outcome as RetriesExceededError).cause).toBe(boom);
      expect((outcome as RetriesExceededError).attempts).toBe(3);
      expect(sluice.trace.slice(1)).toEqual(['records', 'handle 0/0', 'handle 0/1', 'handle 0/1', 'handle 0/1', 'commit 0=1', `leave ${s.consumer.memberId}`]);
      expect(await s.committed(0)).toBe(1);
      expect((await sluice.groups.describe(s.group)).members).toEqual([]);
      await expect(s.consumer.disconnect()).resolves.toBeUndefined();
    });

    it('at-most-once: a handler error stops the consumer at once, without a retry', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b');
      const boom = new Error('boom');
      await expect(
        s.consumer.run({
          guarantee: 'at-most-once',
          eachMessage: tracing(() => {
            throw boom;
          }),
        }),
      ).rejects.toBe(boom);
      expect(sluice.trace.slice(1)).toEqual(['records+commit', 'handle 0/0', `leave ${s.consumer.memberId}`]);
      expect(await s.committed(0)).toBe(2); // committed before delivery: 0/1 is lost, as at-most-once allows
    });

    it('after a records call whose answer was lost, leaves and rejoins (a new generation) before polling again', async () => {
      const s = await setup();
      await s.append(0, 'a');
      // The service reads 0/0 and moves the member's position past it; the answer never arrives.
      sluice.fail('GET', '/records', { status: 500, code: 'InternalError', when: 'after' });
      await runUntilIdle(s, { eachMessage: tracing() });
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([
        `join ${me}`,
        'records -> 500 InternalError',
        `leave ${me}`,
        `join ${me}`,
        'records', // from the committed offset: the record of the lost answer is not skipped
        'handle 0/0',
        'commit 0=1',
        `leave ${me}`,
      ]);
    });

    it('sends heartbeats in the background, learns a rebalance from them, and stops them on disconnect', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const timers = vi.spyOn(globalThis, 'setTimeout');
      const scheduled = () => timers.mock.calls.filter(([, ms]) => ms === 1000).length;
      const s = await setup({ sessionTimeoutMs: 3000 }); // heartbeats every 1000 ms
      const assignments: number[][] = [];
      const idle = sluice.whenWaiting();
      const running = s.consumer.run({
        onAssignment: (a: readonly TopicPartition[]) => void assignments.push(a.map((tp) => tp.partition)),
        eachMessage: tracing(),
      });
      await idle;
      const heartbeats = () => sluice.trace.filter((t) => t.startsWith('heartbeat'));
      expect(scheduled()).toBe(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(heartbeats()).toHaveLength(0);
      let beat = sluice.whenTraced('heartbeat');
      await vi.advanceTimersByTimeAsync(1);
      await beat;
      await until(() => scheduled() === 2); // the next one is scheduled once this one completed
      expect(assignments).toEqual([[0, 1]]);

      await sluice.groups.join(s.group, { topics: [s.topic], memberId: 'other', sessionTimeoutMs: SESSION_MS });
      beat = sluice.whenTraced('heartbeat');
      await vi.advanceTimersByTimeAsync(1000);
      await beat;
      await until(() => scheduled() === 3);
      // The consumer sat in one waiting records call all along: only the heartbeat told it.
      expect(sluice.trace).toEqual([`join ${s.consumer.memberId}`, 'heartbeat', 'heartbeat']);
      expect(assignments).toEqual([[0, 1], [0]]);
      expect(s.consumer.assignment()).toEqual([{ topic: s.topic, partition: 0 }]);

      await s.consumer.disconnect();
      await running;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(heartbeats()).toHaveLength(2);
      expect(sluice.trace.at(-1)).toBe(`leave ${s.consumer.memberId}`);
    });
  });

  describe('Method: disconnect', () => {
    it('finishes the record in hand, commits it, leaves the group, and settles run()', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b', 'c');
      const running = s.consumer.run({ eachMessage: tracing(() => void s.consumer.disconnect()) });
      await expect(running).resolves.toBeUndefined();
      const me = s.consumer.memberId;
      expect(sluice.trace).toEqual([`join ${me}`, 'records', 'handle 0/0', 'commit 0=1', `leave ${me}`]);
      await s.consumer.disconnect(); // again: nothing more
      expect(sluice.trace).toHaveLength(5);
      expect((await sluice.groups.describe(s.group)).members).toEqual([]);
    });

    it('abandons a waiting poll and leaves', async () => {
      const s = await setup();
      await runUntilIdle(s, { eachMessage: tracing() });
      expect(sluice.trace).toEqual([`join ${s.consumer.memberId}`, `leave ${s.consumer.memberId}`]);
      expect((await sluice.groups.describe(s.group)).members).toEqual([]);
    });

    it('before run(): sends nothing', async () => {
      const s = await setup();
      await s.consumer.disconnect();
      expect(s.requests).toEqual([]);
      expect(sluice.trace).toEqual([]);
    });
  });

  describe('Methods: pause and resume', () => {
    it('neither delivers nor commits a paused partition, and resume rewinds it to the first record dropped', async () => {
      const s = await setup();
      await s.append(0, 'a');
      await s.append(1, 'b', 'c');
      s.consumer.pause([{ topic: s.topic, partitions: [1] }]);
      expect(s.consumer.paused()).toEqual([{ topic: s.topic, partitions: [1] }]);
      const idle = sluice.whenWaiting();
      const running = s.consumer.run({ eachMessage: tracing() });
      await idle;
      expect(sluice.trace.slice(1)).toEqual(['records', 'handle 0/0', 'commit 0=1']);
      expect(await s.committed(1)).toBeNull();

      s.consumer.resume([{ topic: s.topic, partitions: [1] }]);
      expect(s.consumer.paused()).toEqual([]);
      const done = sluice.whenTraced('commit 1=2');
      await s.append(0, 'd'); // ends the waiting poll; the rewind goes before the next one
      await done;
      await s.consumer.disconnect();
      await running;
      expect(sluice.trace.slice(4)).toEqual([
        'records',
        'handle 0/1',
        'commit 0=2',
        'seek 1={"offset":0}',
        'records',
        'handle 1/0',
        'handle 1/1',
        'commit 1=2',
        `leave ${s.consumer.memberId}`,
      ]);
    });

    it('pausing from the handler stops the rest of that batch; resume delivers from there', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b', 'c');
      const idle = sluice.whenWaiting();
      const running = s.consumer.run({
        eachMessage: tracing(({ message }) => {
          if (message.partition === 0 && message.offset === 0) s.consumer.pause([{ topic: s.topic }]);
        }),
      });
      await idle;
      const done = sluice.whenTraced('commit 0=3');
      s.consumer.resume([{ topic: s.topic }]);
      await s.append(1, 'z');
      await done;
      await s.consumer.disconnect();
      await running;
      const handled = sluice.trace.filter((t) => t.startsWith('handle'));
      expect(handled).toEqual(['handle 0/0', 'handle 1/0', 'handle 0/1', 'handle 0/2']);
      expect(sluice.trace).toContain('seek 0={"offset":1}');
      expect(await s.committed(0)).toBe(3);
    });

    it('at-most-once with a paused partition commits the others itself, before delivering', async () => {
      const s = await setup();
      await s.append(0, 'a');
      await s.append(1, 'b');
      s.consumer.pause([{ topic: s.topic, partitions: [1] }]);
      await runUntilIdle(s, { guarantee: 'at-most-once', eachMessage: tracing() });
      expect(sluice.trace.slice(1, -1)).toEqual(['records', 'commit 0=1', 'handle 0/0']);
      expect(await s.committed(1)).toBeNull();
    });

    it('refuses to resume some partitions of a topic paused as a whole', async () => {
      const s = await setup();
      s.consumer.pause([{ topic: s.topic }]);
      expect(() => s.consumer.resume([{ topic: s.topic, partitions: [0] }])).toThrow(TypeError);
      expect(s.consumer.paused()).toEqual([{ topic: s.topic }]);
    });
  });

  describe('Method: seek', () => {
    it('while running: goes before the next poll, and the partition’s records fetched before it are dropped', async () => {
      const s = await setup();
      await s.append(0, 'a', 'b', 'c');
      let seeked: Promise<void> | undefined;
      await runUntilIdle(s, {
        eachMessage: tracing(({ message }) => {
          if (message.offset === 0) seeked = s.consumer.seek({ topic: s.topic, partition: 0, offset: 2 });
        }),
      });
      await expect(seeked).resolves.toBeUndefined();
      expect(sluice.trace.slice(1, -1)).toEqual(['records', 'handle 0/0', 'commit 0=1', 'seek 0={"offset":2}', 'records', 'handle 0/2', 'commit 0=3']);
    });

    it('when not running: sends the seek at once', async () => {
      const s = await setup();
      await s.append(1, 'a', 'b');
      await s.consumer.seek({ topic: s.topic, partition: 1, offset: 1 });
      expect(sluice.trace).toEqual(['seek 1={"offset":1}']);
      expect(await s.committed(1)).toBe(1);
    });
  });

  describe('Options and misuse', () => {
    it('lists every broken option in one TypeError', async () => {
      const { client } = await setup();
      expect(() => client.consumer({ groupId: 'no spaces', sessionTimeoutMs: 10, waitMs: -1, maxRecords: 0 })).toThrow(
        /groupId must be a valid group name; sessionTimeoutMs must be an integer from 1000 to 1800000; .*maxRecords must be an integer from 1 to 1000; waitMs must be an integer from 0 to 20000/,
      );
      expect(() => client.consumer({ groupId: 'g', sessionTimeoutMs: 3000, heartbeatIntervalMs: 3000 })).toThrow(/heartbeatIntervalMs/);
    });

    it.each<[string, (s: Setup) => Promise<unknown>]>([
      ['without a subscription', (s) => s.client.consumer({ groupId: s.group }).run({ eachMessage: async () => undefined })],
      ['with both handlers', (s) => s.consumer.run({ eachMessage: async () => undefined, eachBatch: async () => undefined } as never)],
      ['with an unknown guarantee', (s) => s.consumer.run({ guarantee: 'twice' as never, eachMessage: async () => undefined })],
    ])('rejects run() %s with a TypeError, sending nothing', async (_, call) => {
      const s = await setup();
      await expect(call(s)).rejects.toBeInstanceOf(TypeError);
      expect(s.requests).toEqual([]);
      expect(sluice.trace).toEqual([]);
    });

    it('rejects a second run() and a subscribe while running', async () => {
      const s = await setup();
      const idle = sluice.whenWaiting();
      const running = s.consumer.run({ eachMessage: async () => undefined });
      await idle;
      await expect(s.consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/already called/);
      expect(() => s.consumer.subscribe({ topic: 'more' })).toThrow(TypeError);
      await s.consumer.disconnect();
      await running;
    });

    it('transaction.send outside exactly-once fails the handler', async () => {
      const s = await setup({ retry: { ...noWait, retries: 0 } });
      await s.append(0, 'a');
      const outcome = await s.consumer
        .run({ eachMessage: async ({ transaction }) => transaction.send({ topic: 'x', messages: [{ value: 1 }] }) })
        .catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(RetriesExceededError);
      expect((outcome as RetriesExceededError).cause).toBeInstanceOf(TypeError);
      expect(sluice.trace.filter((t) => t.startsWith('transaction'))).toEqual([]);
    });
  });
});

/** Polls `condition` on the event loop (not on timers, which a test may fake) until it holds. */
async function until(condition: () => boolean, what = 'condition', limit = 10_000) {
  for (let i = 0; !condition(); i++) {
    if (i >= limit) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
