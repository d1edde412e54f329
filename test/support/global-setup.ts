/**
 * Starts the real emulators once for the whole test run: DynamoDB Local (Java) and the SQS server.
 * Test files reach them through `inject('emulators')` and isolate themselves with their own
 * table/queue prefix.
 */
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { silentLogger } from '../../lambda/core/logger';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { startSqsServer } from '../../local/sqs-server';

export interface Emulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: Emulators;
  }
}

export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const cacheDir = process.env.SLUICE_CACHE_DIR ?? resolve(import.meta.dirname, '../../.cache');
  const [ddb, sqs] = await Promise.all([startDynamoDbLocal({ cacheDir, logger: silentLogger }), startSqsServer()]);
  project.provide('emulators', { dynamodbEndpoint: ddb.endpoint, sqsEndpoint: sqs.endpoint });
  return async () => {
    await Promise.all([ddb.stop(), sqs.stop()]);
  };
}
