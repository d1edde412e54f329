/**
 * Every SQS queue Sluice uses, defined once for the CDK stack and the local platform.
 */

export interface QueueDefinition {
  readonly name: string;
  readonly description: string;
  readonly fifo: boolean;
  /** Seconds a received message stays invisible; must exceed the consuming function's timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives after which a message moves to the queue's dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Environment variable that carries the queue URL to a function. */
  readonly envVar: string;
  /**
   * FIFO high-throughput mode: deduplication and the throughput limit per message group, not per
   * queue. @default false
   */
  readonly highThroughput?: boolean;
}

export const QUEUES = {
  topicPurge: {
    name: 'topic-purge',
    description:
      "Deleted topics whose log items still need removing. A topic's events are keyed by its " +
      'topicId, so they are unreachable the moment the topic is deleted; this queue reclaims the storage.',
    fifo: false,
    // At least 6× the consuming function's timeout (topic-purge: 300 s), AWS's guidance for SQS
    // event sources, so a message is not handed out again while a retried batch may still run.
    visibilityTimeoutSeconds: 6 * 5 * 60,
    maxReceiveCount: 5,
    envVar: 'SLUICE_TOPIC_PURGE_QUEUE_URL',
  },
  deliveries: {
    name: 'deliveries',
    description:
      'Wake-ups for push subscriptions, one message group per subscription and partition: "partition p has ' +
      'events up to offset n"; the deliverer reads the log from the subscription\'s cursor.',
    fifo: true,
    highThroughput: true,
    // 6 × the deliverer's 60 s timeout, as AWS advises for SQS event sources.
    visibilityTimeoutSeconds: 6 * 60,
    // The deliverer dead-letters a subscription's events itself after its maxAttempts; this is the
    // last resort for a message the deliverer cannot even read.
    maxReceiveCount: 50,
    envVar: 'SLUICE_DELIVERIES_QUEUE_URL',
  },
  dispatchFailures: {
    name: 'dispatch-failures',
    description:
      'Where the log stream\'s event source mapping sends the records of a dispatcher batch that kept failing ' +
      '(its on-failure destination), so no record is dropped without a trace.',
    fifo: false,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    envVar: 'SLUICE_DISPATCH_FAILURES_QUEUE_URL',
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueName = keyof typeof QUEUES;
export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

/** Physical name of a queue's dead-letter queue (FIFO queues need the `.fifo` suffix on both). */
export function deadLetterQueueName(base: string, fifo: boolean): string {
  return fifo ? `${base}-dlq.fifo` : `${base}-dlq`;
}

// ---- message queues ----------------------------------------------------------------------------

/**
 * The installation's message queues (`POST /queues`, `sluice.addQueue`): SQS FIFO queues in
 * high-throughput mode, each with a FIFO dead-letter queue. Unlike the queues above they are not
 * fixed at synth time, so they are found by name: every one is named from the installation's
 * prefix, which the stack passes to the functions that use them and grants on as `<prefix>*`.
 */
export const MESSAGE_QUEUES = {
  /** Environment variable that carries the prefix to a function. */
  prefixEnvVar: 'SLUICE_QUEUE_PREFIX',
  /** Tag naming who owns a queue: `api` (created through the API) or `stack` (declared in CDK). */
  originTag: 'sluice:origin',
  /** A prefix: what the stack derives (`sluice-` + 6 hex + `-`) or a user's own, within SQS's name rules. */
  prefixPattern: /^[a-zA-Z0-9_-]{1,24}$/,
} as const;

/** SQS name of a message queue: `<prefix>q-<name>.fifo`. */
export function messageQueueName(prefix: string, name: string): string {
  return `${prefix}q-${name}.fifo`;
}

/** SQS name of a message queue's dead-letter queue: `<prefix>d-<name>.fifo` (never listed as a queue). */
export function messageDeadLetterQueueName(prefix: string, name: string): string {
  return `${prefix}d-${name}.fifo`;
}

/** The Sluice name of a message queue from its SQS name (or URL), or undefined if it is not one. */
export function messageQueueNameOf(prefix: string, sqsNameOrUrl: string): string | undefined {
  const sqsName = sqsNameOrUrl.split('/').pop() ?? '';
  const head = `${prefix}q-`;
  if (!sqsName.startsWith(head) || !sqsName.endsWith('.fifo')) return undefined;
  return sqsName.slice(head.length, -'.fifo'.length) || undefined;
}
