import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vi } from 'vitest';
import {
  EVENT_LIMITS,
  InvalidRequestError,
  PartitionNotFoundError,
  partitionForKey,
  Producer,
  ProducerDisconnectedError,
  RetriesExceededError,
  SluiceClient,
  TopicNotFoundError,
  type ProducerOptions,
} from '../../../client';
import { fakeLog } from './fake-log';

const ENDPOINT = 'http://127.0.0.1:4545';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const internalError = { status: 500, body: { error: { code: 'InternalError', message: 'boom' } } } as const;

/** A real client on a fake service; retries never wait. */
function setup(options: { hold?: boolean; partitions?: number; producer?: ProducerOptions; retries?: number } = {}) {
  const log = fakeLog(options);
  const client = new SluiceClient({
    endpoint: ENDPOINT,
    fetch: log.fetch,
    retry: { retries: options.retries ?? 2, sleep: async () => undefined },
  });
  return { log, client, producer: client.producer(options.producer) };
}

/** Lets promises and response bodies settle without moving the fake clock. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A key that lands on `partition` of 3. */
function keyFor(partition: number, n = 0): string {
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`).filter((k) => partitionForKey(k, 3) === partition);
  return keys[n]!;
}

describe('Class: Producer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  describe('Constructor', () => {
    it('applies the documented defaults', async () => {
      const { log, producer } = setup();
      const sent = producer.send({ topic: 'orders', messages: Array.from({ length: 45 }, (_, i) => ({ value: i, partition: 0 })) });
      await settle();
      // batchSize 40: a full batch goes at once; the rest waits lingerMs (5).
      expect(log.calls.map((c) => c.events.length)).toEqual([40]);
      await vi.advanceTimersByTimeAsync(4);
      await settle();
      expect(log.calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(log.calls.map((c) => c.events.length)).toEqual([40, 5]);
      await expect(sent).resolves.toHaveLength(45);
    });

    it('reports every broken option together', () => {
      const client = new SluiceClient({ endpoint: ENDPOINT, fetch: fakeLog().fetch });
      expect(() => new Producer(client, { lingerMs: -1, batchSize: EVENT_LIMITS.maxEventsPerRequest + 1 })).toThrow(
        'Invalid producer options: lingerMs must be a number of at least 0; batchSize must be an integer from 1 to 500',
      );
      expect(() => client.producer({ batchSize: 0 })).toThrow(TypeError);
      expect(() => client.producer({ batchSize: 1.5 })).toThrow(TypeError);
    });
  });

  describe('Method: send', () => {
    it('stamps each request for the idempotent producer, adds no message IDs, keeps given ones, and retries the same body', async () => {
      const { log, producer } = setup({ hold: true });
      const messages = [{ value: 'a', partition: 0 }, { value: 'b', partition: 0, messageId: 'mine-1' }];
      const sent = producer.send({ topic: 'orders', messages });
      await vi.advanceTimersByTimeAsync(5);
      await settle();
      const [first] = log.calls;
      // Retries are made safe by the stamp (producer ID, epoch, sequence), not by random message IDs.
      expect(first!.events.map((e) => e.messageId)).toEqual([undefined, 'mine-1']);
      expect(first!.producer).toEqual({ id: expect.any(String), epoch: expect.any(Number), sequence: 0 });
      expect(messages[0]).toEqual({ value: 'a', partition: 0 }); // the caller's message is not modified

      first!.release(internalError); // retried by the client with the same body
      await settle();
      expect(log.calls).toHaveLength(2);
      expect(log.calls[1]!.events).toEqual(first!.events);
      expect(log.calls[1]!.producer).toEqual(first!.producer);
      log.calls[1]!.release();
      const results = await sent;
      expect(results.map((r) => r.messageId)).toEqual(['assigned-0-0', 'mine-1']);
    });

    it('waits lingerMs for more messages, then sends one request per partition', async () => {
      const { log, producer } = setup({ producer: { lingerMs: 10 } });
      const a = producer.send({ topic: 'orders', messages: [{ key: keyFor(0), value: 1 }] });
      const b = producer.send({ topic: 'orders', messages: [{ key: keyFor(1), value: 2 }, { key: keyFor(0, 1), value: 3 }] });
      await settle();
      await vi.advanceTimersByTimeAsync(9);
      await settle();
      expect(log.calls).toHaveLength(0);

      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(log.calls.map((c) => [c.partition, c.events.map((e) => e.value)])).toEqual([
        [0, [1, 3]],
        [1, [2]],
      ]);
      await expect(a).resolves.toEqual([{ partition: 0, offset: 0, messageId: 'assigned-0-0', duplicate: false }]);
      await expect(b).resolves.toMatchObject([
        { partition: 1, offset: 0 },
        { partition: 0, offset: 1 },
      ]);
    });

    it('with lingerMs 0, sends the messages of one send together, without waiting', async () => {
      const { log, producer } = setup({ producer: { lingerMs: 0 } });
      const sent = producer.send({ topic: 'orders', messages: [1, 2, 3].map((value) => ({ value, partition: 1 })) });
      await settle();
      expect(log.calls.map((c) => c.events.map((e) => e.value))).toEqual([[1, 2, 3]]);
      await expect(sent).resolves.toHaveLength(3);
    });

    it('sends a full batch at once and splits the rest by batchSize', async () => {
      const { log, producer } = setup({ producer: { batchSize: 2, lingerMs: 50 } });
      const sent = producer.send({ topic: 'orders', messages: [1, 2, 3, 4, 5].map((value) => ({ value, partition: 2 })) });
      await settle();
      expect(log.calls.map((c) => c.events.map((e) => e.value))).toEqual([[1, 2], [3, 4]]);
      await vi.advanceTimersByTimeAsync(50);
      await settle();
      expect(log.calls.map((c) => c.events.map((e) => e.value))).toEqual([[1, 2], [3, 4], [5]]);
      expect((await sent).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    });

    it('closes a batch before its events total more than maxRequestBytes', async () => {
      const { log, producer } = setup({ producer: { lingerMs: 1000 } });
      const big = 'x'.repeat(EVENT_LIMITS.maxEventBytes - 2); // a JSON string: 2 bytes of quotes
      const sent = producer.send({ topic: 'orders', messages: Array.from({ length: 13 }, () => ({ value: big, partition: 0 })) });
      await settle();
      // 12 × 256 KiB = 3 MiB (maxRequestBytes) fit one request; the 13th waits for the next.
      expect(log.calls.map((c) => c.events.length)).toEqual([12]);
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
      expect(log.calls.map((c) => c.events.length)).toEqual([12, 1]);
      await expect(sent).resolves.toHaveLength(13);
    });

    it('never has two requests in flight for one partition, and keeps its order', async () => {
      const { log, producer } = setup({ hold: true, producer: { lingerMs: 0 } });
      const first = producer.send({ topic: 'orders', messages: [{ value: 'a1', partition: 0 }] });
      await settle();
      const second = producer.send({ topic: 'orders', messages: [{ value: 'a2', partition: 0 }, { value: 'b1', partition: 1 }] });
      const third = producer.send({ topic: 'orders', messages: [{ value: 'a3', partition: 0 }] });
      await settle();
      await vi.advanceTimersByTimeAsync(100);
      await settle();
      // Partition 1 is not held up by partition 0's request in flight.
      expect(log.held.map((c) => [c.partition, c.events.map((e) => e.value)])).toEqual([
        [0, ['a1']],
        [1, ['b1']],
      ]);

      log.held[0]!.release();
      await settle();
      expect(log.held.map((c) => [c.partition, c.events.map((e) => e.value)])).toEqual([
        [1, ['b1']],
        [0, ['a2', 'a3']],
      ]);
      log.held[1]!.release();
      log.held[0]!.release();
      await expect(first).resolves.toMatchObject([{ partition: 0, offset: 0 }]);
      await expect(second).resolves.toMatchObject([{ partition: 0, offset: 1 }, { partition: 1, offset: 0 }]);
      await expect(third).resolves.toMatchObject([{ partition: 0, offset: 2 }]);
      expect(log.maxOpenPerPartition()).toBe(1);
    });

    it('preserves the order of a partition when a batch is retried', async () => {
      const { log, producer } = setup({ hold: true, producer: { lingerMs: 0 } });
      const first = producer.send({ topic: 'orders', messages: [{ value: 1, partition: 0 }] });
      await settle();
      const second = producer.send({ topic: 'orders', messages: [{ value: 2, partition: 0 }] });
      await settle();
      log.held[0]!.release({ status: 429, body: { error: { code: 'Throttled', message: 'slow down' } } });
      await settle();
      log.held[0]!.release(internalError);
      await settle();
      expect(log.held).toHaveLength(1);
      log.held[0]!.release();
      await settle();
      log.held[0]!.release();

      expect(log.calls.map((c) => c.events[0]!.value)).toEqual([1, 1, 1, 2]);
      expect(new Set(log.calls.slice(0, 3).map((c) => c.events[0]!.messageId)).size).toBe(1);
      await expect(first).resolves.toMatchObject([{ offset: 0 }]);
      await expect(second).resolves.toMatchObject([{ offset: 1 }]);
      expect(log.maxOpenPerPartition()).toBe(1);
    });

    it('places keyed messages as partitionForKey does, and sends the partition explicitly', async () => {
      const { log, producer } = setup();
      const keys = Array.from({ length: 30 }, (_, i) => `customer-${i}`);
      const results = producer.send({ topic: 'orders', messages: keys.map((key) => ({ key, value: key })) });
      await settle();
      await vi.advanceTimersByTimeAsync(5);
      // Results come in message order; each message's key decides its partition.
      const placed = await results;
      placed.forEach((result, i) => expect(result.partition).toBe(partitionForKey(keys[i]!, 3)));
      for (const call of log.calls) for (const e of call.events) expect(e.partition).toBe(partitionForKey(e.key!, 3));
      expect(new Set(log.calls.map((c) => c.partition)).size).toBe(log.calls.length); // one request per partition
    });

    it('puts keyless messages on one sticky partition per batch, then moves round robin', async () => {
      const { log, producer } = setup({ producer: { batchSize: 4 } });
      const sent = producer.send({ topic: 'orders', messages: Array.from({ length: 10 }, (_, value) => ({ value })) });
      await settle();
      await vi.advanceTimersByTimeAsync(5);
      await sent;
      const partitions = log.calls.map((c) => c.partition);
      expect(log.calls.map((c) => c.events.length)).toEqual([4, 4, 2]);
      expect(partitions).toEqual([partitions[0], (partitions[0]! + 1) % 3, (partitions[0]! + 2) % 3]);
    });

    it('spreads keyless messages evenly while requests are in flight (one message per send, as `sluice produce` sends)', async () => {
      // Lines arrive faster than the service answers. The sticky partition moves on after a batch's
      // worth of messages, not when a batch is sent: a partition whose request is still in flight
      // must not collect the messages meanwhile.
      const { log, producer } = setup({ hold: true, partitions: 4 });
      const sends = Array.from({ length: 1000 }, (_, i) => producer.send({ topic: 'orders', messages: [{ value: i }] }));
      await settle();
      for (let round = 0; round < 100 && log.held.length > 0; round++) {
        for (const call of [...log.held]) call.release();
        await settle();
        await vi.advanceTimersByTimeAsync(5);
      }
      await Promise.all(sends);
      const perPartition = [0, 1, 2, 3].map((p) => log.calls.filter((c) => c.partition === p).reduce((n, c) => n + c.events.length, 0));
      // Runs of batchSize (40): 1000 messages are 25 runs over 4 partitions, 280/240/240/240.
      expect([...perPartition].sort()).toEqual([240, 240, 240, 280]);
    });

    it('describes a topic once, however many sends use it', async () => {
      const { log, producer } = setup();
      const sends = [1, 2].map((value) => producer.send({ topic: 'orders', messages: [{ value }] }));
      await producer.flush();
      sends.push(producer.send({ topic: 'orders', messages: [{ value: 3 }] }));
      await producer.flush();
      await Promise.all(sends);
      expect(log.describeCount()).toBe(1);
      expect(log.calls.flatMap((c) => c.events.map((e) => e.value)).sort()).toEqual([1, 2, 3]);
    });

    it('rejects the sends that needed a failed describe, and asks again for the next', async () => {
      const { log, producer } = setup();
      await expect(producer.send({ topic: 'nope', messages: [{ value: 1 }] })).rejects.toBeInstanceOf(TopicNotFoundError);
      await expect(producer.send({ topic: 'nope', messages: [{ value: 1 }] })).rejects.toBeInstanceOf(TopicNotFoundError);
      expect(log.describeCount()).toBe(2);
      expect(log.calls).toHaveLength(0);
    });

    it.each([
      ['a partition the topic lacks', { value: 1, partition: 3 }, PartitionNotFoundError],
      ['a value and valueBase64', { value: 1, valueBase64: 'AA==' }, InvalidRequestError],
      ['a message ID with a space', { value: 1, messageId: 'a b' }, InvalidRequestError],
    ] as const)('rejects a send with %s without sending any of it, and spares the others', async (_label, bad, ErrorClass) => {
      const { log, producer } = setup();
      const good = producer.send({ topic: 'orders', messages: [{ value: 'ok', partition: 0 }] });
      const failed = producer.send({ topic: 'orders', messages: [{ value: 'first', partition: 0 }, bad] });
      await expect(failed).rejects.toBeInstanceOf(ErrorClass);
      await settle();
      await vi.advanceTimersByTimeAsync(5);
      await expect(good).resolves.toHaveLength(1);
      expect(log.calls.flatMap((c) => c.events.map((e) => e.value))).toEqual(['ok']);
    });

    it('rejects the sends of a failed batch with its error; other partitions succeed', async () => {
      const { log, producer } = setup({ hold: true, retries: 0, producer: { lingerMs: 0 } });
      const mixed = producer.send({ topic: 'orders', messages: [{ value: 1, partition: 0 }, { value: 2, partition: 1 }] });
      const other = producer.send({ topic: 'orders', messages: [{ value: 3, partition: 1 }] });
      await settle();
      log.held.find((c) => c.partition === 0)!.release(internalError);
      log.held.find((c) => c.partition === 1)!.release();
      await settle();
      log.held[0]?.release();
      const err = await mixed.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetriesExceededError);
      await expect(other).resolves.toMatchObject([{ partition: 1 }]);
    });

    it('resolves an empty send to [] without a request', async () => {
      const { log, producer } = setup();
      await expect(producer.send({ topic: 'orders', messages: [] })).resolves.toEqual([]);
      expect(log.requests).toHaveLength(0);
    });
  });

  describe('Method: flush', () => {
    it('sends what waits for lingerMs at once and resolves when the sends have settled', async () => {
      const { log, producer } = setup({ producer: { lingerMs: 60_000 } });
      const sent = producer.send({ topic: 'orders', messages: [{ value: 1, partition: 0 }, { value: 2, partition: 1 }] });
      let flushed = false;
      const flush = producer.flush().then(() => (flushed = true));
      await settle();
      await flush;
      expect(flushed).toBe(true);
      expect(log.calls).toHaveLength(2);
      await expect(sent).resolves.toHaveLength(2);
    });

    it('batches the messages of sends made in the same tick, also while flushing', async () => {
      const { log, producer } = setup();
      const sends = [1, 2, 3].map((value) => producer.send({ topic: 'orders', messages: [{ value }] }));
      await producer.disconnect();
      await Promise.all(sends);
      expect(log.calls.map((c) => c.events.map((e) => e.value))).toEqual([[1, 2, 3]]);
    });

    it('does not reject when a send failed (the send reports it)', async () => {
      const { producer } = setup();
      const failed = producer.send({ topic: 'orders', messages: [{ value: 1, partition: 9 }] });
      await expect(producer.flush()).resolves.toBeUndefined();
      await expect(failed).rejects.toBeInstanceOf(PartitionNotFoundError);
    });
  });

  describe('Method: disconnect', () => {
    it('flushes, then refuses new sends', async () => {
      const { log, producer } = setup({ producer: { lingerMs: 60_000 } });
      const sent = producer.send({ topic: 'orders', messages: [{ value: 1 }] });
      await producer.disconnect();
      await expect(sent).resolves.toHaveLength(1);
      expect(log.calls).toHaveLength(1);
      await expect(producer.send({ topic: 'orders', messages: [{ value: 2 }] })).rejects.toBeInstanceOf(ProducerDisconnectedError);
      await expect(producer.disconnect()).resolves.toBeUndefined();
    });
  });
});
