/**
 * Sluice served in-process for client tests: the real handler modules (`create…Handler`) over the
 * real services on DynamoDB Local, behind a `fetch` a SluiceClient is given. No HTTP server and no
 * worker threads, so the test can inject what the deployed functions cannot take:
 * - the group service's clock (`advance()` makes sessions time out and long polls end);
 * - the group service's `sleep`, which tells the test when a records call found nothing and waits
 *   (`whenWaiting()`: the consumer is idle), and is woken by appends, clock moves and `close()`;
 * - faults on demand (`fail()`): a request answered with an error, before or after the service ran it.
 * Every group and transaction request is written to `trace` with what the service answered, and
 * tests add their handler's steps to it, so the order of commits and processing can be asserted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import type { ProduceEvent } from '../../api/events';
import { matchRoute, routeKey, type FunctionName } from '../../definitions/functions';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { silentLogger } from '../../lambda/core/logger';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { SqsPurgeQueue } from '../../lambda/core/topics/purge-queue';
import { TopicService } from '../../lambda/core/topics/topic-service';
import { TransactionService } from '../../lambda/core/transactions/transaction-service';
import { createFallbackHandler } from '../../lambda/handlers/fallback';
import { createFetchHandler } from '../../lambda/handlers/fetch';
import { createGroupsHandler } from '../../lambda/handlers/groups';
import { createProduceHandler } from '../../lambda/handlers/produce';
import { createTopicsHandler } from '../../lambda/handlers/topics';
import { createTransactionsHandler } from '../../lambda/handlers/transactions';
import type { HttpLambdaHandler } from '../../lambda/middleware/http-handler';
import { emulatorClients, provisionIsolated } from './emulators';
import { httpEvent, lambdaContext } from './events';

/**
 * The group service's pause between polls of a waiting records call. Its odd value tells such a
 * wait apart from the service's other sleeps (backoffs after a lost membership race, < 400 ms).
 */
const POLL_MS = 997;

/** A fault: the HTTP status and Sluice error code the client gets. */
export interface Fault {
  readonly status: number;
  readonly code: string;
  /** 'before': the service never sees the request; 'after': it runs it, and its answer is lost. */
  readonly when: 'before' | 'after';
}

export type InProcessSluice = Awaited<ReturnType<typeof startInProcessSluice>>;

