/**
 * The processors API over DynamoDB Local: `GET /processors` and `GET /processors/{name}` through
 * their real handler and service, reading topics and partition heads from the real log, and the
 * `processors` table as the stream runtime writes it (its own ProcessorStateStore commits the
 * items, so the format cannot drift). Lag is checked against positions set on purpose; ACLs
 * filter the listing and guard describe; the CLI renders what the API answers.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListProcessorsResponse, ProcessorDescription } from '../../api/processors';
import type { TopicConfig } from '../../api/topics';
import { run } from '../../cli/main';
import type { SluiceApi } from '../../cli/command';
import { Authorizer } from '../../lambda/core/acls/authorizer';
import { commitTransaction, WriteTransaction } from '../../lambda/core/aws/write-transaction';
import { DynamoDbLogReadStore, DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogReadService } from '../../lambda/core/log/log-read-service';
import { LogService } from '../../lambda/core/log/log-service';
import { silentLogger } from '../../lambda/core/logger';
import { decodeDeclaredProcessors } from '../../lambda/core/processors/declared';
import { DynamoDbProcessorStore, itemBytes } from '../../lambda/core/processors/dynamodb-processor-store';
import { ProcessorService } from '../../lambda/core/processors/processor-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createProcessorsHandler } from '../../lambda/handlers/processors';
import { partitionKey, ProcessorStateStore, type CommitParts } from '../../lambda/streams/runtime/state-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { httpEvent, lambdaContext } from '../support/events';

const ALICE = 'arn:aws:iam::000000000000:role/alice';
/** Commit times, in the recent past: the state's TTL is counted from them (DynamoDB Local expires items too). */
const T = Math.floor(Date.now() / 1000) * 1000 - 60_000;

