import { describe, expect, it } from 'vitest';
import { TopicNotFoundError } from '../../../api/errors';
import { TOPIC_DEFAULTS, type TopicConfig } from '../../../api/topics';
import type { PurgeJob, PurgeQueue } from '../../../lambda/core/topics/purge-queue';
import { TopicService, TopicStillLiveError } from '../../../lambda/core/topics/topic-service';
import { MemoryTopicStore } from '../../support/memory-topic-store';


function setup() {
  const store = new MemoryTopicStore();
  const jobs: PurgeJob[] = [];
  const purgeQueue: PurgeQueue = {
    enqueue: async (job) => {
      store.calls.push(`enqueue ${job.name}`);
      jobs.push(job);
    },
  };
  let id = 0;
  const offsets = { partitionOffsets: async (config: TopicConfig) => Array.from({ length: config.partitions }, (_, partition) => ({ partition, logStartOffset: 1, highWatermark: 5 })) };
  const service = new TopicService({
    store,
    offsets,
    purgeQueue,
    now: () => new Date('2026-11-25T00:00:00Z'),
    newTopicId: () => `id-${++id}`,
  });
  return { store, jobs, service };
}

describe('Class: TopicService', () => {
  describe('Method: createTopic', () => {
    it('fills in the documented defaults, a fresh topicId and the creation time', async () => {
      const { service } = setup();
      expect(await service.createTopic({ name: 'orders' })).toEqual({
        name: 'orders',
        topicId: 'id-1',
        partitions: TOPIC_DEFAULTS.partitions,
        retentionMs: TOPIC_DEFAULTS.retentionMs,
        dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
        createdAt: '2026-11-25T00:00:00.000Z',
      });
    });
  });

  describe('Method: describeTopic', () => {
    it('adds every partition’s log start and high watermark to the config', async () => {
      const { service } = setup();
      const config = await service.createTopic({ name: 't', partitions: 2 });
      expect(await service.describeTopic('t')).toEqual({
        ...config,
        partitionOffsets: [
          { partition: 0, logStartOffset: 1, highWatermark: 5 },
          { partition: 1, logStartOffset: 1, highWatermark: 5 },
        ],
      });
    });

    it('throws TopicNotFound for an unknown topic', async () => {
      await expect(setup().service.describeTopic('nope')).rejects.toBeInstanceOf(TopicNotFoundError);
    });
  });

  describe('Method: deleteTopic', () => {
    it('enqueues the purge before deleting, so a failed enqueue leaves the topic in place', async () => {
      const { service, store, jobs } = setup();
      await service.createTopic({ name: 't', partitions: 2 });
      await service.deleteTopic('t');
      expect(store.calls).toEqual(['enqueue t', 'delete t']);
      expect(jobs).toEqual([{ name: 't', topicId: 'id-1', partitions: 2 }]);
    });

    it('enqueues nothing for an unknown topic', async () => {
      const { service, jobs } = setup();
      await expect(service.deleteTopic('nope')).rejects.toBeInstanceOf(TopicNotFoundError);
      expect(jobs).toEqual([]);
    });
  });

  describe('Method: purgeDeletedTopic', () => {
    it('purges every partition of a deleted topic', async () => {
      const { service, store } = setup();
      expect(await service.purgeDeletedTopic({ name: 'old', topicId: 'x', partitions: 3 })).toBe(6);
      expect(store.calls).toEqual(['purge x#0', 'purge x#1', 'purge x#2']);
    });

    it('purges the old incarnation of a re-created topic', async () => {
      const { service, store } = setup();
      await service.createTopic({ name: 'again' });
      expect(await service.purgeDeletedTopic({ name: 'again', topicId: 'previous', partitions: 1 })).toBe(2);
      expect(store.topics.has('again')).toBe(true);
    });

    it('refuses, retriably, while the topic still exists under that topicId', async () => {
      const { service, store } = setup();
      await service.createTopic({ name: 'live' });
      const err = await service.purgeDeletedTopic({ name: 'live', topicId: 'id-1', partitions: 1 }).catch((e) => e);
      expect(err).toBeInstanceOf(TopicStillLiveError);
      expect(err.retriable).toBe(true);
      expect(store.calls).toEqual([]);
    });
  });
});
