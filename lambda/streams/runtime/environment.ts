/**
 * Builds a ProcessorRuntime from the processor Lambda's environment, as lambda/handlers/environment.ts
 * builds Sluice's own functions: exactly the variables the StreamProcessor construct sets, each
 * required, and one DynamoDB client per process (a Lambda execution environment runs one function,
 * so "per process" is "per cold start").
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../../../definitions/tables';
import { createDocumentClient } from '../../core/aws/clients';
import { DynamoDbLogStore } from '../../core/log/dynamodb-log-store';
import { LogService } from '../../core/log/log-service';
import type { Logger } from '../../core/logger';
import { DynamoDbTopicStore } from '../../core/topics/dynamodb-topic-store';
import type { Topology } from '../topology';
import { ProcessorRuntime } from './runtime';
import { ProcessorStateStore } from './state-store';
import { CachingTopicStore } from './topics';

/** The variables a processor function reads. */
export const PROCESSOR_ENV = {
  /** The processor's name: must equal the topology's applicationId. */
  name: 'SLUICE_PROCESSOR_NAME',
  topicsTable: TABLES.topics.envVar,
  logTable: TABLES.log.envVar,
  dedupeTable: TABLES.dedupe.envVar,
  processorsTable: TABLES.processors.envVar,
} as const;

export type ProcessorEnv = Readonly<Record<string, string | undefined>>;

function requireEnv(env: ProcessorEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set; the StreamProcessor construct (or the local platform) sets it`);
  return value;
}

/** Refuses a topology whose applicationId is not the processor's name (its state, topics and subscriptions are named after it). */
export function checkProcessorName(topology: Topology, env: ProcessorEnv): void {
  const name = requireEnv(env, PROCESSOR_ENV.name);
  if (name !== topology.applicationId) {
    throw new Error(
      `This function is processor '${name}' (${PROCESSOR_ENV.name}) but its topology is streams('${topology.applicationId}'): ` +
        'the names must be equal, or the processor would read and write another application\'s state',
    );
  }
}

let documentClient: DynamoDBDocumentClient | undefined;

/** The process's one DynamoDB document client. */
export function sharedProcessorClient(): DynamoDBDocumentClient {
  return (documentClient ??= createDocumentClient());
}

export function processorRuntimeFromEnv(
  topology: Topology,
  env: ProcessorEnv = process.env,
  options: { readonly client?: DynamoDBDocumentClient; readonly logger?: Logger } = {},
): ProcessorRuntime {
  checkProcessorName(topology, env);
  const client = options.client ?? sharedProcessorClient();
  const logTable = requireEnv(env, PROCESSOR_ENV.logTable);
  const store = new DynamoDbTopicStore({ client, topicsTable: requireEnv(env, PROCESSOR_ENV.topicsTable), logTable });
  const topics = new CachingTopicStore(store);
  // Not the caching store: LogService keeps its own short cache and, finding a deleted topic's
  // tombstone, must read the topic as it is now (the runtime's cache trusts a config for 60 s).
  const log = new LogService({ topics: store, log: new DynamoDbLogStore({ client, logTable, dedupeTable: requireEnv(env, PROCESSOR_ENV.dedupeTable) }) });
  const state = new ProcessorStateStore(client, requireEnv(env, PROCESSOR_ENV.processorsTable));
  return new ProcessorRuntime({ topology, log, topics, state, ...(options.logger ? { logger: options.logger } : {}) });
}
