/**
 * What an idle consumer-group member costs: a real `Consumer` (client/consumer.ts, its defaults)
 * against the groups handler in-process, with the real clock. After it settles, every call it makes
 * in a measured idle minute is counted: API requests, the handler's wall time (what Lambda bills as
 * Duration), and DynamoDB units by the documented rules. $/month = that minute × 43,800 (730 h).
 * Then one event is produced and the time until the member's handler has it is the fetch latency
 * of an idle member.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { matchRoute, routeKey } from '../definitions/functions';
import { DynamoDbGroupStore } from '../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../lambda/core/groups/group-service';
import { LogService } from '../lambda/core/log/log-service';
import { DynamoDbLogStore } from '../lambda/core/log/dynamodb-log-store';
import { silentLogger } from '../lambda/core/logger';
import { createGroupsHandler } from '../lambda/handlers/groups';
import { SluiceClient } from '../client/sluice-client';
import type { Consumer } from '../client/consumer';
import { createTopic, type Bench } from './harness';
import { LAMBDA, PRICES } from './report';
import { httpEvent } from './scenarios';

export const MINUTES_PER_MONTH = 730 * 60;

export interface IdleMemberResult {
  readonly label: string;
  readonly options: Record<string, number>;
  readonly partitions: number;
  readonly measuredSeconds: number;
  /** Calls per route in the measured window. */
  readonly calls: Record<string, number>;
  readonly lambdaSeconds: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Per month (730 h), from the measured window scaled up. */
  readonly perMonth: {
    readonly requests: number;
    readonly apiGateway: number;
    readonly lambdaRequests: number;
    readonly lambdaCompute: number;
    readonly dynamodb: number;
    readonly total: number;
  };
  /** ms from the produce call to the member's handler seeing the event, after the idle window. */
  readonly fetchLatencyMs: number;
}

/**
 * Runs one member: `settleSeconds` to reach its idle rhythm, `measureSeconds` measured, then one
 * event produced and timed to delivery.
 */
export async function runIdleMember(
  bench: Bench,
  label: string,
  options: { readonly idlePollMs?: number; readonly settleSeconds: number; readonly measureSeconds: number },
): Promise<IdleMemberResult> {
  const log = new LogService({
    topics: bench.topics,
    log: new DynamoDbLogStore({ client: bench.client, logTable: bench.tables.log, dedupeTable: bench.tables.dedupe }),
  });
  const groups = new GroupService({ groups: new DynamoDbGroupStore(bench.client, bench.tables.groups), topics: bench.topics, log });
  const handler = createGroupsHandler(groups, silentLogger);
  const topic = `bench-idle-${randomUUID().slice(0, 8)}`;
  const partitions = 4;
  await createTopic(bench, topic, partitions, false);

  let metering = false;
  const calls: Record<string, number> = {};
  let lambdaMs = 0;
  // The client's HTTP, straight into the groups handler (an HTTP API route → the groups function).
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const match = matchRoute(method, url.pathname);
    if (!match || !('route' in match)) return new Response(null, { status: 404 });
    const key = routeKey(match.route);
    const query = Object.fromEntries(url.searchParams);
    const event = httpEvent(key, {
      rawPath: url.pathname,
      pathParameters: (match as { pathParameters: Record<string, string> }).pathParameters,
      ...(url.search ? { query } : {}),
      ...(init?.body ? { body: String(init.body) } : {}),
    });
    const start = performance.now();
    const res = (await handler(event, { awsRequestId: randomUUID(), functionName: 'sluice-groups', getRemainingTimeInMillis: () => 30_000 } as unknown as Context)) as {
      statusCode: number;
      body?: string;
    };
    if (metering) {
      lambdaMs += Math.ceil(performance.now() - start); // Lambda bills duration in whole ms
      const name = key.replace('/groups/{group}/members/{memberId}', '…/member').replace('/groups/{group}', '…');
      calls[name] = (calls[name] ?? 0) + 1;
    }
    return new Response(res.statusCode === 204 ? null : (res.body ?? null), { status: res.statusCode, headers: { 'content-type': 'application/json' } });
  };

  const client = new SluiceClient({ endpoint: 'http://127.0.0.1:1', fetch, signing: 'never' });
  const consumer: Consumer = client.consumer({ groupId: topic, ...(options.idlePollMs === undefined ? {} : { idlePollMs: options.idlePollMs }) });
  consumer.subscribe({ topic });
  let delivered: (() => void) | undefined;
  const running = consumer.run({ eachMessage: async () => delivered?.() });

  await sleep(options.settleSeconds * 1000);
  bench.sluiceMeter.take();
  metering = true;
  const started = performance.now();
  await sleep(options.measureSeconds * 1000);
  metering = false;
  const measuredSeconds = (performance.now() - started) / 1000;
  const units = bench.sluiceMeter.take();

  const arrived = new Promise<void>((resolve) => (delivered = resolve));
  const sent = performance.now();
  await log.produce(topic, [{ partition: 0, value: { idle: 'wake up' } }]);
  await arrived;
  const fetchLatencyMs = performance.now() - sent;
  await consumer.disconnect();
  await running;

  const requests = Object.values(calls).reduce((a, b) => a + b, 0);
  const scale = MINUTES_PER_MONTH / (measuredSeconds / 60);
  const lambdaSeconds = lambdaMs / 1000;
  const perMonth = {
    requests: requests * scale,
    apiGateway: (requests * scale * PRICES.httpApiRequest) / 1e6,
    lambdaRequests: (requests * scale * LAMBDA.perMillionRequests) / 1e6,
    lambdaCompute: lambdaSeconds * scale * LAMBDA.memoryGb * LAMBDA.perGbSecond,
    dynamodb: ((units.computedWrite * PRICES.writeRequestUnit + units.computedRead * PRICES.readRequestUnit) * scale) / 1e6,
    total: 0,
  };
  perMonth.total = perMonth.apiGateway + perMonth.lambdaRequests + perMonth.lambdaCompute + perMonth.dynamodb;
  return {
    label,
    options: { ...(options.idlePollMs === undefined ? {} : { idlePollMs: options.idlePollMs }) },
    partitions,
    measuredSeconds,
    calls,
    lambdaSeconds,
    writeUnits: units.computedWrite,
    readUnits: units.computedRead,
    perMonth,
    fetchLatencyMs,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
