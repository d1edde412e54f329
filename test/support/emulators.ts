/** Clients and isolated, freshly provisioned resources on the shared emulators. */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { DOCUMENT_TRANSLATE_CONFIG, dynamoDbClientConfig } from '../../lambda/core/aws/clients';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/support';
import type { SluiceApiType } from '../../lib/sluice-api';
import { startPlatform, type PlatformOptions } from '../../local/platform';
import { provision, type ProvisionedResources } from '../../local/provision';

export function emulatorClients() {
  const { dynamodbEndpoint, sqsEndpoint } = inject('emulators');
  // Configured as the service's own clients are (lambda/core/aws/clients.ts).
  const dynamodb = new DynamoDBClient(dynamoDbClientConfig({ endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  const sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(dynamodb, DOCUMENT_TRANSLATE_CONFIG);
  return { dynamodb, sqs, doc, dynamodbEndpoint, sqsEndpoint };
}

/** A unique prefix, so concurrent test files never share a table or queue. */
export const uniquePrefix = (label: string) => `t-${label}-${randomUUID().slice(0, 8)}`;

/** A unique message-queue prefix (short: SQS names have 80 characters, a queue name up to 48 of them). */
export const uniqueMessageQueuePrefix = () => `t${randomUUID().slice(0, 8)}-`;

export async function provisionIsolated(label: string): Promise<ProvisionedResources & { prefix: string }> {
  const { dynamodb, sqs } = emulatorClients();
  const prefix = uniquePrefix(label);
  const resources = await provision({ dynamodb, sqs }, prefix);
  dynamodb.destroy();
  sqs.destroy();
  return { ...resources, prefix };
}

/**
 * The local platform on the shared emulators, running the stack synthesized once for this test
 * run (`inject('assemblies')`), with its own table and queue prefix, and its own message queues
 * (`GET /queues` lists only this platform's).
 */
export async function startTestPlatform(label: string, options: Omit<PlatformOptions, 'emulators' | 'assemblyDir'> & { api?: SluiceApiType } = {}) {
  return startPlatform({
    port: 0,
    prefix: uniquePrefix(label),
    messageQueuePrefix: uniqueMessageQueuePrefix(),
    emulators: inject('emulators'),
    assemblyDir: inject('assemblies')[options.api ?? 'http'],
    ...options,
  });
}
