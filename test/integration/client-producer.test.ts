/**
 * The client and its Producer against the local platform (real handlers, DynamoDB Local and the
 * SQS server): batching, ordering and gapless offsets, exactly-once retries, long polls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../api/partitioner';
import { SluiceClient, type FetchedEvent, type ProduceResult } from '../../client';
import type { Platform } from '../../local/platform';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
let client: SluiceClient;

beforeAll(async () => {
  platform = await startTestPlatform('client');
  client = new SluiceClient({ endpoint: platform.endpoint });
});

afterAll(async () => {
  await platform?.stop();
});

/** Every event of a partition, page after page. */
async function readAll(topic: string, partition: number): Promise<FetchedEvent[]> {
  const events: FetchedEvent[] = [];
  let offset = 0;
  for (;;) {
    const page = await client.fetch(topic, partition, { offset, limit: 1000 });
    events.push(...page.events);
    if (page.nextOffset >= page.highWatermark) return events;
    offset = page.nextOffset;
  }
}

async function highWatermarks(topic: string): Promise<number[]> {
  return (await client.describeTopic(topic)).partitionOffsets.map((p) => p.highWatermark);
}

describe('Producer', () => {
  it('sends 500 keyed events from concurrent sends in order per key, with gapless offsets per partition', async () => {
    await client.createTopic({ name: 'keyed', partitions: 3 });
    const keys = Array.from({ length: 25 }, (_, i) => `customer-${i}`);
    const seq = new Map<string, number>();
    const messages = Array.from({ length: 500 }, (_, i) => {
      const key = keys[(i * 7) % keys.length]!;
      const n = seq.get(key) ?? 0;
      seq.set(key, n + 1);
      return { key, value: { key, seq: n } };
    });

    const producer = client.producer();
    const chunks = Array.from({ length: 10 }, (_, c) => messages.slice(c * 50, c * 50 + 50));
    const results = (await Promise.all(chunks.map((chunk) => producer.send({ topic: 'keyed', messages: chunk })))).flat();
    await producer.disconnect();

    expect(results).toHaveLength(500);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const byId = new Map<string, ProduceResult>(results.map((r) => [r.messageId, r]));
    const fetched = (await Promise.all([0, 1, 2].map((p) => readAll('keyed', p)))).flat();
    expect(fetched).toHaveLength(500);

    for (const partition of [0, 1, 2]) {
      const offsets = fetched.filter((e) => e.partition === partition).map((e) => e.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    for (const event of fetched) {
      expect(event.partition).toBe(partitionForKey(event.key!, 3));
      expect(byId.get(event.messageId)).toEqual({ partition: event.partition, offset: event.offset, messageId: event.messageId, duplicate: false });
    }
    for (const key of keys) {
      const sequence = fetched.filter((e) => e.key === key).map((e) => (e.value as { seq: number }).seq);
      expect(sequence).toEqual(sequence.map((_, i) => i));
    }
    expect((await highWatermarks('keyed')).reduce((a, b) => a + b, 0)).toBe(500);
  });
});

describe('Producer, idempotent by default', () => {
  it('appends each event once when requests time out after the append and are retried, with no message IDs', async () => {
    await client.createTopic({ name: 'idempotent', partitions: 2 });
    // Every other produce response is lost after the service appended (as a timeout would); the
    // client retries the same request.
    let posts = 0;
    let lost = 0;
    const losingClient = new SluiceClient({
      endpoint: platform.endpoint,
      retry: { sleep: async () => undefined },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && String(input).endsWith('/events') && posts++ % 2 === 0) {
          lost++;
          await response.text();
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        }
        return response;
      },
    });
    const producer = losingClient.producer({ batchSize: 5, lingerMs: 0 });
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: `k-${i % 7}`, value: { n: i } }));
    const results = (await Promise.all([0, 1, 2].map((c) => producer.send({ topic: 'idempotent', messages: messages.slice(c * 20, c * 20 + 20) })))).flat();
    await producer.disconnect();

    const stored = [...(await readAll('idempotent', 0)), ...(await readAll('idempotent', 1))];
    const seen = new Map<number, number>();
    for (const e of stored) seen.set((e.value as { n: number }).n, (seen.get((e.value as { n: number }).n) ?? 0) + 1);
    const duplicates = [...seen.values()].filter((c) => c > 1).length;
    const lostEvents = messages.filter((m) => !seen.has(m.value.n)).length;
    console.log(`Producer under lost responses: ${messages.length} sent, ${lost} responses lost and retried, ${stored.length} stored, ${duplicates} duplicates, ${lostEvents} lost`);
    expect(lost).toBeGreaterThan(0);
    expect(duplicates).toBe(0);
    expect(lostEvents).toBe(0);
    expect(stored).toHaveLength(messages.length);
    // Each answer names where its event is, though the answer that said so first was lost.
    const byMessageId = new Map(stored.map((e) => [e.messageId, e]));
    results.forEach((r, i) => expect((byMessageId.get(r.messageId)?.value as { n: number }).n).toBe(i));
  });
});

