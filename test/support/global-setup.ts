/**
 * Starts the real emulators once for the whole test run: DynamoDB Local (Java) and the SQS server.
 * Test files reach them through `inject('emulators')` and isolate themselves with their own
 * table/queue prefix. The Sluice stack is synthesized once per API type, as `cdk synth` would, and
 * every test that runs the local platform runs those cloud assemblies (`inject('assemblies')`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { silentLogger } from '../../lambda/core/logger';
import type { SluiceApiType } from '../../lib/sluice-api';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { startSqsServer } from '../../local/sqs-server';
import { synthesizeStack } from '../../local/template/synth';

export interface Emulators {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: Emulators;
    /** Cloud assembly folders of the Sluice stack, by API type. */
    assemblies: Record<SluiceApiType, string>;
  }
}

export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const cacheDir = process.env.SLUICE_CACHE_DIR ?? resolve(import.meta.dirname, '../../.cache');
  const work = await mkdtemp(join(tmpdir(), 'sluice-test-assemblies-'));
  const [ddb, sqs, http, rest] = await Promise.all([
    startDynamoDbLocal({ cacheDir, logger: silentLogger }),
    startSqsServer(),
    synthesizeStack({ api: 'http', outdir: join(work, 'http') }),
    synthesizeStack({ api: 'rest', outdir: join(work, 'rest') }),
  ]);
  project.provide('emulators', { dynamodbEndpoint: ddb.endpoint, sqsEndpoint: sqs.endpoint });
  project.provide('assemblies', { http: http.assemblyDir, rest: rest.assemblyDir });
  return async () => {
    await Promise.all([ddb.stop(), sqs.stop()]);
    await rm(work, { recursive: true, force: true });
  };
}
