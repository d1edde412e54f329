/**
 * The client's queues and its QueueWorker against the local platform (the real queues handler, the
 * SQS server, DynamoDB Local): acks on success, nacks with backoff on failure, extends visibility
 * while a slow handler runs, stops at once out of a long poll, keeps each group in order between
 * competing workers. The scheduling inside one batch (several messages of a group, which the local
 * SQS server never answers in one receive) is in test/unit/client/queue-worker.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueNotFoundError, SluiceClient, type QueueMessage } from '../../client';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
let client: SluiceClient;

beforeAll(async () => {
  platform = await startTestPlatform('queue-client');
  client = new SluiceClient({ endpoint: platform.endpoint });
});

afterAll(async () => {
  await platform?.stop();
});

/** Queue names of this file (the installation's queue prefix may be shared with other test files). */
const queueName = (name: string) => `qc-${name}`;

async function counts(name: string) {
  const d = await client.describeQueue(name);
  return { ...d.messages, deadLetters: d.deadLetters.visible };
}

describe('Queue', () => {
  it('sends, receives and acks; a retried send with the same ID is a duplicate', async () => {
    const name = queueName('basics');
    await client.createQueue({ name });
    const queue = client.queue(name);
    const first = await queue.send([{ body: { n: 1 }, messageId: 'm-1', groupId: 'g' }, { body: 'two', groupId: 'h' }]);
    expect(first.map((r) => r.status)).toEqual(['sent', 'sent']);
    const retried = await queue.send([{ body: { n: 1 }, messageId: 'm-1', groupId: 'g' }]);
    expect(retried).toEqual([expect.objectContaining({ messageId: 'm-1', groupId: 'g', status: 'duplicate' })]);

    const received: QueueMessage[] = [];
    await waitFor(async () => (received.push(...(await queue.receive({ waitMs: 1000 }))), received.length === 2) || undefined, {
      timeoutMs: 10_000,
      what: 'both messages',
    });
    expect(received.map((m) => m.body).sort()).toEqual([{ n: 1 }, 'two'].sort());
    const acked = await queue.ack(received);
    expect(acked.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(await counts(name)).toMatchObject({ visible: 0, inFlight: 0 });
    await expect(client.queue(queueName('nope')).receive()).rejects.toBeInstanceOf(QueueNotFoundError);
  });
});

describe('QueueWorker', () => {
  it('acks every message its handler resolved', async () => {
    const name = queueName('acks');
    await client.createQueue({ name });
    const queue = client.queue(name);
    await queue.send([1, 2, 3].map((n) => ({ body: { n }, groupId: `g${n}` })));

    const worker = queue.worker({ waitMs: 1000 });
    const seen: number[] = [];
    const running = worker.run({ eachMessage: async ({ message }) => void seen.push((message.body as { n: number }).n) });
    await waitFor(async () => seen.length === 3 || undefined, { timeoutMs: 15_000, what: 'three messages handled' });
    await waitFor(async () => {
      const c = await counts(name);
      return (c.visible === 0 && c.inFlight === 0) || undefined;
    }, { timeoutMs: 10_000, what: 'the queue to be empty (all acked)' });
    await worker.stop();
    await running;
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(await queue.receive()).toEqual([]);
  });

  it('nacks a failed message with a backoff that grows with its receive count, until the handler succeeds', async () => {
    const name = queueName('backoff');
    await client.createQueue({ name, maxReceiveCount: 5 });
    const queue = client.queue(name);
    await queue.send([{ body: 'flaky', messageId: 'flaky-1' }]);

    const attempts: { receiveCount: number; at: number }[] = [];
    const warnings: Record<string, unknown>[] = [];
    // random() = 1: the delays are exactly 1 s, then 2 s (no jitter), so the gaps can be checked.
    const worker = queue.worker({
      waitMs: 1000,
      backoff: { initialDelayMs: 1000, multiplier: 2, random: () => 1 },
      logger: { warn: (_m, details) => void warnings.push(details) },
    });
    const running = worker.run({
      eachMessage: async ({ message }) => {
        attempts.push({ receiveCount: message.receiveCount, at: Date.now() });
        if (attempts.length < 3) throw new Error(`failure ${attempts.length}`);
      },
    });
    await waitFor(async () => attempts.length === 3 || undefined, { timeoutMs: 20_000, what: 'the third attempt' });
    await waitFor(async () => {
      const c = await counts(name);
      return (c.visible === 0 && c.inFlight === 0) || undefined;
    }, { timeoutMs: 10_000, what: 'the message to be acked' });
    await worker.stop();
    await running;

    expect(attempts.map((a) => a.receiveCount)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1950);
    expect(warnings.map((w) => w.delayMs)).toEqual([1000, 2000]);
    expect((await counts(name)).deadLetters).toBe(0);
  });

  it('extends visibility while a slow handler runs past the visibility timeout: no other consumer gets the message', async () => {
    const name = queueName('extend');
    await client.createQueue({ name });
    const queue = client.queue(name);
    await queue.send([{ body: 'slow', messageId: 'slow-1' }]);

    const visibilityTimeoutMs = 2000;
    const worker = queue.worker({ waitMs: 1000, visibilityTimeoutMs, extendIntervalMs: 500 });
    const stolen: QueueMessage[] = [];
    let handled = 0;
    let workedMs = 0;
    const running = worker.run({
      eachMessage: async () => {
        handled++;
        const started = Date.now();
        // The work: outlast the visibility timeout 3 times over while a competing consumer polls.
        while (Date.now() - started < 3 * visibilityTimeoutMs) {
          stolen.push(...(await queue.receive({ waitMs: 1000, visibilityTimeoutMs: 30_000 })));
        }
        workedMs = Date.now() - started;
      },
    });
    await waitFor(async () => workedMs > 0 || undefined, { timeoutMs: 20_000, what: 'the slow handler to finish' });
    expect(stolen).toEqual([]);
    await waitFor(async () => {
      const c = await counts(name);
      return (c.visible === 0 && c.inFlight === 0) || undefined;
    }, { timeoutMs: 10_000, what: 'the slow message to be acked' });
    await worker.stop();
    await running;
    expect(workedMs).toBeGreaterThanOrEqual(3 * visibilityTimeoutMs);
    expect(handled).toBe(1);
  });

  it('stop() abandons a waiting long poll at once', async () => {
    const name = queueName('stop');
    await client.createQueue({ name });
    let polls = 0;
    const counting = new SluiceClient({
      endpoint: platform.endpoint,
      fetch: (input, init) => {
        if (String(input).endsWith('/receive')) polls++;
        return fetch(input, init);
      },
    });
    const worker = counting.queue(name).worker(); // waitMs 20000
    const running = worker.run({ eachMessage: async () => undefined });
    await waitFor(async () => polls === 1 || undefined, { timeoutMs: 5000, what: 'the long poll to be sent' });
    const stopping = Date.now();
    await worker.stop();
    await running;
    expect(Date.now() - stopping).toBeLessThan(1000);
    expect(polls).toBe(1);
  });

  it('two competing workers on one queue keep each group in order, one message of a group at a time', async () => {
    const name = queueName('order');
    await client.createQueue({ name });
    const queue = client.queue(name);
    const groups = ['a', 'b', 'c'];
    // Interleaved, in sends of 10: a0 b0 c0 a1 b1 c1 ...
    const messages = Array.from({ length: 8 }, (_, seq) => groups.map((g) => ({ body: { g, seq }, groupId: g, messageId: `${g}-${seq}` }))).flat();
    for (let i = 0; i < messages.length; i += 10) await queue.send(messages.slice(i, i + 10));

    const handled = new Map<string, number[]>(groups.map((g) => [g, []]));
    const active = new Set<string>();
    const overlaps: string[] = [];
    const byWorker = [0, 0];
    const workers = [0, 1].map((w) => ({ w, worker: queue.worker({ waitMs: 1000 }) }));
    const runs = workers.map(({ w, worker }) =>
      worker.run({
        eachMessage: async ({ message }) => {
          const { g, seq } = message.body as { g: string; seq: number };
          if (active.has(g)) overlaps.push(`${g}-${seq}`);
          active.add(g);
          await new Promise((resolve) => setImmediate(resolve));
          handled.get(g)!.push(seq);
          byWorker[w]!++;
          active.delete(g);
        },
      }),
    );
    await waitFor(async () => [...handled.values()].every((s) => s.length === 8) || undefined, { timeoutMs: 30_000, what: 'all 24 messages' });
    await Promise.all(workers.map(({ worker }) => worker.stop()));
    await Promise.all(runs);

    for (const g of groups) expect(handled.get(g)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(overlaps).toEqual([]);
    expect(byWorker[0]! + byWorker[1]!).toBe(24);
    expect(await counts(name)).toMatchObject({ visible: 0, inFlight: 0 });
  });
});
