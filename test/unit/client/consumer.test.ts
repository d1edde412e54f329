import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetriesExceededError } from '../../../api/retry';
import { SluiceClient, type ConsumerOptions, type EachMessagePayload, type RunConfig, type TopicPartition } from '../../../client';
import { outputMessageId } from '../../../client/consumer-delivery';
import { fakeGroup, GROUP, TOPIC_NAME, type FakeGroup } from './fake-group';

const noWait = { sleep: async () => undefined, random: () => 0.5 };

function setup(options: Partial<ConsumerOptions> = {}, server: FakeGroup = fakeGroup()) {
  const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch: server.fetch, retry: noWait });
  const consumer = client.consumer({ groupId: GROUP, retry: noWait, ...options });
  consumer.subscribe({ topic: TOPIC_NAME });
  return { server, client, consumer };
}

/** A handler that notes `handle <partition>/<offset>` in the server's trace, then runs `then`. */
function tracing(server: FakeGroup, then: (payload: EachMessagePayload) => void | Promise<void> = () => undefined) {
  return async (payload: EachMessagePayload) => {
    server.trace.push(`handle ${payload.partition}/${payload.message.offset}`);
    await then(payload);
  };
}

/** Runs until the consumer has nothing left to read, then disconnects; answers run()'s outcome. */
async function runUntilIdle(setupResult: ReturnType<typeof setup>, config: RunConfig) {
  const { server, consumer } = setupResult;
  const idle = server.whenWaiting();
  const running = consumer.run(config);
  await Promise.race([idle, running]);
  await consumer.disconnect();
  return running;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Class: Consumer', () => {
  describe('Method: run', () => {
    it('at-most-once: the records call commits before the handler sees the records', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      s.server.append(1, 'c');
      await runUntilIdle(s, { guarantee: 'at-most-once', eachMessage: tracing(s.server) });
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([`join ${me}`, 'records+commit', 'handle 0/0', 'handle 0/1', 'handle 1/0', `leave ${me}`]);
      expect(s.server.requests.some((r) => r.url.endsWith('/offsets'))).toBe(false);
    });

    it('at-least-once: commits the offset after the last record processed, after the handler, per partition', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      s.server.append(1, 'c');
      await runUntilIdle(s, { eachMessage: tracing(s.server) }); // at-least-once is the default
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([
        `join ${me}`,
        'records',
        'handle 0/0',
        'handle 0/1',
        'commit 0=2',
        'handle 1/0',
        'commit 1=1',
        `leave ${me}`,
      ]);
    });

    it('exactly-once: one transaction per partition with the outputs, deterministic message IDs and the offset', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachMessage: async ({ message, transaction }) => {
          transaction.send({ topic: 'copies', messages: [{ value: message.value }, { value: `${String(message.value)}!` }] });
        },
      });
      const input = { topic: TOPIC_NAME, partition: 0 };
      expect(s.server.transactions).toEqual([
        {
          produce: [
            {
              topic: 'copies',
              events: [
                { value: 'a', messageId: outputMessageId(GROUP, input, 0, 0) },
                { value: 'a!', messageId: outputMessageId(GROUP, input, 0, 1) },
                { value: 'b', messageId: outputMessageId(GROUP, input, 1, 0) },
                { value: 'b!', messageId: outputMessageId(GROUP, input, 1, 1) },
              ],
            },
          ],
          commit: { group: GROUP, memberId: s.consumer.memberId, generation: 1, offsets: [{ ...input, offset: 2 }] },
        },
      ]);
      expect(s.server.requests.some((r) => r.url.endsWith('/offsets'))).toBe(false);
      expect(s.server.trace.filter((t) => t.startsWith('records'))).toEqual(['records']);
    });

    it('exactly-once: a retried transaction carries the same message IDs (so the retry dedupes)', async () => {
      const s = setup();
      s.server.append(0, 'a');
      s.server.intercept('POST', '/transactions', { status: 500, body: { error: { code: 'InternalError', message: 'lost' } } });
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachMessage: async ({ message, transaction }) => transaction.send({ topic: 'copies', messages: [{ value: message.value }] }),
      });
      const bodies = s.server.requests.filter((r) => r.url.endsWith('/transactions')).map((r) => r.body);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect(s.server.transactions).toHaveLength(1);
    });

    it('exactly-once eachBatch: derives IDs from the batch start and commits the whole batch', async () => {
      const s = setup();
      s.server.append(1, 'x', 'y');
      await runUntilIdle(s, {
        guarantee: 'exactly-once',
        eachBatch: async ({ batch, transaction }) => {
          transaction.send({ topic: 'counts', messages: [{ value: batch.messages.length }] });
        },
      });
      expect(s.server.transactions[0]).toMatchObject({
        produce: [{ topic: 'counts', events: [{ value: 2, messageId: outputMessageId(GROUP, { topic: TOPIC_NAME, partition: 1 }, 0, 0) }] }],
        commit: { offsets: [{ topic: TOPIC_NAME, partition: 1, offset: 2 }] },
      });
    });

    it('at-least-once eachBatch: hands one partition per batch, then commits', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      s.server.append(1, 'c');
      const batches: string[][] = [];
      await runUntilIdle(s, {
        eachBatch: async ({ batch }) => void batches.push(batch.messages.map((m) => `${m.partition}/${m.offset}`)),
      });
      expect(batches).toEqual([['0/0', '0/1'], ['1/0']]);
      expect(s.server.trace.filter((t) => t.startsWith('commit'))).toEqual(['commit 0=2', 'commit 1=1']);
    });

    it('rejoins with the same member ID when fenced, and reads again from the committed offset', async () => {
      const s = setup();
      s.server.append(0, 'a');
      let first = true;
      await runUntilIdle(s, {
        eachMessage: tracing(s.server, () => {
          if (first) s.server.expire(s.consumer.memberId); // its session timed out while it worked
          first = false;
        }),
      });
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([`join ${me}`, 'records', 'handle 0/0', `join ${me}`, 'records', 'handle 0/0', 'commit 0=1', `leave ${me}`]);
    });

    it('rejoins when a records call is fenced', async () => {
      const s = setup();
      const idle = s.server.whenWaiting();
      const running = s.consumer.run({ eachMessage: tracing(s.server) });
      await idle;
      const again = s.server.whenWaiting();
      s.server.expire(s.consumer.memberId);
      await again;
      s.server.append(0, 'a');
      const done = s.server.whenWaiting();
      await done;
      await s.consumer.disconnect();
      await running;
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([`join ${me}`, `join ${me}`, 'records', 'handle 0/0', 'commit 0=1', `leave ${me}`]);
    });

    it('on RebalanceInProgress learns the new generation and assignments, and re-reads from the committed offset', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      s.server.append(1, 'c');
      const assignments: number[][] = [];
      let first = true;
      await runUntilIdle(s, {
        onAssignment: (a: readonly TopicPartition[]) => void assignments.push(a.map((tp) => tp.partition)),
        eachMessage: tracing(s.server, () => {
          // Another member joins while the first record is processed; it gets partition 1.
          if (first) s.server.join('other');
          first = false;
        }),
      });
      expect(s.server.trace.slice(1)).toEqual([
        'records',
        'handle 0/0',
        'handle 0/1',
        'heartbeat', // the commit of 0=2 was refused: a heartbeat learns generation 2
        'records',
        'handle 0/0',
        'handle 0/1',
        'commit 0=2',
        `leave ${s.consumer.memberId}`,
      ]);
      expect(assignments).toEqual([[0, 1], [0]]);
      expect(s.consumer.assignment()).toEqual([]);
      expect(s.server.committed.get(1)).toBeUndefined();
    });

    it('retries a failing handler from the record that failed, then commits', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b', 'c');
      let failures = 0;
      await runUntilIdle(s, {
        eachMessage: tracing(s.server, ({ message }) => {
          if (message.offset === 1 && failures++ < 2) throw new Error('flaky');
        }),
      });
      expect(s.server.trace.slice(1, -1)).toEqual(['records', 'handle 0/0', 'handle 0/1', 'handle 0/1', 'handle 0/1', 'handle 0/2', 'commit 0=3']);
    });

    it('stops when the handler keeps failing: commits what it processed, leaves, rejects with RetriesExceeded', async () => {
      const s = setup({ retry: { ...noWait, retries: 2 } });
      s.server.append(0, 'a', 'b', 'c');
      const boom = new Error('poison');
      const outcome = await s.consumer
        .run({ eachMessage: tracing(s.server, ({ message }) => { if (message.offset === 1) throw boom; }) })
        .catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(RetriesExceededError);
      expect((outcome as RetriesExceededError).cause).toBe(boom);
      expect((outcome as RetriesExceededError).attempts).toBe(3);
      expect(s.server.trace.slice(1)).toEqual([
        'records',
        'handle 0/0',
        'handle 0/1',
        'handle 0/1',
        'handle 0/1',
        'commit 0=1',
        `leave ${s.consumer.memberId}`,
      ]);
      await expect(s.consumer.disconnect()).resolves.toBeUndefined();
    });

    it('at-most-once: a handler error stops the consumer at once, without a retry', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b');
      const boom = new Error('boom');
      await expect(s.consumer.run({ guarantee: 'at-most-once', eachMessage: tracing(s.server, () => { throw boom; }) })).rejects.toBe(boom);
      expect(s.server.trace.slice(1)).toEqual(['records+commit', 'handle 0/0', `leave ${s.consumer.memberId}`]);
    });

    it('after a records call that failed, leaves and rejoins (a new generation) before polling again', async () => {
      const s = setup();
      s.server.append(0, 'a');
      s.server.intercept('GET', '/records', { status: 500, body: { error: { code: 'InternalError', message: 'timed out' } } });
      await runUntilIdle(s, { eachMessage: tracing(s.server) });
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([
        `join ${me}`,
        'GET /records -> 500',
        `leave ${me}`,
        `join ${me}`,
        'records',
        'handle 0/0',
        'commit 0=1',
        `leave ${me}`,
      ]);
      expect(s.server.requests.filter((r) => r.url.includes('/records'))).toHaveLength(3); // not retried as is
    });

    it('sends heartbeats in the background, learns a rebalance from them, and stops them on disconnect', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const s = setup({ sessionTimeoutMs: 3000 }); // heartbeats every 1000 ms
      const assignments: number[][] = [];
      const idle = s.server.whenWaiting();
      const running = s.consumer.run({
        onAssignment: (a: readonly TopicPartition[]) => void assignments.push(a.map((tp) => tp.partition)),
        eachMessage: tracing(s.server),
      });
      await idle;
      const heartbeats = () => s.server.requests.filter((r) => r.url.endsWith('/heartbeat'));
      await vi.advanceTimersByTimeAsync(999);
      expect(heartbeats()).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(heartbeats().map((r) => r.body)).toEqual(['{"generation":1}']);

      s.server.join('other');
      await vi.advanceTimersByTimeAsync(1000);
      expect(heartbeats().map((r) => r.body)).toEqual(['{"generation":1}', '{"generation":1}']);
      expect(assignments).toEqual([[0, 1], [0]]);
      expect(s.consumer.assignment()).toEqual([{ topic: TOPIC_NAME, partition: 0 }]);

      await s.consumer.disconnect();
      await running;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(heartbeats()).toHaveLength(2);
      expect(s.server.trace.at(-1)).toBe(`leave ${s.consumer.memberId}`);
    });
  });

  describe('Method: disconnect', () => {
    it('finishes the record in hand, commits it, leaves the group, and settles run()', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b', 'c');
      const running = s.consumer.run({ eachMessage: tracing(s.server, () => void s.consumer.disconnect()) });
      await expect(running).resolves.toBeUndefined();
      const me = s.consumer.memberId;
      expect(s.server.trace).toEqual([`join ${me}`, 'records', 'handle 0/0', 'commit 0=1', `leave ${me}`]);
      await s.consumer.disconnect(); // again: nothing more
      expect(s.server.trace).toHaveLength(5);
    });

    it('abandons a waiting poll and leaves', async () => {
      const s = setup();
      await runUntilIdle(s, { eachMessage: tracing(s.server) });
      expect(s.server.trace).toEqual([`join ${s.consumer.memberId}`, `leave ${s.consumer.memberId}`]);
    });

    it('before run(): sends nothing', async () => {
      const s = setup();
      await s.consumer.disconnect();
      expect(s.server.requests).toHaveLength(0);
    });
  });

  describe('Methods: pause and resume', () => {
    it('neither delivers nor commits a paused partition, and resume rewinds it to the first record dropped', async () => {
      const s = setup();
      s.server.append(0, 'a');
      s.server.append(1, 'b', 'c');
      s.consumer.pause([{ topic: TOPIC_NAME, partitions: [1] }]);
      expect(s.consumer.paused()).toEqual([{ topic: TOPIC_NAME, partitions: [1] }]);
      const idle = s.server.whenWaiting();
      const running = s.consumer.run({ eachMessage: tracing(s.server) });
      await idle;
      expect(s.server.trace.slice(1)).toEqual(['records', 'handle 0/0', 'commit 0=1']);

      s.consumer.resume([{ topic: TOPIC_NAME, partitions: [1] }]);
      expect(s.consumer.paused()).toEqual([]);
      const idleAgain = s.server.whenWaiting();
      s.server.append(0, 'd'); // ends the waiting poll; the rewind goes before the next one
      await idleAgain;
      await s.consumer.disconnect();
      await running;
      expect(s.server.trace.slice(4)).toEqual([
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
      const s = setup();
      s.server.append(0, 'a', 'b', 'c');
      const idle = s.server.whenWaiting();
      const running = s.consumer.run({
        eachMessage: tracing(s.server, ({ message }) => {
          if (message.partition === 0 && message.offset === 0) s.consumer.pause([{ topic: TOPIC_NAME }]);
        }),
      });
      await idle;
      const idleAgain = s.server.whenWaiting();
      s.consumer.resume([{ topic: TOPIC_NAME }]);
      s.server.append(1, 'z');
      await idleAgain;
      await s.consumer.disconnect();
      await running;
      const handled = s.server.trace.filter((t) => t.startsWith('handle'));
      expect(handled).toEqual(['handle 0/0', 'handle 1/0', 'handle 0/1', 'handle 0/2']);
      expect(s.server.trace).toContain('seek 0={"offset":1}');
      expect(s.server.committed.get(0)).toBe(3);
    });

    it('at-most-once with a paused partition commits the others itself, before delivering', async () => {
      const s = setup();
      s.server.append(0, 'a');
      s.server.append(1, 'b');
      s.consumer.pause([{ topic: TOPIC_NAME, partitions: [1] }]);
      await runUntilIdle(s, { guarantee: 'at-most-once', eachMessage: tracing(s.server) });
      expect(s.server.trace.slice(1, -1)).toEqual(['records', 'commit 0=1', 'handle 0/0']);
      expect(s.server.committed.get(1)).toBeUndefined();
    });

    it('refuses to resume some partitions of a topic paused as a whole', () => {
      const s = setup();
      s.consumer.pause([{ topic: TOPIC_NAME }]);
      expect(() => s.consumer.resume([{ topic: TOPIC_NAME, partitions: [0] }])).toThrow(TypeError);
      expect(s.consumer.paused()).toEqual([{ topic: TOPIC_NAME }]);
    });
  });

  describe('Method: seek', () => {
    it('while running: goes before the next poll, and the partition’s records fetched before it are dropped', async () => {
      const s = setup();
      s.server.append(0, 'a', 'b', 'c');
      let seeked: Promise<void> | undefined;
      await runUntilIdle(s, {
        eachMessage: tracing(s.server, ({ message }) => {
          if (message.offset === 0) seeked = s.consumer.seek({ topic: TOPIC_NAME, partition: 0, offset: 2 });
        }),
      });
      await expect(seeked).resolves.toBeUndefined();
      expect(s.server.trace.slice(1, -1)).toEqual(['records', 'handle 0/0', 'commit 0=1', 'seek 0={"offset":2}', 'records', 'handle 0/2', 'commit 0=3']);
    });

    it('when not running: sends the seek at once', async () => {
      const s = setup();
      await s.consumer.seek({ topic: TOPIC_NAME, partition: 1, offset: 0 });
      expect(s.server.requests[0]).toMatchObject({
        method: 'POST',
        url: `http://127.0.0.1:4545/groups/${GROUP}/seek`,
        body: JSON.stringify({ topic: TOPIC_NAME, partitions: [1], to: { offset: 0 } }),
      });
    });
  });

  describe('Options and misuse', () => {
    it('lists every broken option in one TypeError', () => {
      const { client } = setup();
      expect(() => client.consumer({ groupId: 'no spaces', sessionTimeoutMs: 10, waitMs: -1, maxRecords: 0 })).toThrow(
        /groupId must be a valid group name; sessionTimeoutMs must be an integer from 1000 to 1800000; .*maxRecords must be an integer from 1 to 1000; waitMs must be an integer from 0 to 20000/,
      );
      expect(() => client.consumer({ groupId: 'g', sessionTimeoutMs: 3000, heartbeatIntervalMs: 3000 })).toThrow(/heartbeatIntervalMs/);
    });

    it.each<[string, (s: ReturnType<typeof setup>) => Promise<unknown>]>([
      ['without a subscription', (s) => s.client.consumer({ groupId: GROUP }).run({ eachMessage: async () => undefined })],
      ['with both handlers', (s) => s.consumer.run({ eachMessage: async () => undefined, eachBatch: async () => undefined } as never)],
      ['with an unknown guarantee', (s) => s.consumer.run({ guarantee: 'twice' as never, eachMessage: async () => undefined })],
    ])('rejects run() %s with a TypeError, sending nothing', async (_, call) => {
      const s = setup();
      await expect(call(s)).rejects.toBeInstanceOf(TypeError);
      expect(s.server.requests).toHaveLength(0);
    });

    it('rejects a second run() and a subscribe while running', async () => {
      const s = setup();
      const idle = s.server.whenWaiting();
      const running = s.consumer.run({ eachMessage: async () => undefined });
      await idle;
      await expect(s.consumer.run({ eachMessage: async () => undefined })).rejects.toThrow(/already called/);
      expect(() => s.consumer.subscribe({ topic: 'more' })).toThrow(TypeError);
      await s.consumer.disconnect();
      await running;
    });

    it('transaction.send outside exactly-once fails the handler', async () => {
      const s = setup({ retry: { ...noWait, retries: 0 } });
      s.server.append(0, 'a');
      const outcome = await s.consumer
        .run({ eachMessage: async ({ transaction }) => transaction.send({ topic: 'x', messages: [{ value: 1 }] }) })
        .catch((e: unknown) => e);
      expect((outcome as RetriesExceededError).cause).toBeInstanceOf(TypeError);
    });
  });
});
