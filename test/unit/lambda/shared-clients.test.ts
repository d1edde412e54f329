/** One DynamoDB document client and one SQS client per process, shared by every store. */
import { describe, expect, it, vi } from 'vitest';
import { FUNCTIONS, functionEnvironment } from '../../../definitions/functions';
import * as clients from '../../../lambda/core/aws/clients';
import { SDK_RETRY_DEFAULTS } from '../../../lambda/core/aws/clients';
import {
  groupServiceFromEnv,
  logReadServiceFromEnv,
  queueServiceFromEnv,
  sharedDocumentClient,
  sharedSqsClient,
  topicServiceFromEnv,
  transactionServiceFromEnv,
} from '../../../lambda/handlers/environment';

vi.mock('../../../lambda/core/aws/clients', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../lambda/core/aws/clients')>();
  return { ...actual, createDocumentClient: vi.fn(actual.createDocumentClient), createSqsClient: vi.fn(actual.createSqsClient) };
});

const physical = {
  tables: { topics: 'topics', log: 'log', dedupe: 'dedupe', groups: 'groups', acls: 'acls', subscriptions: 'subscriptions', processors: 'processors' },
  queues: {
    topicPurge: 'https://sqs.eu-west-1.amazonaws.com/123456789012/purge',
    deliveries: 'https://sqs.eu-west-1.amazonaws.com/123456789012/deliveries.fifo',
    dispatchFailures: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dispatch-failures',
  },
  queuePrefix: 'sluice-abc123-',
} as const;
const envOf = (fn: keyof typeof FUNCTIONS) => ({ ...functionEnvironment(FUNCTIONS[fn], physical), AWS_REGION: 'eu-west-1' });

/** The private `client` field of a store (what it sends its commands with). */
const clientOf = (store: unknown) => (store as { client: unknown }).client;

describe('SDK clients', () => {
  it('are created once per process, however many services and stores are built', () => {
    const tx = transactionServiceFromEnv(envOf('transactions'));
    groupServiceFromEnv(envOf('groups'));
    topicServiceFromEnv(envOf('topics'));
    logReadServiceFromEnv(envOf('fetch'));
    const queues = queueServiceFromEnv(envOf('queues'));
    expect(clients.createDocumentClient).toHaveBeenCalledTimes(1);
    expect(clients.createSqsClient).toHaveBeenCalledTimes(1);

    // The transactions function's stores (log, topics, groups) all send through the one client.
    const internals = tx as unknown as { log: { log: unknown; topics: unknown }; groupStore: unknown };
    const shared = sharedDocumentClient();
    expect(clientOf(internals.log.log)).toBe(shared);
    expect(clientOf(internals.log.topics)).toBe(shared);
    expect(clientOf(internals.groupStore)).toBe(shared);
    expect(sharedSqsClient()).toBe(sharedSqsClient());
    // The queues service sends SQS calls and its send markers through the same two clients.
    const q = queues as unknown as { sqs: unknown; options: { markers: unknown } };
    expect(q.sqs).toBe(sharedSqsClient());
    expect(clientOf(q.options.markers)).toBe(shared);
  });

  it('carry the one retry configuration of the server', async () => {
    const config = sharedDocumentClient().config;
    expect(await config.maxAttempts()).toBe(SDK_RETRY_DEFAULTS.maxAttempts);
    const mode = config.retryMode as unknown;
    expect(typeof mode === 'function' ? await (mode as () => Promise<string>)() : mode).toBe(SDK_RETRY_DEFAULTS.retryMode);
    expect(await sharedSqsClient().config.maxAttempts()).toBe(SDK_RETRY_DEFAULTS.maxAttempts);
  });

  it('decode binary attributes to exactly their bytes, wherever Buffer pools them', async () => {
    const decode = sharedDocumentClient().config.base64Decoder;
    for (const bytes of [[], [0], [0, 255, 7], Array.from({ length: 5000 }, (_, i) => (i * 31) % 256)]) {
      // Small decodes share Buffer's pool: the view must start at its own offset.
      Buffer.from('padding the pool', 'utf8');
      const decoded = decode(Buffer.from(bytes).toString('base64'));
      expect(decoded).toBeInstanceOf(Uint8Array);
      expect([...decoded]).toEqual(bytes);
    }
  });
});
