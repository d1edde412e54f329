/**
 * The bench's fixture: Sluice's services and handlers wired as deployed, over a metered client,
 * a raw client for the baseline, and timing of concurrent workers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ProduceEvent, ProducerStamp } from '../api/events';
import { TOPIC_DEFAULTS } from '../api/topics';
import { DOCUMENT_TRANSLATE_CONFIG, dynamoDbClientConfig } from '../lambda/core/aws/clients';
import { DynamoDbLogStore } from '../lambda/core/log/dynamodb-log-store';
import { LogService, type ProduceOutcome } from '../lambda/core/log/log-service';
import { silentLogger } from '../lambda/core/logger';
import { DynamoDbTopicStore } from '../lambda/core/topics/dynamodb-topic-store';
import { newTopicId } from '../lambda/core/topics/topic-id';
import { createFetchHandler } from '../lambda/handlers/fetch';
import { createProduceHandler } from '../lambda/handlers/produce';
import { provision } from '../local/provision';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/support';
import { CapacityMeter } from './capacity';
import { PRICES } from './report';
import type { lambdaContext } from './scenarios';

export type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<APIGatewayProxyStructuredResultV2>;

/** LogService as deployed, plus a tally of the write units its produce() reports. */
export class MeteredLogService extends LogService {
  reportedWrite = 0;
  override async produce(topic: string, events: readonly ProduceEvent[], producer?: ProducerStamp): Promise<ProduceOutcome> {
    const outcome = await super.produce(topic, events, producer);
    this.reportedWrite += outcome.consumedWriteUnits ?? 0;
    return outcome;
  }
}

export interface Bench {
  readonly service: MeteredLogService;
  readonly topics: DynamoDbTopicStore;
  readonly produce: Handler;
  readonly fetch: Handler;
  /** Meters the client Sluice's stores use. */
  readonly sluiceMeter: CapacityMeter;
  readonly raw: DynamoDBClient;
  readonly rawMeter: CapacityMeter;
  readonly logTable: string;
  /** The metered document client Sluice's stores use, and every table (the idle-member scenario builds its own services). */
  readonly client: DynamoDBDocumentClient;
  readonly tables: Awaited<ReturnType<typeof provision>>['tables'];
}

export async function setUp(dynamodbEndpoint: string, sqsEndpoint: string): Promise<Bench & { destroy(): void }> {
  const config = { endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const admin = new DynamoDBClient(config);
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const { tables } = await provision({ dynamodb: admin, sqs }, 'bench');
  admin.destroy();
  sqs.destroy();

  const sluiceClient = new DynamoDBClient(dynamoDbClientConfig(config));
  const sluiceMeter = new CapacityMeter();
  sluiceMeter.attach(sluiceClient, 'document');
  // As lambda/core/aws/clients.ts builds it.
  const client = DynamoDBDocumentClient.from(sluiceClient, DOCUMENT_TRANSLATE_CONFIG);
  const topics = new DynamoDbTopicStore({ client, topicsTable: tables.topics, logTable: tables.log });
  const service = new MeteredLogService({
    topics,
    log: new DynamoDbLogStore({ client, logTable: tables.log, dedupeTable: tables.dedupe }),
  });
  // The same client configuration as Sluice's: the baseline differs in its calls, not its SDK settings.
  const raw = new DynamoDBClient(dynamoDbClientConfig(config));
  const rawMeter = new CapacityMeter();
  rawMeter.attach(raw, 'raw');
  return {
    service,
    topics,
    produce: createProduceHandler(service, silentLogger),
    fetch: createFetchHandler(service, silentLogger),
    sluiceMeter,
    raw,
    rawMeter,
    logTable: tables.log,
    client,
    tables,
    destroy: () => {
      sluiceClient.destroy();
      raw.destroy();
    },
  };
}

// ---- timing ----------------------------------------------------------------------------------

export interface Timed {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly nodeCpuShare: number;
}

/** Runs each worker's operations in order, the workers side by side; times the whole and each op. */
export async function timeWorkers(workers: number, op: (worker: number) => Promise<boolean>): Promise<Timed> {
  const latenciesMs: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (;;) {
        const t = performance.now();
        const more = await op(w);
        latenciesMs.push(performance.now() - t);
        if (!more) return;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, latenciesMs, nodeCpuShare: (used.user + used.system) / 1e6 / seconds };
}

export const metered = (bytes: number) => Math.max(1, Math.ceil(bytes / PRICES.httpApiMeteringBytes));

export function failed(what: string, res: APIGatewayProxyStructuredResultV2): Error {
  return new Error(`${what} answered ${res.statusCode}: ${String(res.body).slice(0, 500)}`);
}

export async function createTopic(bench: Bench, name: string, partitions: number, dedupe: boolean): Promise<void> {
  await bench.topics.createTopic({
    name,
    topicId: newTopicId(),
    partitions,
    retentionMs: TOPIC_DEFAULTS.retentionMs,
    dedupeWindowMs: dedupe ? TOPIC_DEFAULTS.dedupeWindowMs : 0,
    createdAt: new Date().toISOString(),
  });
}
