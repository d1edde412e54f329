/**
 * The log's test fixtures against DynamoDB Local: stores and services (healthy, counting the
 * commands they send, or with faults injected on their puts by aws-sdk-client-mock), values that do
 * or do not fit a partition head's tail, and reads of partition 0 as stored. Shared by the tests of
 * the append paths (single-item-append, head-tail).
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  DynamoDBDocumentClient as DocClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbLogStore, HEAD_OFFSET, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import type { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import type { emulatorClients, provisionIsolated } from './emulators';

/** An SDK timeout: the request may or may not have been applied. */
export const timeout = () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });
export const isHead = (input: PutCommandInput) => input.Item?.offset === HEAD_OFFSET;
/** A value too big and random to fit a head's tail: its append is a batch (a flush) and a head write. */
export const big = (label: string) => ({ label, pad: randomBytes(1200).toString('base64') });
export const labelOf = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { label: string }).label : value);
export const labels = (events: readonly { value?: unknown }[]) => events.map((e) => labelOf(e.value));

export interface ServiceOptions {
  readonly now?: () => number;
}

/**
 * The fixtures, on the clients and on the resources and topic store `context` gives when called
 * (they are made in a test file's beforeAll).
 */
export function logFixtures(
  clients: ReturnType<typeof emulatorClients>,
  context: () => { readonly resources: Awaited<ReturnType<typeof provisionIsolated>>; readonly topics: DynamoDbTopicStore },
) {
  const tables = () => context().resources.tables;
  const storeOn = (client: DocClient) => new DynamoDbLogStore({ client, logTable: tables().log, dedupeTable: tables().dedupe });
  const put = (input: PutCommandInput) => clients.doc.send(new PutCommand(input));
  const healthyStore = () => storeOn(clients.doc);
  const service = (log = healthyStore(), options: ServiceOptions = {}) =>
    new LogService({ topics: context().topics, log, sleep: async () => {}, maxAppendAttempts: 100, now: options.now });

  /** A log store on its own client that counts the commands it sends (all go to DynamoDB Local). */
  function countingStore() {
    const client = DocClient.from(clients.dynamodb);
    const sent: string[] = [];
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    (client as { send: unknown }).send = (command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return send(command);
    };
    return { store: storeOn(client), sent };
  }

  /** A service whose log-table puts go through `fault` (reads and transactions pass through). */
  function faultyService(fault: (input: PutCommandInput) => Promise<unknown>, options: ServiceOptions = {}) {
    const client = DocClient.from(clients.dynamodb);
    const mock = mockClient(client);
    mock.on(GetCommand).callsFake((input) => clients.doc.send(new GetCommand(input)));
    mock.on(QueryCommand).callsFake((input) => clients.doc.send(new QueryCommand(input)));
    mock.on(TransactWriteCommand).callsFake((input) => clients.doc.send(new TransactWriteCommand(input)));
    mock.on(PutCommand).callsFake(fault);
    const store = healthyStore();
    const faulty = storeOn(client);
    store.append = (plans, tx) => faulty.append(plans, tx);
    return service(store, options);
  }

  /** Batch puts go through; head puts time out before they are applied (a crash between the writes). */
  const crashHeads = () =>
    faultyService(async (input) => {
      if (isHead(input)) throw timeout();
      return put(input);
    });

  /** One service (its caches kept) whose head puts time out, as crashHeads, only while `crashing.on`. */
  function switchableCrashHeads() {
    const crashing = { on: false };
    const svc = faultyService(async (input) => {
      if (crashing.on && isHead(input)) throw timeout();
      return put(input);
    });
    return { svc, crashing };
  }

  /** Every event of partition 0 from the log start, page by page (a fresh service: nothing cached). */
  async function fetchAll(topic: string, options: ServiceOptions = {}) {
    const svc = service(healthyStore(), options);
    const events = [];
    let offset: number | 'earliest' = 'earliest';
    for (;;) {
      const page = await svc.fetch(topic, 0, { offset, limit: 1000 });
      events.push(...page.events);
      if (page.nextOffset >= page.highWatermark) return { events, highWatermark: page.highWatermark, logStartOffset: page.logStartOffset };
      offset = page.nextOffset;
    }
  }

  /** The head item of partition 0 as stored: nextOffset, and the tail's base `tb` when it has one. */
  async function headItem(config: TopicConfig) {
    const out = await clients.doc.send(
      new GetCommand({ TableName: tables().log, Key: { pk: logPartitionKey(config.topicId, 0), offset: HEAD_OFFSET }, ConsistentRead: true }),
    );
    return out.Item as { nextOffset: number; tb?: number } | undefined;
  }

  /** The batch items of partition 0 (not the head), as stored, stranded ones included. */
  async function batchItems(config: TopicConfig) {
    const out = await clients.doc.send(
      new QueryCommand({
        TableName: tables().log,
        KeyConditionExpression: 'pk = :pk AND #offset >= :zero',
        ExpressionAttributeNames: { '#offset': 'offset' },
        ExpressionAttributeValues: { ':pk': logPartitionKey(config.topicId, 0), ':zero': 0 },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []) as { pk: string; offset: number; hv: number; count: number }[];
  }

  /** Deletes every batch item of partition 0, as TTL does once all have expired (the head stays). */
  async function expireAllBatches(config: TopicConfig): Promise<number> {
    const items = await batchItems(config);
    for (const item of items) {
      await clients.doc.send(new DeleteCommand({ TableName: tables().log, Key: { pk: item.pk, offset: item.offset } }));
    }
    return items.length;
  }

  return { put, healthyStore, service, countingStore, faultyService, crashHeads, switchableCrashHeads, fetchAll, headItem, batchItems, expireAllBatches };
}
