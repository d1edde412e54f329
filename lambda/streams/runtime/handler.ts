/**
 * `sluiceProcessor(app)`: the Lambda handler of a stream processor. Thin: it turns what Lambda
 * passes into deliveries and hands each to ProcessorRuntime.processDelivery (runtime.ts).
 *
 *   // processors/big-orders.ts
 *   import { streams, sluiceProcessor } from 'sluice/streams';
 *   const app = streams('big-orders');
 *   app.stream<Order>('orders').filter((o) => o.total > 100).to('big-orders');
 *   export const handler = sluiceProcessor(app);
 *
 * - An SQS event (the processor's Lambda subscriptions): each message body is one delivery. The
 *   answer is a partial batch response: a delivery that fails fails its message and the later ones
 *   of its message group (a topic partition, whose order must hold); the other groups go on, side
 *   by side.
 * - One delivery as the payload (a run-time subscription's Lambda target): processed, and a
 *   failure is thrown, so the deliverer retries it.
 * A record whose user code throws does not fail the delivery: it goes to the dead-letter topic.
 * Only infrastructure failures (and a missing output topic) fail it, to be redelivered.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseDelivery, type DeliveryBody } from '../../../api/subscriptions';
import { createJsonLogger, type Logger } from '../../core/logger';
import type { Topology } from '../topology';
import { checkProcessorName, PROCESSOR_ENV, processorRuntimeFromEnv, type ProcessorEnv } from './environment';
import type { DeliveryOutcome, ProcessorRuntime } from './runtime';

export interface SluiceProcessorOptions {
  /** Where the configuration is read. @default process.env */
  readonly env?: ProcessorEnv;
  /** @default - one DynamoDB document client per process */
  readonly client?: DynamoDBDocumentClient;
  /** @default - JSON lines on stdout (CloudWatch Logs) */
  readonly logger?: Logger;
  /** A runtime built elsewhere (tests); the environment is then not read. */
  readonly runtime?: ProcessorRuntime;
}

/** The parts of an SQS record the handler reads (`SQSRecord` of `@types/aws-lambda`). */
export interface ProcessorSqsRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly MessageGroupId?: string };
}

/** The partial batch response of an SQS event source with `ReportBatchItemFailures`. */
export interface ProcessorBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type ProcessorHandler = ((event: unknown, context?: unknown) => Promise<ProcessorBatchResponse | DeliveryOutcome>) & {
  /** The topology it runs: the StreamProcessor construct reads it from the bundle at synth time (lib/stream-processor.ts). */
  readonly topology: Topology;
};

/**
 * The Lambda handler running `app`. The runtime is built on the first invocation, from the
 * environment the StreamProcessor construct sets; a processor name (SLUICE_PROCESSOR_NAME) other
 * than the app's applicationId is refused at once.
 */
export function sluiceProcessor(app: Topology | { build(): Topology }, options: SluiceProcessorOptions = {}): ProcessorHandler {
  const topology = 'build' in app ? app.build() : app;
  const env = options.env ?? process.env;
  // Refuses to start with another processor's name. Without one (a unit test importing the
  // module) the first invocation refuses instead.
  if (!options.runtime && env[PROCESSOR_ENV.name] !== undefined) checkProcessorName(topology, env);
  const logger = options.logger ?? createJsonLogger({ component: `sluice.processor.${topology.applicationId}` });
  let runtime = options.runtime;
  const handler = async (event: unknown) => {
    runtime ??= processorRuntimeFromEnv(topology, env, { ...(options.client ? { client: options.client } : {}), logger });
    return handleProcessorEvent(runtime, event, logger);
  };
  return Object.assign(handler, { topology });
}

/** An SQS event or one delivery, as sluiceProcessor's handler takes it. */
export async function handleProcessorEvent(
  runtime: ProcessorRuntime,
  event: unknown,
  logger: Logger,
): Promise<ProcessorBatchResponse | DeliveryOutcome> {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return runtime.processDelivery(parseDelivery(event));

  const groups = new Map<string, { record: ProcessorSqsRecord; delivery?: DeliveryBody }[]>();
  for (const record of records as ProcessorSqsRecord[]) {
    let delivery: DeliveryBody | undefined;
    try {
      delivery = parseDelivery(record.body);
    } catch (error) {
      logger.error('not a Sluice delivery; failing the message', { messageId: record.messageId, error });
    }
    const group = record.attributes?.MessageGroupId ?? (delivery ? `${delivery.topic}#${delivery.partition}` : record.messageId);
    groups.set(group, [...(groups.get(group) ?? []), { record, ...(delivery ? { delivery } : {}) }]);
  }
  const failed = new Set<string>();
  await Promise.all(
    [...groups.values()].map(async (messages) => {
      let broken = false;
      for (const { record, delivery } of messages) {
        // After a failure the group's later deliveries must wait: their offsets come after it.
        if (broken || !delivery) {
          failed.add(record.messageId);
          broken = true;
          continue;
        }
        try {
          const outcome = await runtime.processDelivery(delivery);
          logger.debug('delivery processed', { topic: delivery.topic, partition: delivery.partition, ...outcome });
        } catch (error) {
          logger.error('a delivery failed; it and the later ones of its partition will be redelivered', {
            messageId: record.messageId,
            topic: delivery.topic,
            partition: delivery.partition,
            offsets: delivery.events.length > 0 ? [delivery.events[0]!.offset, delivery.events[delivery.events.length - 1]!.offset] : [],
            error,
          });
          failed.add(record.messageId);
          broken = true;
        }
      }
    }),
  );
  return {
    batchItemFailures: (records as ProcessorSqsRecord[]).filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })),
  };
}
