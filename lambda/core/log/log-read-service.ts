/**
 * The read side of the log: fetch by offset or timestamp (with long polls), partition bounds and
 * offsets for describe, seek and consumer groups. It needs the topics table and the log table and
 * nothing else, so the functions that only read (topics, fetch, groups, topic-purge) are never
 * given the dedupe table. LogService adds produce on top of it.
 */
import { OffsetOutOfRangeError, PartitionNotFoundError, TopicNotFoundError } from '../../../api/errors';
import { FETCH_LIMITS, type FetchQuery, type FetchResponse } from '../../../api/events';
import { RETRY_DEFAULTS } from '../../../api/retry';
import type { TopicConfig } from '../../../api/topics';
import { TopicConfigCache } from '../topics/topic-config-cache';
import type { TopicStore } from '../topics/topic-store';
import type { LogReadStore } from './log-store';
import { LogReader } from './log-reader';
import { ResponseBudget } from './response-budget';

export interface LogReadServiceOptions {
  readonly topics: TopicStore;
  readonly log: LogReadStore;
  /** @default Date.now */
  readonly now?: () => number;
  /** Pause between head reads while long-polling, in ms. @default 100 */
  readonly pollIntervalMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How long produce reuses a topic's configuration (Kafka clients reuse metadata the same way). */
export const TOPIC_CONFIG_CACHE_MS = 2_000;
/**
 * How long a group's check for new events reuses it: only its topicId and partition count matter
 * there, and a stale one costs at most a fetch that finds nothing (or a fresh read for a partition
 * it does not know).
 */
export const HINT_CONFIG_CACHE_MS = 30_000;

export class LogReadService {
  protected readonly topics: TopicStore;
  /** Topic configurations as this instance last read them (cachedTopic). */
  protected readonly configs: TopicConfigCache;
  protected readonly now: () => number;
  protected readonly sleep: (ms: number) => Promise<void>;
  private readonly pollIntervalMs: number;
  private readonly reader: LogReader;

  constructor(options: LogReadServiceOptions) {
    this.topics = options.topics;
    this.now = options.now ?? Date.now;
    this.configs = new TopicConfigCache(options.topics, this.now);
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.sleep = options.sleep ?? RETRY_DEFAULTS.sleep;
    this.reader = new LogReader(options.log, this.now);
  }

  /**
   * Events of one partition. The answer stops before the event that would take it past the
   * response size limits (`budget`, shared when one answer spans several fetches); at least one
   * event is returned when there is one.
   */
  async fetch(topicName: string, partition: number, query: FetchQuery, budget = new ResponseBudget()): Promise<FetchResponse> {
    // The configuration as cached (TOPIC_CONFIG_CACHE_MS): a deleted topic's head is a tombstone,
    // and then, or for a partition it does not know, the topic is read again.
    let config = await this.configCovering(topicName, [partition], TOPIC_CONFIG_CACHE_MS);
    this.requirePartition(config, partition);
    let head = await this.reader.readHead(config, partition);
    if (head.deleted) {
      config = await this.cachedTopic(topicName, 0);
      this.requirePartition(config, partition);
      head = await this.reader.readHead(config, partition);
    }
    const now = this.now();
    const logStartOffset = await this.reader.logStartOffset(config, partition, head, now);

    let start: number;
    if (query.timestamp !== undefined) {
      start = await this.reader.offsetForTimestamp(config, partition, query.timestamp, logStartOffset, head);
    } else if (query.offset === 'latest') {
      start = head.nextOffset;
    } else if (query.offset === undefined || query.offset === 'earliest') {
      start = logStartOffset;
    } else {
      start = query.offset;
      if (start < logStartOffset || start > head.nextOffset) {
        throw new OffsetOutOfRangeError(
          `Offset ${start} is outside partition ${partition} of "${topicName}": ` +
            `log start ${logStartOffset}, high watermark ${head.nextOffset}`,
          { details: { offset: start, logStartOffset, highWatermark: head.nextOffset } },
        );
      }
    }

    if (start >= head.nextOffset && query.waitMs) {
      const deadline = this.now() + query.waitMs;
      while (head.nextOffset <= start && this.now() < deadline) {
        await this.sleep(Math.min(this.pollIntervalMs, Math.max(0, deadline - this.now())));
        head = await this.reader.readHead(config, partition);
      }
    }

    const read = await this.reader.readFrom(config, partition, start, head, query.limit ?? FETCH_LIMITS.defaultLimit, budget);
    return { events: read.events, nextOffset: read.nextOffset, highWatermark: head.nextOffset, logStartOffset };
  }