export async function startInProcessSluice(label: string, options: { readonly start?: number } = {}) {
  const resources = await provisionIsolated(label);
  const clients = emulatorClients();
  const topicStore = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  const log = new LogService({
    topics: topicStore,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
  });
  const groupStore = new DynamoDbGroupStore(clients.doc, resources.tables.groups);

  let now = options.start ?? Date.now();
  let closed = false;
  let wakeUp: () => void = () => undefined;
  let woken = new Promise<void>((resolve) => (wakeUp = resolve));
  const wake = () => {
    const resolve = wakeUp;
    woken = new Promise<void>((r) => (wakeUp = r));
    resolve();
  };
  let idle: (() => void)[] = [];
  /** The request being served: its client's abort signal. */
  const request = new AsyncLocalStorage<{ readonly signal: AbortSignal | undefined }>();

  const groups = new GroupService({
    groups: groupStore,
    topics: topicStore,
    log,
    now: () => now,
    pollIntervalMs: POLL_MS,
    sleep: async (ms) => {
      if (closed) throw new Error('in-process Sluice closed');
      // A call its client gave up on (a consumer's disconnect) stops, rather than keep polling.
      if (request.getStore()?.signal?.aborted) throw new Error('the client abandoned this request');
      if (ms !== POLL_MS) return void (await delay(ms));
      const notify = idle;
      idle = [];
      for (const resolve of notify) resolve();
      // Woken by an append, a clock move or close; re-polls on its own now and then regardless.
      await Promise.race([woken, delay(POLL_MS)]);
    },
  });
  const transactions = new TransactionService(log, groups, groupStore);
  const topics = new TopicService({ store: topicStore, offsets: log, purgeQueue: new SqsPurgeQueue(clients.sqs, resources.queues.topicPurge) });

  const handlers: Partial<Record<FunctionName, HttpLambdaHandler>> = {
    topics: createTopicsHandler(topics, silentLogger),
    produce: createProduceHandler(log, silentLogger),
    fetch: createFetchHandler(log, silentLogger),
    groups: createGroupsHandler(groups, silentLogger),
    transactions: createTransactionsHandler(transactions, silentLogger),
    fallback: createFallbackHandler(silentLogger),
  };

  const trace: string[] = [];
  const traced: { readonly match: (entry: string) => boolean; readonly resolve: () => void }[] = [];
  const note = (entry: string) => {
    if (closed) return;
    trace.push(entry);
    for (const waiter of traced.filter((w) => w.match(entry))) {
      traced.splice(traced.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const faults: { readonly method: string; readonly suffix: string; readonly fault: Fault }[] = [];
  const inFlight = new Set<Promise<unknown>>();

  /** The trace line of a group or transaction request, or undefined for other routes. */
  function describe(route: string, path: string, query: URLSearchParams, body: Record<string, unknown>, status: number, answer: unknown) {
    const offsets = (list: unknown) => ((list ?? []) as { partition: number; offset: number }[]).map((o) => `${o.partition}=${o.offset}`).join(',');
    const memberId = decodeURIComponent(path.split('/')[4] ?? '');
    let line: string;
    switch (route) {
      case 'POST /groups/{group}/members':
        line = `join ${String(body.memberId)}`;
        break;
      case 'POST /groups/{group}/members/{memberId}/heartbeat':
        line = 'heartbeat';
        break;
      case 'DELETE /groups/{group}/members/{memberId}':
        line = `leave ${memberId}`;
        break;
      case 'GET /groups/{group}/members/{memberId}/records': {
        line = query.get('commit') === 'true' ? 'records+commit' : 'records';
        if (status === 200 && (answer as { records: unknown[] }).records.length === 0) line += ' (none)';
        break;
      }
      case 'POST /groups/{group}/offsets':
        line = `commit ${offsets(body.offsets)}`;
        break;
      case 'POST /groups/{group}/seek':
        line = `seek ${(body.partitions as number[] | undefined)?.join(',') ?? '*'}=${JSON.stringify(body.to)}`;
        break;
      case 'POST /transactions':
        line = `transaction ${offsets((body.commit as { offsets?: unknown } | undefined)?.offsets)}`;
        break;
      default:
        return undefined;
    }
    if (status >= 300) line += ` -> ${status} ${(answer as { error?: { code?: string } } | undefined)?.error?.code ?? ''}`.trimEnd();
    return line;
  }

  async function serve(method: string, url: URL, body: string | undefined): Promise<{ status: number; body: string | undefined; headers: Record<string, string> }> {
    const path = url.pathname;
    const match = matchRoute(method, path);
    const route = match && 'route' in match ? match.route : undefined;
    const key = route ? routeKey(route) : '$default';
    const query: Record<string, string[]> = {};
    for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
    const event = httpEvent(key, {
      method,
      rawPath: path,
      pathParameters: route && 'pathParameters' in match! ? (match as { pathParameters: Record<string, string> }).pathParameters : undefined,
      ...(url.search ? { query } : {}),
      ...(body === undefined ? {} : { body }),
    });
    const handler = handlers[route ? route.function : 'fallback'];
    if (!handler) return { status: 501, body: JSON.stringify({ error: { code: 'NotServed', message: `${key} is not served in-process` } }), headers: {} };
    const result = await handler(event, lambdaContext as Context);
    const res = result as { statusCode: number; body?: string; headers?: Record<string, string> };
    return { status: res.statusCode, body: res.body, headers: res.headers ?? {} };
  }

  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (closed) throw new TypeError('fetch failed', { cause: new Error('in-process Sluice closed') });
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
    const signal = init?.signal ?? undefined;
    const at = faults.findIndex((f) => f.method === method && url.pathname.endsWith(f.suffix));
    const fault = at >= 0 ? faults.splice(at, 1)[0]!.fault : undefined;
    const match = matchRoute(method, url.pathname);
    const route = match && 'route' in match ? routeKey(match.route) : `${method} ${url.pathname}`;
    const parsed = (body ? JSON.parse(body) : {}) as Record<string, unknown>;

    const work = (async () => {
      if (fault?.when === 'before') return undefined;
      const served = await request.run({ signal }, () => serve(method, url, body));
      wake(); // an append may have ended someone's wait
      return served;
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    const aborted = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const served = await Promise.race([work, aborted]);
    const answer = fault
      ? { status: fault.status, body: JSON.stringify({ error: { code: fault.code, message: `injected ${fault.when} the service ran` } }), headers: {} }
      : served!;
    const answerBody = answer.body ? (JSON.parse(answer.body) as unknown) : undefined;
    const line = describe(route, url.pathname, url.searchParams, parsed, answer.status, answerBody);
    if (line) note(line);
    return new Response(answer.status === 204 ? null : (answer.body ?? null), {
      status: answer.status,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  };

  return {
    fetch,
    /** Group and transaction requests with their answers, plus what tests add. */
    trace,
    groups,
    log,
    topics,
    transactions,
    groupStore,
    /** The group service's clock. */
    now: () => now,
    /** Moves the group service's clock (sessions time out, long polls end) and wakes waiting calls. */
    advance(ms: number) {
      now += ms;
      wake();
    },
    /** Resolves the next time a records call found nothing and waits. */
    whenWaiting(): Promise<void> {
      return new Promise((resolve) => idle.push(resolve));
    },
    /** Resolves when a trace line matching `match` is written (from now on). */
    whenTraced(match: string | RegExp | ((entry: string) => boolean)): Promise<void> {
      const test = typeof match === 'function' ? match : (e: string) => (typeof match === 'string' ? e === match : match.test(e));
      return new Promise((resolve) => traced.push({ match: test, resolve }));
    },
    /** Creates a topic with `partitions` partitions (kept forever). */
    async createTopic(name: string, partitions = 2) {
      return topics.createTopic({ name, partitions, retentionMs: -1 });
    },
    /** Appends events with values `values` to partition `p` (as a producer would), and wakes waiting calls. */
    async append(topic: string, p: number, ...values: unknown[]) {
      const events: ProduceEvent[] = values.map((value) => ({ partition: p, value }));
      const result = await log.produce(topic, events);
      wake();
      return result;
    },
    /** The next `method` request whose path ends with `suffix` gets `fault` instead of the service's answer. */
    fail(method: string, suffix: string, fault: Fault) {
      faults.push({ method, suffix, fault });
    },
    /** Ends waiting calls, waits for every request in flight, and releases the clients. */
    async close() {
      closed = true;
      wake();
      await Promise.allSettled([...inFlight]);
      clients.dynamodb.destroy();
      clients.sqs.destroy();
    },
  };
}
