/**
 * The subscriptions API: create, list, describe (config and status), delete, seek, dead letters
 * and redrive. Subscriptions declared in CDK are listed and described with the table's, can be
 * sought and re-driven, but not created or deleted here.
 */
import {
  InvalidRequestError,
  OffsetOutOfRangeError,
  PartitionNotFoundError,
  QueueNotFoundError,
  SubscriptionAlreadyExistsError,
  SubscriptionNotFoundError,
  SubscriptionReadOnlyError,
  TopicNotFoundError,
} from '../../../api/errors';
import {
  SUBSCRIPTION_DEFAULTS,
  type CreateSubscriptionRequest,
  type CreateSubscriptionResponse,
  type DeadLettersResponse,
  type RedriveResponse,
  type SubscriptionConfigView,
  type SubscriptionDescription,
  type SubscriptionSeekRequest,
} from '../../../api/subscriptions';
import type { TopicConfig } from '../../../api/topics';
import type { LogReadService } from '../log/log-read-service';
import type { QueueDirectory } from '../queues/queue-directory';
import type { TopicStore } from '../topics/topic-store';
import type { SubscriptionCatalog } from './catalog';
import { redrive, wakeAfterSeek, type DeliveriesQueue, type OutgoingMessage } from './messages';
import { newWebhookSecret } from './signing';
import { startOffset } from './start';
import type { Subscription } from './subscription-store';
import { checkWebhookUrl } from './webhook-address';

export interface SubscriptionServiceOptions {
  readonly catalog: SubscriptionCatalog;
  readonly topics: TopicStore;
  readonly log: LogReadService;
  readonly queue: DeliveriesQueue;
  /** The installation's message queues: a target naming one must name one that exists. */
  readonly messageQueues?: Pick<QueueDirectory, 'find'>;
  readonly allowPrivateNetworks: boolean;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface SeekResponse {
  readonly positions: readonly { readonly partition: number; readonly position: number }[];
}

export class SubscriptionService {
  private readonly now: () => number;