describe('SluiceClient', () => {
  it('answers a produce retried with the same message IDs as duplicate, and appends nothing', async () => {
    await client.createTopic({ name: 'exactly-once', partitions: 2 });
    // The first response is lost after the append succeeded; the client retries the same request.
    let lost = false;
    const losingClient = new SluiceClient({
      endpoint: platform.endpoint,
      retry: { sleep: async () => undefined },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && !lost) {
          lost = true;
          await response.text();
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        }
        return response;
      },
    });
    const events = [
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { value: 3, partition: 1 },
    ];
    const retried = await losingClient.produce('exactly-once', events);
    expect(lost).toBe(true);
    expect(retried.every((r) => r.duplicate)).toBe(true);
    const watermarks = await highWatermarks('exactly-once');
    expect(watermarks.reduce((a, b) => a + b, 0)).toBe(3);

    // Sent again on purpose with the same IDs: the original places, nothing appended.
    const again = await client.produce('exactly-once', events.map((e, i) => ({ ...e, messageId: retried[i]!.messageId })));
    expect(again).toEqual(retried);
    expect(await highWatermarks('exactly-once')).toEqual(watermarks);
    const stored = [...(await readAll('exactly-once', 0)), ...(await readAll('exactly-once', 1))];
    expect(stored.map((e) => e.messageId).sort()).toEqual(retried.map((r) => r.messageId).sort());
  });

  it('returns, from a long poll, an event produced while it waits', async () => {
    await client.createTopic({ name: 'long-poll', partitions: 1 });
    // Offset 0 of an empty partition: the fetch waits (unless the produce wins the race, which
    // returns the same answer). Had the wait run out first, the events would be empty.
    const polled = client.fetch('long-poll', 0, { offset: 0, waitMs: 15_000 });
    const [produced] = await client.produce('long-poll', [{ key: 'k', value: 'hello' }]);
    const response = await polled;
    expect(response.events).toMatchObject([{ offset: 0, key: 'k', value: 'hello', messageId: produced!.messageId }]);
    expect(response).toMatchObject({ nextOffset: 1, highWatermark: 1, logStartOffset: 0 });
  });
});

describe('describe and fetch agree', () => {
  it('describeTopic reports the log start offset that fetch uses, after retention hid events', async () => {
    await client.createTopic({ name: 'retention-start', partitions: 1, retentionMs: 1000 });
    await client.produce('retention-start', [{ value: 'expired', timestamp: Date.now() - 60_000 }, { value: 'live' }]);
    const fetched = await client.fetch('retention-start', 0);
    expect(fetched.logStartOffset).toBe(1);
    const described = await client.describeTopic('retention-start');
    expect(described.partitionOffsets[0]!.logStartOffset).toBe(fetched.logStartOffset);
    const fromStart = await client.fetch('retention-start', 0, { offset: described.partitionOffsets[0]!.logStartOffset });
    expect(fromStart.events.map((e) => [e.offset, e.value])).toEqual([[1, 'live']]);
  });
});
