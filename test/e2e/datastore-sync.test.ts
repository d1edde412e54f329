/**
 * The datastore-sync example's crash test. The example's CDK app (examples/datastore-sync) is
 * synthesized as `cdk synth` would, with a short visibility timeout, and run on the local platform:
 * the "orders" table's stream feeds the publisher, which sends each change to the Sluice queue; the
 * worker (`queue.addConsumer`) applies them to the "replica" table.
 *
 * The test writes a stream of changes (creates, updates, deletes) across many orders while it
 * kills the worker's execution environments at random moments from outside, as a Lambda runtime
 * dies: the handler stops wherever it is (before, between or after its writes, before the event
 * source deletes anything), and the messages of the killed batch come back after the visibility
 * timeout. At the end the two tables must hold the same content, every change applied exactly
 * once: the replica counts the changes it applied to each order (`_syncChanges`), which must equal
 * the changes written to that order, so neither a lost change nor one applied twice can hide; nor
 * can one applied out of order, since the worker skips a change older than what it applied.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, Duration, type CfnElement } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messageDeadLetterQueueName, messageQueueName } from '../../definitions/queues';
import { DatastoreSyncStack, QUEUE_NAME } from '../../examples/datastore-sync/lib/datastore-sync-stack';
import { compareTables, type SyncReport } from '../../examples/datastore-sync/scripts/compare';
import { applyNagChecks } from '../../lib';
import type { FunctionPool } from '../../local/lambda/function-pool';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_CREDENTIALS, LOCAL_REGION, waitFor } from '../../local/support';
import { uniquePrefix } from '../support/emulators';

const ORDERS = 40;
const CHANGES = 600;
/** Pacing of the writes, so the kills land among them: about 30 s of changes. */
const WRITE_INTERVAL_MS = 50;
/** Short, so a killed batch comes back soon; 6 × the worker's timeout, as AWS advises. */
const VISIBILITY_TIMEOUT_SECONDS = 12;
const WORKER_TIMEOUT_SECONDS = 2;
/** High enough that random kills never push a change to the dead-letter queue (checked below). */
const MAX_RECEIVE_COUNT = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