  constructor(private readonly options: SubscriptionServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(topicName: string, request: CreateSubscriptionRequest): Promise<CreateSubscriptionResponse> {
    const topic = await this.requireTopic(topicName);
    const { catalog } = this.options;
    const existing = await catalog.get(topic.name, topic.topicId, request.name);
    if (existing) {
      throw new SubscriptionAlreadyExistsError(`Topic "${topic.name}" already has a subscription "${request.name}"`, {
        details: { topic: topic.name, subscription: request.name, source: existing.source },
      });
    }
    let target = request.target;
    let secret: string | undefined;
    if (target.type === 'webhook') {
      try {
        checkWebhookUrl(target.url, this.options.allowPrivateNetworks);
      } catch (err) {
        throw new InvalidRequestError((err as Error).message, { details: { issues: [{ path: ['target', 'url'], message: (err as Error).message }] } });
      }
      secret = target.secret ?? newWebhookSecret();
      target = { ...target, secret };
    }
    if (target.type === 'queue' && 'queue' in target) {
      const found = this.options.messageQueues ? await this.options.messageQueues.find(target.queue) : undefined;
      if (found === undefined) throw new QueueNotFoundError(`Queue "${target.queue}" does not exist`, { details: { queue: target.queue } });
    }
    const sub: Subscription = {
      topic: topic.name,
      topicId: topic.topicId,
      name: request.name,
      target,
      ...(request.filter ? { filter: request.filter } : {}),
      startAt: request.startAt ?? SUBSCRIPTION_DEFAULTS.startAt,
      maxAttempts: request.maxAttempts ?? SUBSCRIPTION_DEFAULTS.maxAttempts,
      source: 'api',
      createdAt: new Date(this.now()).toISOString(),
    };
    // Cursors first, then the config: the dispatcher wakes the subscription only once its config
    // exists, and by then every partition has a cursor (events in between are read from the log).
    const offsets = await this.options.log.partitionOffsets(topic);
    const positions = await Promise.all(offsets.map(async (o) => ({ partition: o.partition, next: await startOffset(this.options.log, sub, o.partition) })));
    const cursors = await catalog.store.setCursors(topic.topicId, sub.name, positions);
    await catalog.store.putSubscription(sub);
    // Wake up to the high watermarks as they are now, after the config's write: a batch appended
    // since `offsets` was read may have been dispatched before the config existed (no wake-up for
    // it), and one appended later is woken by the dispatcher, which now sees the subscription.
    await this.wakeBehind(sub, cursors, await this.options.log.partitionOffsets(topic));
    return { ...view(sub), ...(secret ? { secret } : {}) };
  }

  async list(topicName: string): Promise<SubscriptionConfigView[]> {
    const topic = await this.requireTopic(topicName);
    return (await this.options.catalog.list(topic.name, topic.topicId)).map(view);
  }

  async describe(topicName: string, name: string): Promise<SubscriptionDescription> {
    const { topic, sub } = await this.requireSubscription(topicName, name);
    const { store } = this.options.catalog;
    const [cursors, offsets, deadLetters] = await Promise.all([
      store.readCursors(topic.topicId, name),
      this.options.log.partitionOffsets(topic),
      store.countDeadLetters(topic.topicId, name),
    ]);
    const partitions = offsets.map((o) => {
      const c = cursors.get(o.partition);
      const position = c ? Math.max(c.next, o.logStartOffset) : null;
      return {
        partition: o.partition,
        position: c ? c.next : null,
        highWatermark: o.highWatermark,
        lag: position === null ? 0 : Math.max(0, o.highWatermark - position),
        failedAttempts: c?.attempts ?? 0,
        ...(c?.lastError ? { lastError: c.lastError } : {}),
        ...(c?.lastDeliveredAt ? { lastDeliveredAt: c.lastDeliveredAt } : {}),
      };
    });
    return {
      ...view(sub),
      partitions,
      lag: partitions.reduce((n, p) => n + p.lag, 0),
      failing: partitions.filter((p) => p.failedAttempts > 0).length,
      deadLetters,
    };
  }

  async delete(topicName: string, name: string): Promise<void> {
    const { topic, sub } = await this.requireSubscription(topicName, name);
    if (sub.source === 'stack') {
      throw new SubscriptionReadOnlyError(`Subscription "${name}" of "${topic.name}" is declared in the stack; remove it there`, {
        details: { topic: topic.name, subscription: name },
      });
    }
    const { store } = this.options.catalog;
    if (!(await store.deleteSubscription(topic.topicId, name))) throw notFound(topic.name, name);
    // Wake-ups still queued find no config and deliver nothing.
    await store.deleteSubscriptionState(topic.topicId, name);
  }

  async seek(topicName: string, name: string, request: SubscriptionSeekRequest): Promise<SeekResponse> {
    const { topic, sub } = await this.requireSubscription(topicName, name);
    const offsets = await this.options.log.partitionOffsets(topic);
    const { to } = request;
    let positions: { partition: number; next: number }[];
    if (typeof to === 'object' && 'partition' in to) {
      const bounds = offsets[to.partition];
      if (!bounds) {
        throw new PartitionNotFoundError(`Topic "${topic.name}" has partitions 0 to ${topic.partitions - 1}; there is no partition ${to.partition}`, {
          details: { topic: topic.name, partition: to.partition, partitions: topic.partitions },
        });
      }
      if (to.offset < bounds.logStartOffset || to.offset > bounds.highWatermark) {
        throw new OffsetOutOfRangeError(
          `Offset ${to.offset} is outside partition ${to.partition} of "${topic.name}": log start ${bounds.logStartOffset}, high watermark ${bounds.highWatermark}`,
          { details: { offset: to.offset, logStartOffset: bounds.logStartOffset, highWatermark: bounds.highWatermark } },
        );
      }
      positions = [{ partition: to.partition, next: to.offset }];
    } else {
      const startAt = to === 'earliest' || to === 'latest' ? to : { timestamp: to.timestamp };
      positions = await Promise.all(
        offsets.map(async (o) => ({
          partition: o.partition,
          next:
            startAt === 'earliest'
              ? o.logStartOffset
              : startAt === 'latest'
                ? o.highWatermark
                : await this.options.log.offsetForTime(topic.name, o.partition, startAt.timestamp),
        })),
      );
    }
    const cursors = await this.options.catalog.store.setCursors(topic.topicId, name, positions);
    await this.wakeBehind(sub, cursors, offsets);
    return { positions: cursors.map((c) => ({ partition: c.partition, position: c.next })).sort((a, b) => a.partition - b.partition) };
  }

  async deadLetters(topicName: string, name: string, query: { partition?: number; limit?: number }): Promise<DeadLettersResponse> {
    const { topic } = await this.requireSubscription(topicName, name);
    const { store } = this.options.catalog;
    const [letters, total] = await Promise.all([
      store.readDeadLetters(topic.topicId, name, { ...(query.partition === undefined ? {} : { partition: query.partition }), limit: query.limit ?? 100 }),
      store.countDeadLetters(topic.topicId, name, query.partition),
    ]);
    return { deadLetters: letters, total };
  }

  async redrive(topicName: string, name: string, request: { partitions?: readonly number[] } = {}): Promise<RedriveResponse> {
    const { topic, sub } = await this.requireSubscription(topicName, name);
    const counts = await this.options.catalog.store.deadLetterPartitions(topic.topicId, name);
    const wanted = request.partitions ? new Set(request.partitions) : undefined;
    const partitions = [...counts.keys()].filter((p) => !wanted || wanted.has(p)).sort((a, b) => a - b);
    await this.options.queue.send(
      partitions.map((partition) => redrive({ subscription: sub.name, topic: topic.name, topicId: topic.topicId, partition })),
    );
    return { partitions, deadLetters: partitions.reduce((n, p) => n + (counts.get(p) ?? 0), 0) };
  }

  /** A wake-up for every partition whose cursor is behind its high watermark. */
  private async wakeBehind(
    sub: Subscription,
    cursors: readonly { partition: number; next: number; version: number }[],
    offsets: readonly { partition: number; highWatermark: number }[],
  ): Promise<void> {
    const messages: OutgoingMessage[] = [];
    for (const c of cursors) {
      const hw = offsets[c.partition]?.highWatermark ?? 0;
      if (c.next < hw) {
        messages.push(wakeAfterSeek({ subscription: sub.name, topic: sub.topic, topicId: sub.topicId, partition: c.partition, upTo: hw }, c.version));
      }
    }
    await this.options.queue.send(messages);
  }

  private async requireTopic(name: string): Promise<TopicConfig> {
    const topic = await this.options.topics.getTopic(name);
    if (!topic) throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
    return topic;
  }

  private async requireSubscription(topicName: string, name: string): Promise<{ topic: TopicConfig; sub: Subscription }> {
    const topic = await this.requireTopic(topicName);
    const sub = await this.options.catalog.get(topic.name, topic.topicId, name);
    if (!sub) throw notFound(topic.name, name);
    return { topic, sub };
  }
}

function notFound(topic: string, name: string): SubscriptionNotFoundError {
  return new SubscriptionNotFoundError(`Topic "${topic}" has no subscription "${name}"`, { details: { topic, subscription: name } });
}

/** A subscription as the API shows it: never a webhook's secret. */
export function view(sub: Subscription): SubscriptionConfigView {
  const target = sub.target.type === 'webhook' ? { type: 'webhook' as const, url: sub.target.url } : sub.target;
  return {
    topic: sub.topic,
    name: sub.name,
    target,
    ...(sub.target.type === 'webhook' ? { signed: sub.target.secret !== undefined } : {}),
    ...(sub.filter ? { filter: sub.filter } : {}),
    startAt: sub.startAt,
    maxAttempts: sub.maxAttempts,
    source: sub.source,
    ...(sub.createdAt ? { createdAt: sub.createdAt } : {}),
  };
}
