/**
 * AWS SDK clients, with the server's one retry layer configured here. Endpoints are never
 * hard-coded: the SDK reads `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB` and
 * `AWS_ENDPOINT_URL_SQS` (LocalStack), and the local platform passes its own endpoints explicitly.
 * lambda/handlers/environment.ts creates one of each per process and shares them.
 *
 * Retries: the SDK's retry strategy is the only place the server retries an AWS error. It retries
 * throttling, transient 5xx and network errors (never a 4xx such as AccessDenied or
 * ValidationException) with exponential backoff and jitter, and, in standard mode, within a
 * per-client retry quota so an outage is not multiplied by retries. What it gives up on is mapped
 * once by errors.ts and handed to the caller, whose client retries what is retriable. No loop in
 * lambda/core retries an AWS error on top of it (the loops left are domain logic, each says why).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * Retry settings of every client the service creates.
 * - `maxAttempts` 3 (the first try and 2 retries), the SDK's standard default: with base delays of
 *   100 ms doubling and full jitter, a call gives up within about 0.5 s of backoff, so the API
 *   answers well inside API Gateway's 30 s and the client's own retries take over.
 * - `retryMode` 'standard': AWS's recommended mode (token-bucket retry quota, no client-side rate
 *   limiting; 'adaptive' would delay even first attempts after throttling, which a
 *   latency-sensitive API does not want).
 * The environment overrides both, as for any SDK: AWS_MAX_ATTEMPTS and AWS_RETRY_MODE.
 */
export const SDK_RETRY_DEFAULTS = { maxAttempts: 3, retryMode: 'standard' } as const;

function retryConfig(): { maxAttempts: number; retryMode: string } {
  const fromEnv = Number(process.env.AWS_MAX_ATTEMPTS);
  return {
    maxAttempts: Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : SDK_RETRY_DEFAULTS.maxAttempts,
    retryMode: process.env.AWS_RETRY_MODE || SDK_RETRY_DEFAULTS.retryMode,
  };
}

/**
 * Binary attributes arrive base64-encoded (DynamoDB's JSON protocol). The SDK's default decoder
 * first matches every such string against a regular expression; for a fetch of small batches that
 * check took about a tenth of the function's time. DynamoDB's own answers need no check: a
 * corrupt batch still fails loudly where it is decoded (record-batch.ts).
 */
function base64Decoder(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The configuration of every DynamoDB client the service creates (and the bench, to measure it as deployed). */
export function dynamoDbClientConfig(config: DynamoDBClientConfig = {}): DynamoDBClientConfig {
  return { ...retryConfig(), base64Decoder, ...config };
}

/** How every document client the service creates converts items. */
export const DOCUMENT_TRANSLATE_CONFIG = { marshallOptions: { removeUndefinedValues: true } } as const;

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(dynamoDbClientConfig(config)), DOCUMENT_TRANSLATE_CONFIG);
}

export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ ...retryConfig(), ...config });
}