  /** The topic's ID and the partition's log start and high watermark, now. */
  async bounds(topicName: string, partition: number): Promise<{ topicId: string; logStartOffset: number; highWatermark: number }> {
    const config = await this.requireTopic(topicName);
    this.requirePartition(config, partition);
    const head = await this.reader.readHead(config, partition);
    const logStartOffset = await this.reader.logStartOffset(config, partition, head, this.now());
    return { topicId: config.topicId, logStartOffset, highWatermark: head.nextOffset };
  }

  /**
   * High watermarks of some partitions of a topic, as a hint: a consumer group checks its
   * partitions this way before fetching (consistently) only those with new events. So the cheap
   * reads: the topic's configuration as cached (HINT_CONFIG_CACHE_MS), and the heads batched and
   * eventually consistent (a mark a moment old finds the new events on the next check).
   */
  async highWatermarks(topicName: string, partitions: readonly number[]): Promise<Map<number, number>> {
    let config = await this.configCovering(topicName, partitions, HINT_CONFIG_CACHE_MS);
    for (const p of partitions) this.requirePartition(config, p);
    let heads = await this.reader.readHeadsOf(config, partitions, { consistent: false });
    if ([...heads.values()].some((h) => h.deleted)) {
      // The cached topic was deleted (and maybe re-created): look again.
      config = await this.cachedTopic(topicName, 0);
      for (const p of partitions) this.requirePartition(config, p);
      heads = await this.reader.readHeadsOf(config, partitions, { consistent: false });
    }
    return new Map([...heads].map(([p, head]) => [p, head.nextOffset]));
  }

  /** Log start and high watermark of every partition of a topic (for describe). */
  partitionOffsets(config: TopicConfig): Promise<{ partition: number; logStartOffset: number; highWatermark: number }[]> {
    return this.reader.partitionOffsets(config);
  }

  /** The first offset at or after `timestamp` (the high watermark when there is none). */
  async offsetForTime(topicName: string, partition: number, timestamp: number): Promise<number> {
    const config = await this.requireTopic(topicName);
    this.requirePartition(config, partition);
    const head = await this.reader.readHead(config, partition);
    const logStartOffset = await this.reader.logStartOffset(config, partition, head, this.now());
    return this.reader.offsetForTimestamp(config, partition, timestamp, logStartOffset, head);
  }

  /**
   * The topic's configuration, read less than `maxAgeMs` ago (TOPIC_CONFIG_CACHE_MS unless told;
   * 0: read now): for produce and fetch, which catch a deleted topic by its tombstoned heads, and for hints.
   */
  protected async cachedTopic(name: string, maxAgeMs = TOPIC_CONFIG_CACHE_MS): Promise<TopicConfig> {
    return (await this.configs.get(name, maxAgeMs)) ?? topicNotFound(name);
  }

  /** As cachedTopic, but read again when the cached one lacks one of `partitions` (the topic grew). */
  private async configCovering(name: string, partitions: readonly number[], maxAgeMs: number): Promise<TopicConfig> {
    const config = await this.cachedTopic(name, maxAgeMs);
    return partitions.every((p) => p < config.partitions) ? config : this.cachedTopic(name, 0);
  }

  protected async requireTopic(name: string): Promise<TopicConfig> {
    return (await this.topics.getTopic(name)) ?? topicNotFound(name);
  }

  protected requirePartition(config: TopicConfig, partition: number): void {
    if (partition >= config.partitions) {
      throw new PartitionNotFoundError(
        `Topic "${config.name}" has partitions 0 to ${config.partitions - 1}; there is no partition ${partition}`,
        { details: { topic: config.name, partition, partitions: config.partitions } },
      );
    }
  }
}

function topicNotFound(name: string): never {
  throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
}