describe('datastore-sync example: the worker killed at random, the replica still exact', () => {
  let assemblyDir: string;
  let platform: Platform;
  let worker: FunctionPool;
  let workerName: string;
  let dynamodb: DynamoDBClient;
  let sqs: SQSClient;
  let ordersTable: string;
  let replicaTable: string;
  let queuePrefix: string;
  const workerLines: string[] = [];

  beforeAll(async () => {
    assemblyDir = await mkdtemp(join(tmpdir(), 'sluice-datastore-sync-'));
    // What `cdk synth` writes for the example's app (examples/datastore-sync/bin), with test props.
    const app = new App({
      outdir: assemblyDir,
      context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-version-reporting': true },
    });
    queuePrefix = `ds-${randomUUID().slice(0, 6)}-`;
    const stack = new DatastoreSyncStack(app, 'DatastoreSync', {
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_SECONDS),
      workerTimeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
      maxReceiveCount: MAX_RECEIVE_COUNT,
      // Queue names are explicit (the API finds queues by name): a prefix of this run's own.
      sluice: { queueNamePrefix: queuePrefix },
    });
    applyNagChecks(app); // the example passes cdk-nag, as its app checks
    app.synth();
    const workerLogicalId = stack.getLogicalId(stack.worker.node.defaultChild as CfnElement);

    platform = await startPlatform({
      port: 0,
      prefix: uniquePrefix('dsync'),
      emulators: inject('emulators'),
      assemblyDir,
      functionLogs: (fn, line) => {
        if (fn === workerName) workerLines.push(line);
      },
    });
    worker = platform.functions.get(workerLogicalId)!;
    expect(worker).toBeDefined();
    workerName = worker.name;
    ordersTable = platform.twin.outputs.OrdersTableName!;
    replicaTable = platform.twin.outputs.ReplicaTableName!;
    dynamodb = new DynamoDBClient({ endpoint: platform.dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    sqs = new SQSClient({ endpoint: platform.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    dynamodb?.destroy();
    sqs?.destroy();
    if (assemblyDir) await rm(assemblyDir, { recursive: true, force: true });
  }, 60_000);

  it('applies every change exactly once, in order per order, though the worker dies at random', async () => {
    const started = Date.now();
    // Deliveries as the worker's event source makes them: every record handed over, and how
    // many of them were redeliveries (receive count above 1).
    let delivered = 0;
    let redelivered = 0;
    let batches = 0;
    let maxReceiveCount = 0;
    worker.observe((event) => {
      const records = (event as { Records?: { attributes?: { ApproximateReceiveCount?: string } }[] }).Records ?? [];
      batches++;
      delivered += records.length;
      for (const r of records) {
        const count = Number(r.attributes?.ApproximateReceiveCount ?? 1);
        if (count > 1) redelivered++;
        maxReceiveCount = Math.max(maxReceiveCount, count);
      }
    });

    // The killer: at random moments, ends one execution environment of the worker that is running
    // a batch right now, until the writes are done and a little after.
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        await sleep(between(100, 900));
        if (killing) kills += worker.crash({ count: 1 });
      }
    })();

    // The writer: creates, updates (changing, adding and removing attributes) and deletes, each
    // producing exactly one stream record; the model counts the changes per order.
    const model = new Map<string, { exists: boolean; rev: number; changes: number }>();
    const written = { creates: 0, updates: 0, deletes: 0 };
    for (let i = 0; i < ORDERS; i++) model.set(`order-${String(i).padStart(3, '0')}`, { exists: false, rev: 0, changes: 0 });
    const ids = [...model.keys()];
    for (let n = 0; n < CHANGES; n++) {
      const orderId = ids[between(0, ids.length - 1)]!;
      const order = model.get(orderId)!;
      const key = { orderId: { S: orderId } };
      order.rev++;
      const roll = Math.random();
      if (!order.exists) {
        await dynamodb.send(
          new PutItemCommand({
            TableName: ordersTable,
            Item: {
              ...key,
              status: { S: 'created' },
              rev: { N: String(order.rev) },
              total: { N: `${between(1, 99_999)}.${between(0, 99)}` },
              lines: { L: [{ M: { sku: { S: `sku-${between(1, 50)}` }, qty: { N: String(between(1, 5)) } } }] },
              tags: { SS: ['new', `batch-${n % 7}`] },
            },
            ConditionExpression: 'attribute_not_exists(orderId)',
          }),
        );
        order.exists = true;
        written.creates++;
      } else if (roll < 0.2) {
        await dynamodb.send(new DeleteItemCommand({ TableName: ordersTable, Key: key, ConditionExpression: 'attribute_exists(orderId)' }));
        order.exists = false;
        written.deletes++;
      } else {
        // `rev` changes every time, so every update really modifies the item (one stream record).
        const removeNote = roll > 0.85;
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: ordersTable,
            Key: key,
            UpdateExpression: `SET #status = :status, #rev = :rev, #total = :total${removeNote ? ' REMOVE #note' : ', #note = :note'}`,
            ConditionExpression: 'attribute_exists(orderId)',
            ExpressionAttributeNames: { '#status': 'status', '#rev': 'rev', '#total': 'total', '#note': 'note' },
            ExpressionAttributeValues: {
              ':status': { S: ['paid', 'packed', 'shipped', 'returned'][between(0, 3)]! },
              ':rev': { N: String(order.rev) },
              ':total': { N: String(between(1, 99_999)) },
              ...(removeNote ? {} : { ':note': { S: `note ${n} ${'x'.repeat(between(0, 200))}` } }),
            },
          }),
        );
        written.updates++;
      }
      order.changes++;
      await sleep(WRITE_INTERVAL_MS);
    }
    const writesDone = Date.now();
    // Keep killing a little longer: redeliveries get killed too.
    await sleep(5_000);
    killing = false;
    await killer;

    // The replica catches up once the last killed batches came back (a visibility timeout each).
    // A change applied twice can never be undone: that fails at once.
    let appliedTwice = false;
    const report = await waitFor(
      async () => {
        const r = await compareTables(dynamodb, ordersTable, replicaTable);
        const over = [...model].filter(([id, m]) => (r.replica.get(id)?.changes ?? 0) > m.changes);
        if (over.length > 0) {
          appliedTwice = true;
          throw new Error(`more changes applied than written: ${over.map(([id, m]) => `${id} ${r.replica.get(id)?.changes}/${m.changes}`).join(', ')}`);
        }
        const allApplied = [...model].every(([id, m]) => (r.replica.get(id)?.changes ?? 0) === m.changes);
        return r.inSync && allApplied ? r : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1_000, what: 'the replica to hold exactly the orders, every change applied', fatal: () => appliedTwice },
    ).catch(async (error: Error) => {
      const r = await compareTables(dynamodb, ordersTable, replicaTable);
      throw new Error(`${error.message}\n${describeMismatch(r, model)}`);
    });

    // Same content, and per order exactly the changes written: none lost, none applied twice.
    expect(report.inSync).toBe(true);
    expect(report.orders).toBe([...model.values()].filter((m) => m.exists).length);
    for (const [id, m] of model) {
      const item = report.replica.get(id);
      if (m.changes === 0) {
        expect(item, id).toBeUndefined();
        continue;
      }
      expect({ id, changes: item?.changes, deleted: item?.deleted }).toEqual({ id, changes: m.changes, deleted: !m.exists });
    }
    // The kills really happened mid-batch, and their messages were delivered again.
    expect(kills).toBeGreaterThan(0);
    expect(redelivered).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThanOrEqual(CHANGES);
    // No change reached the dead-letter queue, and the queue is empty: everything was resolved.
    expect(maxReceiveCount).toBeLessThan(MAX_RECEIVE_COUNT);
    expect(await depth(messageDeadLetterQueueName(queuePrefix, QUEUE_NAME))).toEqual({ visible: 0, inFlight: 0 });
    // A worker killed after applying a batch but before deleting it leaves those messages in flight
    // until their visibility timeout, though the replica is already exact: they come back once and
    // are resolved as already applied. So wait for that, a visibility timeout and a poll at most.
    const drained = await waitFor(
      async () => {
        const d = await depth(messageQueueName(queuePrefix, QUEUE_NAME));
        return d.visible === 0 && d.inFlight === 0 ? d : undefined;
      },
      { timeoutMs: (VISIBILITY_TIMEOUT_SECONDS + 10) * 1000, intervalMs: 500, what: 'the message queue to drain' },
    ).catch(async () => depth(messageQueueName(queuePrefix, QUEUE_NAME)));
    expect(drained).toEqual({ visible: 0, inFlight: 0 });
    // Those redeliveries applied nothing a second time.
    const settled = await compareTables(dynamodb, ordersTable, replicaTable);
    for (const [id, m] of model) expect(settled.replica.get(id)?.changes ?? 0, id).toBe(m.changes);

    // What the worker said it did (lines of a killed environment may be lost with it).
    const outcomes = workerLines.flatMap((line) => {
      try {
        return [JSON.parse(line) as { message?: string; outcome?: string }];
      } catch {
        return [];
      }
    });
    const applied = outcomes.filter((o) => o.message === 'change' && o.outcome === 'applied').length;
    const stale = outcomes.filter((o) => o.message === 'change' && o.outcome === 'stale').length;
    console.log(
      `datastore-sync crash test: ${CHANGES} changes written (${written.creates} creates, ${written.updates} updates, ` +
        `${written.deletes} deletes) to ${ORDERS} orders in ${((writesDone - started) / 1000).toFixed(1)} s; ` +
        `${delivered} messages delivered to the worker in ${batches} batches, ${redelivered} of them redeliveries ` +
        `(max receive count ${maxReceiveCount}); ${kills} worker kills; worker logged ${applied} applied and ${stale} ` +
        `already-applied (skipped) changes; final: ${report.orders} orders = ${report.replicaLive} live replica items ` +
        `(+ ${report.tombstones} tombstones), ${[...report.replica.values()].reduce((sum, r) => sum + r.changes, 0)} changes applied; ` +
        `in sync ${((Date.now() - writesDone) / 1000).toFixed(1)} s after the last write`,
    );
  }, 300_000);

  async function depth(sqsName: string): Promise<{ visible: number; inFlight: number }> {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: sqsName }));
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
  }
});

function describeMismatch(r: SyncReport, model: ReadonlyMap<string, { exists: boolean; changes: number }>): string {
  const counts = [...model]
    .filter(([id, m]) => (r.replica.get(id)?.changes ?? 0) !== m.changes)
    .map(([id, m]) => `${id}: ${m.changes} written, ${r.replica.get(id)?.changes ?? 0} applied`);
  return (
    `missing: ${r.missing.join(', ') || '-'}; extra: ${r.extra.join(', ') || '-'}; different: ${r.different.join(', ') || '-'}; ` +
    `change counts: ${counts.join('; ') || 'all equal'}`
  );
}
