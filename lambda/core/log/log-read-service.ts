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

export class LogReadService {
  protected readonly topics: TopicStore;
  protected readonly now: () => number;
  protected readonly sleep: (ms: number) => Promise<void>;
  private readonly pollIntervalMs: number;
  private readonly reader: LogReader;

  constructor(options: LogReadServiceOptions) {
    this.topics = options.topics;
    this.now = options.now ?? Date.now;
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
    const config = await this.requireTopic(topicName);
    this.requirePartition(config, partition);
    const now = this.now();
    let head = await this.reader.readHead(config, partition);
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

    const read = await this.reader.readFrom(config, partition, start, head.nextOffset, query.limit ?? FETCH_LIMITS.defaultLimit, budget);
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
   * High watermarks of some partitions of a topic: one topic read and batched head reads (a
   * consumer group checks its partitions this way before fetching only those with new events).
   */
  async highWatermarks(topicName: string, partitions: readonly number[]): Promise<Map<number, number>> {
    const config = await this.requireTopic(topicName);
    for (const p of partitions) this.requirePartition(config, p);
    const heads = await this.reader.readHeadsOf(config, partitions);
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

  protected async requireTopic(name: string): Promise<TopicConfig> {
    const config = await this.topics.getTopic(name);
    if (!config) throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
    return config;
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
