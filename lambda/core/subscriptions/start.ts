/** Where a subscription starts on a partition it has no cursor for. */
import type { LogReadService } from '../log/log-read-service';
import type { Subscription } from './subscription-store';

/**
 * `earliest`: the log start; a timestamp: the first event at or after it; `latest`: `from` when
 * given (the first batch the dispatcher saw, for subscriptions whose cursors are made lazily),
 * else the high watermark now.
 */
export async function startOffset(log: LogReadService, sub: Subscription, partition: number, from?: number): Promise<number> {
  const { startAt } = sub;
  if (startAt === 'latest') return from ?? (await log.bounds(sub.topic, partition)).highWatermark;
  if (startAt === 'earliest') return (await log.bounds(sub.topic, partition)).logStartOffset;
  return log.offsetForTime(sub.topic, partition, startAt.timestamp);
}
