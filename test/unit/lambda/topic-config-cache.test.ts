/**
 * TopicConfigCache: each caller's max age, fresh reads, forgetting, missing topics never cached, and
 * the bound on its size; and CachingTopicStore, the runtime's TopicStore view of it.
 */
import { describe, expect, it } from 'vitest';
import { TOPIC_DEFAULTS, type TopicConfig } from '../../../api/topics';
import { MAX_CACHED_TOPICS, TopicConfigCache } from '../../../lambda/core/topics/topic-config-cache';
import { MemoryTopicStore } from '../../support/memory-topic-store';
import { CachingTopicStore, TOPIC_CACHE_MS } from '../../../lambda/streams/runtime/topics';


const topic = (name: string, topicId = `id-${name}`, partitions = 3): TopicConfig => ({
  name,
  topicId,
  partitions,
  retentionMs: TOPIC_DEFAULTS.retentionMs,
  dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
  createdAt: '2026-12-01T00:00:00.000Z',
});

function setup() {
  const store = new MemoryTopicStore();
  let time = 1_000_000;
  const clock = { now: () => time, advance: (ms: number) => (time += ms) };
  return { store, clock, cache: new TopicConfigCache(store, clock.now) };
}

describe('TopicConfigCache', () => {
  it('answers from the cache while younger than the max age, and reads again once it is that old', async () => {
    const { store, clock, cache } = setup();
    await store.createTopic(topic('orders'));
    expect(await cache.get('orders', 2_000)).toEqual(topic('orders'));
    await store.updateTopic('orders', { partitions: 6 });
    clock.advance(1_999);
    expect((await cache.get('orders', 2_000))?.partitions).toBe(3);
    expect(store.reads).toBe(1);
    clock.advance(1);
    expect((await cache.get('orders', 2_000))?.partitions).toBe(6);
    expect(store.reads).toBe(2);
  });

  it('lets each caller choose its max age over the same entries', async () => {
    const { store, clock, cache } = setup();
    await store.createTopic(topic('orders'));
    await cache.get('orders', 2_000);
    await store.updateTopic('orders', { partitions: 6 });
    clock.advance(5_000);
    expect((await cache.get('orders', 30_000))?.partitions).toBe(3);
    expect((await cache.get('orders', 2_000))?.partitions).toBe(6);
    // The 2 s caller's read refreshed the entry for the 30 s caller too.
    expect((await cache.get('orders', 30_000))?.partitions).toBe(6);
    expect(store.reads).toBe(2);
  });

  it('reads every time with max age 0 or fresh, and caches what it read for the others', async () => {
    const { store, cache } = setup();
    await store.createTopic(topic('orders'));
    await cache.get('orders', 60_000);
    await store.deleteTopic('orders', 'id-orders');
    await store.createTopic(topic('orders', 'id-again'));
    expect((await cache.get('orders', 60_000))?.topicId).toBe('id-orders');
    expect((await cache.get('orders', 0))?.topicId).toBe('id-again');
    expect((await cache.fresh('orders'))?.topicId).toBe('id-again');
    expect((await cache.get('orders', 60_000))?.topicId).toBe('id-again');
    expect(store.reads).toBe(3);
  });

  it('does not cache a missing topic, and a read that finds it gone drops the cached one', async () => {
    const { store, cache } = setup();
    expect(await cache.get('orders', 60_000)).toBeUndefined();
    await store.createTopic(topic('orders'));
    expect(await cache.get('orders', 60_000)).toEqual(topic('orders'));
    await store.deleteTopic('orders', 'id-orders');
    expect(await cache.fresh('orders')).toBeUndefined();
    expect(await cache.get('orders', 60_000)).toBeUndefined();
    expect(store.reads).toBe(4);
  });

  it('reads a forgotten topic again', async () => {
    const { store, cache } = setup();
    await store.createTopic(topic('orders'));
    await cache.get('orders', 60_000);
    await store.updateTopic('orders', { retentionMs: 1_000 });
    cache.forget('orders');
    expect((await cache.get('orders', 60_000))?.retentionMs).toBe(1_000);
    expect(store.reads).toBe(2);
  });

  it(`holds at most ${MAX_CACHED_TOPICS} topics: one more starts it again empty`, async () => {
    const { store, cache } = setup();
    for (let i = 0; i <= MAX_CACHED_TOPICS; i++) await store.createTopic(topic(`t${i}`));
    for (let i = 0; i < MAX_CACHED_TOPICS; i++) await cache.get(`t${i}`, 60_000);
    // Reading again a topic it holds, when full, keeps the others.
    await cache.get('t0', 0);
    await cache.get('t1', 60_000);
    expect(store.reads).toBe(MAX_CACHED_TOPICS + 1);
    await cache.get(`t${MAX_CACHED_TOPICS}`, 60_000);
    await cache.get('t1', 60_000);
    expect(store.reads).toBe(MAX_CACHED_TOPICS + 3);
  });
});

describe('CachingTopicStore', () => {
  it(`trusts a topic for TOPIC_CACHE_MS, and forgets one it writes`, async () => {
    const store = new MemoryTopicStore();
    let time = 0;
    const topics = new CachingTopicStore(store, () => time);
    await topics.createTopic(topic('orders'));
    await topics.getTopic('orders');
    await store.updateTopic('orders', { partitions: 6 });
    time += TOPIC_CACHE_MS - 1;
    expect((await topics.getTopic('orders'))?.partitions).toBe(3);
    time += 1;
    expect((await topics.getTopic('orders'))?.partitions).toBe(6);
    await topics.updateTopic('orders', { retentionMs: 1_000 });
    expect((await topics.getTopic('orders'))?.retentionMs).toBe(1_000);
    await topics.deleteTopic('orders', 'id-orders');
    expect(await topics.getTopic('orders')).toBeUndefined();
    expect(store.reads).toBe(4);
  });
});
