/**
 * A fake Sluice service behind `routedFetch` for Producer tests: describes the topic `orders` and
 * appends produce requests with gapless offsets per partition. With `hold`, every produce request
 * stays in flight until the test releases it (with the normal answer or a scripted reply).
 */
import type { ProduceEvent, ProduceResult } from '../../../api/events';
import { routedFetch, TOPIC_DESCRIPTION, type RecordedRequest, type Reply } from './fake-fetch';

export interface ProduceCall {
  readonly partition: number;
  readonly events: ProduceEvent[];
  /** The idempotent producer's stamp of the request, if any. */
  readonly producer?: { readonly id: string; readonly epoch: number; readonly sequence: number };
  /** Answers the request: the append by default, or the given reply (an error, a 500, ...). */
  release(reply?: Reply): void;
}

export function fakeLog(options: { readonly partitions?: number; readonly hold?: boolean } = {}) {
  const partitions = options.partitions ?? TOPIC_DESCRIPTION.partitions;
  const description = {
    ...TOPIC_DESCRIPTION,
    partitions,
    partitionOffsets: Array.from({ length: partitions }, (_, partition) => ({ partition, logStartOffset: 0, highWatermark: 0 })),
  };
  const nextOffset = new Map<number, number>();
  /** Every produce request, in arrival order (retries included). */
  const calls: ProduceCall[] = [];
  /** Requests not answered yet (with `hold`). */
  const held: ProduceCall[] = [];
  const open = new Map<number, number>();
  let maxOpenPerPartition = 0;

  const append = (events: readonly ProduceEvent[]): Reply => {
    const results: ProduceResult[] = events.map((e) => {
      const offset = nextOffset.get(e.partition!) ?? 0;
      nextOffset.set(e.partition!, offset + 1);
      // As the service: an event without a message ID gets one (the idempotent producer's are stable).
      return { partition: e.partition!, offset, messageId: e.messageId ?? `assigned-${e.partition!}-${offset}`, duplicate: false };
    });
    return { status: 200, body: { results } };
  };

  const { fetch, requests } = routedFetch((request: RecordedRequest) => {
    const path = new URL(request.url).pathname;
    if (request.method === 'GET' && path === '/topics/orders') return { status: 200, body: description };
    if (request.method === 'GET' && path.startsWith('/topics/')) {
      return { status: 404, body: { error: { code: 'TopicNotFound', message: 'no such topic', topic: path.slice(8) } } };
    }
    if (request.method !== 'POST' || path !== '/topics/orders/events') {
      return { status: 404, body: { error: { code: 'NotFound', message: `No route for ${request.method} ${path}` } } };
    }
    const { events, producer } = JSON.parse(request.body!) as { events: ProduceEvent[]; producer?: ProduceCall['producer'] };
    const partition = events[0]!.partition!;
    open.set(partition, (open.get(partition) ?? 0) + 1);
    maxOpenPerPartition = Math.max(maxOpenPerPartition, open.get(partition)!);
    return new Promise<Reply>((resolve) => {
      const call: ProduceCall = {
        partition,
        events,
        ...(producer ? { producer } : {}),
        release(reply) {
          held.splice(held.indexOf(call), 1);
          open.set(partition, open.get(partition)! - 1);
          resolve(reply ?? append(events));
        },
      };
      calls.push(call);
      held.push(call);
      if (!options.hold) call.release();
    });
  });

  return {
    fetch,
    requests,
    calls,
    held,
    /** Most produce requests ever open at once for one partition. */
    maxOpenPerPartition: () => maxOpenPerPartition,
    describeCount: () => requests.filter((r) => r.method === 'GET').length,
  };
}
