/**
 * Keyless events spread evenly over the partitions, on DynamoDB Local: `sluice produce` (through
 * the client's Producer, against the real handlers in-process) and the service's own placement of
 * keyless requests, whatever the batching and however many service instances place them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';
import { sluice as runCli } from '../unit/cli/run-cli';

let server: InProcessSluice;

beforeAll(async () => {
  server = await startInProcessSluice('keyless');
});

afterAll(async () => {
  await server?.close();
});

/** Events per partition: each partition's high watermark. */
async function perPartition(topic: string, partitions: number): Promise<number[]> {
  return Promise.all(Array.from({ length: partitions }, async (_, p) => (await server.log.bounds(topic, p)).highWatermark));
}

/** Every partition holds within `band` (a fraction) of an even share. */
function expectBalanced(counts: readonly number[], band: number): void {
  const share = counts.reduce((a, b) => a + b, 0) / counts.length;
  for (const count of counts) expect(Math.abs(count - share) / share, `${counts.join('/')}`).toBeLessThanOrEqual(band);
}

describe('sluice produce without --key', () => {
  it('spreads 1,000 lines evenly over 4 partitions', async () => {
    await server.createTopic('clicks', 4);
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n');
    const { code, stdout } = await runCli(['produce', 'clicks'], server.fetch, { stdin: lines });
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1000);
    const counts = await perPartition('clicks', 4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    // The producer keeps a partition for a batch (40 events): 25 runs over 4 partitions give
    // 280/240/240/240, within 12% of 250 each.
    expectBalanced(counts, 0.15);
  });
});

describe('The service placing keyless requests', () => {
  it('balances events, not requests, over any number of instances', async () => {
    const resources = await provisionIsolated('keyless-svc');
    const clients = emulatorClients();
    const topicStore = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
    const logStore = new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
    await topicStore.createTopic({
      name: 'views',
      topicId: `views-${Date.now()}`,
      partitions: 4,
      retentionMs: -1,
      dedupeWindowMs: 0,
      createdAt: new Date().toISOString(),
    });
    // Three Lambda instances, each with its own LogService. Each is sent a big request, then three
    // small ones, again and again: round robin per request would put every big one on one partition.
    const instances = [0, 1, 2].map(() => new LogService({ topics: topicStore, log: logStore }));
    const sizes = [50, 1, 1, 1];
    for (let round = 0; round < 40; round++) {
      const size = sizes[round % sizes.length]!;
      await Promise.all(instances.map((instance) => instance.produce('views', Array.from({ length: size }, (_, i) => ({ value: i })))));
    }
    const counts = await Promise.all([0, 1, 2, 3].map(async (p) => (await instances[0]!.bounds('views', p)).highWatermark));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3 * 10 * 53);
    // Each instance keeps its partitions within one request (50) of each other: the sum of three
    // is within 150 of an even share (398) at worst, about 18% for this sequence.
    expectBalanced(counts, 0.25);
    clients.dynamodb.destroy();
  });
});