describe('GET /processors over DynamoDB Local', () => {
  const clients = emulatorClients();
  let topics: DynamoDbTopicStore;
  let log: LogService;
  let state: ProcessorStateStore;
  let service: ProcessorService;
  let processorsTable: string;
  const configs = new Map<string, TopicConfig>();

  const createTopic = async (name: string, partitions: number) => {
    const config: TopicConfig = { name, topicId: randomUUID(), partitions, retentionMs: -1, dedupeWindowMs: 0, createdAt: new Date().toISOString() };
    await topics.createTopic(config);
    configs.set(name, config);
  };
  const produce = (topic: string, partition: number, n: number) =>
    log.produce(topic, Array.from({ length: n }, (_, i) => ({ partition, value: { i } })));

  /** One commit of a processor partition, as the runtime makes it (one transaction). */
  const commit = async (name: string, partition: number, parts: Omit<CommitParts, 'pk' | 'now'> & { now?: number }) => {
    const tx = new WriteTransaction();
    tx.add(state.commitPart({ pk: partitionKey(name, partition), now: Date.now(), ...parts }));
    await commitTransaction(clients.doc, tx, { operation: 'TestCommit' });
  };

  beforeAll(async () => {
    const resources = await provisionIsolated('procapi');
    processorsTable = resources.tables.processors;
    topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
    log = new LogService({
      topics,
      log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
    });
    state = new ProcessorStateStore(clients.doc, processorsTable);
    service = new ProcessorService({
      declared: [
        // Reads orders and payments (3 partitions each) and its internal topic, which does not exist yet.
        { name: 'order-payments', inputs: ['orders', 'payments', 'order-payments-repartition-0'] },
        // Deployed, never committed: its whole backlog is lag.
        { name: 'idle', inputs: ['clicks'] },
      ],
      topics,
      log: new LogReadService({ topics, log: new DynamoDbLogReadStore({ client: clients.doc, logTable: resources.tables.log }) }),
      store: new DynamoDbProcessorStore(clients.doc, processorsTable),
    });

    await createTopic('orders', 3);
    await createTopic('payments', 3);
    await createTopic('clicks', 2);
    await produce('orders', 0, 5);
    await produce('orders', 1, 2);
    await produce('payments', 0, 4);
    await produce('clicks', 1, 6);

    // Partition 0: orders processed up to 3 (2 left), payments all 4; two commits, counters added up.
    await commit('order-payments', 0, {
      expectedVersion: 0,
      meta: { streamTime: 1_000, streamTimes: { '0': 1_000 }, counters: { processed: 4, lateDropped: 1 } },
      positions: [{ topic: 'orders', offset: 2, topicId: configs.get('orders')!.topicId }],
      writes: [
        ['join-2-left', 'k1|0001', { json: JSON.stringify({ timestamp: 1, value: { big: 'x'.repeat(300) } }), expiresAt: 10_000 }],
        ['join-2-left', 'k2|0002', { json: '{"timestamp":2}' }],
      ],
      now: T,
    });
    await commit('order-payments', 0, {
      expectedVersion: 1,
      meta: { streamTime: 2_500, streamTimes: { '0': 2_500 }, counters: { processed: 7, lateDropped: 1, deadLettered: 2, joined: 3 } },
      positions: [
        { topic: 'orders', offset: 3, topicId: configs.get('orders')!.topicId },
        { topic: 'payments', offset: 4, topicId: configs.get('payments')!.topicId },
      ],
      writes: [
        ['join-2-right', 'k1|0003', { json: '{"timestamp":3}' }],
        ['join-2-left', 'k2|0002', null],
      ],
      now: T + 5_000,
    });
    // Partition 1: a position written for an earlier topic of the same name (another topicId) does
    // not count: the runtime starts a re-created topic from its start.
    await commit('order-payments', 1, {
      expectedVersion: 0,
      meta: { streamTime: 900, streamTimes: { '0': 900 }, counters: { processed: 1 } },
      positions: [{ topic: 'orders', offset: 1, topicId: randomUUID() }],
      writes: [],
      now: T + 1_000,
    });
  }, 60_000);

  afterAll(() => {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  });

  const handler = (authorizer = Authorizer.off()) => createProcessorsHandler(service, silentLogger, authorizer);
  const get = async (key: 'GET /processors' | 'GET /processors/{name}', name?: string, principalArn?: string, authorizer?: Authorizer) => {
    const res = await handler(authorizer)(
      httpEvent(key, {
        rawPath: name === undefined ? '/processors' : `/processors/${name}`,
        ...(name === undefined ? {} : { pathParameters: { name } }),
        ...(principalArn ? { principalArn } : {}),
      }),
      lambdaContext,
    );
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };

  it('describes each partition: positions against the high watermarks (lag), stream time, counters, state', async () => {
    const { status, body } = await get('GET /processors/{name}', 'order-payments');
    expect(status).toBe(200);
    const processor = body as ProcessorDescription;
    const [p0, p1, p2] = processor.partitions;
    expect(processor.partitions).toHaveLength(3);
    // The internal topic does not exist yet: it has nothing to process and is not shown per partition.
    expect(p0!.inputs).toEqual([
      { topic: 'orders', position: 3, highWatermark: 5, lag: 2 },
      { topic: 'payments', position: 4, highWatermark: 4, lag: 0 },
    ]);
    expect(p0).toMatchObject({ partition: 0, lag: 2, streamTime: 2_500, updatedAt: T + 5_000 });
    // The standard counters first, then the topology's own; every commit wrote the totals.
    expect(Object.entries(p0!.counters)).toEqual([['processed', 7], ['lateDropped', 1], ['deadLettered', 2], ['joined', 3]]);
    // The two live entries (one was deleted), sized as DynamoDB counts items.
    const entries = (await clients.doc.send(new QueryCommand({
      TableName: processorsTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': partitionKey('order-payments', 0), ':s': 's#' },
    }))).Items!;
    expect(entries).toHaveLength(2);
    expect(p0!.state).toEqual({ items: 2, bytes: entries.reduce((n, item) => n + itemBytes(item), 0) });
    expect(p0!.state.bytes).toBeGreaterThan(300);

    expect(p1!.inputs).toEqual([
      { topic: 'orders', position: null, highWatermark: 2, lag: 2 },
      { topic: 'payments', position: null, highWatermark: 0, lag: 0 },
    ]);
    expect(p1).toMatchObject({ lag: 2, streamTime: 900, counters: { processed: 1, lateDropped: 0, deadLettered: 0 }, state: { items: 0, bytes: 0 } });
    // Never committed: nothing stored, nothing to do.
    expect(p2).toEqual({
      partition: 2,
      inputs: [
        { topic: 'orders', position: null, highWatermark: 0, lag: 0 },
        { topic: 'payments', position: null, highWatermark: 0, lag: 0 },
      ],
      lag: 0,
      streamTime: null,
      counters: { processed: 0, lateDropped: 0, deadLettered: 0 },
      state: { items: 0, bytes: 0 },
      updatedAt: null,
    });

    expect(processor).toMatchObject({
      name: 'order-payments',
      inputs: ['orders', 'payments', 'order-payments-repartition-0'],
      deadLetterTopic: 'order-payments-dlq',
      lag: 4,
      counters: { processed: 8, lateDropped: 1, deadLettered: 2, joined: 3 },
      state: { items: 2, bytes: p0!.state.bytes },
      updatedAt: T + 5_000,
    });
  });

  it('shows the internal topic once it exists, and lag that falls as positions move', async () => {
    await createTopic('order-payments-repartition-0', 3);
    await produce('order-payments-repartition-0', 2, 3);
    const before = (await get('GET /processors/{name}', 'order-payments')).body as ProcessorDescription;
    expect(before.partitions[2]!.inputs.at(-1)).toEqual({ topic: 'order-payments-repartition-0', position: null, highWatermark: 3, lag: 3 });
    expect(before.lag).toBe(7);

    await commit('order-payments', 2, {
      expectedVersion: 0,
      meta: { streamTime: 5, streamTimes: {}, counters: { processed: 3 } },
      positions: [{ topic: 'order-payments-repartition-0', offset: 3, topicId: configs.get('order-payments-repartition-0')!.topicId }],
      writes: [],
      now: T + 6_000,
    });
    const after = (await get('GET /processors/{name}', 'order-payments')).body as ProcessorDescription;
    expect(after.partitions[2]).toMatchObject({ lag: 0, counters: { processed: 3 } });
    expect(after.lag).toBe(4);
  });

  it('lists every deployed processor by name, one never started with its whole backlog as lag', async () => {
    const { status, body } = await get('GET /processors');
    expect(status).toBe(200);
    const { processors } = body as ListProcessorsResponse;
    expect(processors.map((p) => p.name)).toEqual(['idle', 'order-payments']);
    expect(processors[0]).toMatchObject({ name: 'idle', lag: 6, updatedAt: null, counters: { processed: 0 } });
    expect(processors[0]!.partitions.map((p) => p.lag)).toEqual([0, 6]);
    expect(processors[1]).toEqual((await get('GET /processors/{name}', 'order-payments')).body);
  });

  it('answers 404 ProcessorNotFound for a processor the stack does not deploy, 400 for a name that cannot be one', async () => {
    // Its state may exist (a processor removed from the stack): what is deployed decides.
    await commit('removed', 0, { expectedVersion: 0, meta: { streamTimes: {}, counters: { processed: 1 } }, positions: [], writes: [] });
    const missing = await get('GET /processors/{name}', 'removed');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'ProcessorNotFound', processor: 'removed' });
    expect((await get('GET /processors')).body.processors.map((p: ProcessorDescription) => p.name)).not.toContain('removed');

    const invalid = await get('GET /processors/{name}', 'bad name!');
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'InvalidRequest', issues: [{ path: 'path.name' }] });
  });

  it('with ACLs on, lists only the processors whose group the caller may describe, and refuses describe of the others', async () => {
    const authorizer = new Authorizer({
      mode: 'acl',
      declared: [{ principal: ALICE, resourceType: 'group', patternType: 'literal', resourceName: 'idle', operation: 'describe', permission: 'allow' }],
    });
    const listed = await get('GET /processors', undefined, ALICE, authorizer);
    expect(listed.status).toBe(200);
    expect(listed.body.processors.map((p: ProcessorDescription) => p.name)).toEqual(['idle']);
    expect((await get('GET /processors/{name}', 'idle', ALICE, authorizer)).status).toBe(200);
    const refused = await get('GET /processors/{name}', 'order-payments', ALICE, authorizer);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'AuthorizationFailed', resourceType: 'group', resourceName: 'order-payments', operation: 'describe' });
  });

  it('sluice processors list and describe print what the API answers', async () => {
    const api = { listProcessors: async () => ({ processors: await service.list() }), describeProcessor: (name: string) => service.describe(name) };
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await run(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: {},
        createClient: () => api as unknown as SluiceApi,
      });
      return { code, stdout, stderr };
    };
    const list = await cli('processors', 'list');
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROCESSOR\s+PARTITIONS\s+LAG\s+PROCESSED\s+LATE-DROPPED\s+DEAD-LETTERED\s+STATE-ITEMS\s+STATE-BYTES\s+UPDATED$/);
    expect(lines[1]).toMatch(/^idle\s+2\s+6\s+0\s+0\s+0\s+0\s+0\s+-$/);
    const updated = new Date(T + 6_000).toISOString().replace(/\./g, '\\.');
    expect(lines[2]).toMatch(new RegExp(String.raw`^order-payments\s+3\s+4\s+11\s+1\s+2\s+2\s+\d+\s+` + updated + '$'));

    const describe = await cli('processors', 'describe', 'order-payments');
    expect(describe.code, describe.stderr).toBe(0);
    expect(describe.stdout).toContain('Dead letters:  order-payments-dlq (2)');
    expect(describe.stdout).toMatch(/Lag:\s+4\n/);
    expect(describe.stdout).toMatch(/joined:\s+3\n/);
    // Partition 0's rows: orders 3 of 5, then payments 4 of 4 under it.
    expect(describe.stdout).toMatch(/\n\s+0\s+orders\s+3\s+5\s+2\s+1970-01-01T00:00:02\.500Z\s+7\s+2\n\s+payments\s+4\s+4\s+0\n/);
    expect(describe.stdout).toMatch(/\n\s+1\s+orders\s+-\s+2\s+2\s/);

    const json = await cli('--json', 'processors', 'describe', 'idle');
    expect(JSON.parse(json.stdout)).toEqual(await service.describe('idle'));
    const missing = await cli('processors', 'describe', 'removed');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ProcessorNotFound');
  });
});

describe('SLUICE_DECLARED_PROCESSORS', () => {
  it('is read as the construct writes it; anything else stops the function from starting', () => {
    expect(decodeDeclaredProcessors(undefined)).toEqual([]);
    expect(decodeDeclaredProcessors('[{"name":"p","inputs":["a","p-repartition-0"]}]')).toEqual([{ name: 'p', inputs: ['a', 'p-repartition-0'] }]);
    expect(() => decodeDeclaredProcessors('{')).toThrow(/SLUICE_DECLARED_PROCESSORS is not JSON/);
    expect(() => decodeDeclaredProcessors('{}')).toThrow(/must be a JSON array/);
    expect(() => decodeDeclaredProcessors('[{"name":"p","inputs":[]}]')).toThrow(/\[0\] is not a processor: inputs/);
    expect(() => decodeDeclaredProcessors('[{"name":"p","inputs":["a"]},{"name":"p","inputs":["b"]}]')).toThrow(/declares p twice/);
  });
});
