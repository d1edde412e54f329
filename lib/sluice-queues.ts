/**
 * One SQS queue per entry of definitions/queues.ts, each with its own dead-letter queue, encrypted
 * at rest and reachable only over TLS.
 */
import { createHash } from 'node:crypto';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { SqsAction } from '../definitions/functions';
import { MESSAGE_QUEUES, QUEUES, QUEUE_NAMES, type QueueDefinition, type QueueName } from '../definitions/queues';
import { pascalCase } from './names';
import { validateProps } from './validation';

/** SQS keeps a message at most 14 days. */
const MAX_RETENTION = Duration.days(14);

export interface SluiceQueuesProps {
  /**
   * How long a message stays in a dead-letter queue before SQS deletes it, 60 seconds to 14 days.
   * A standard queue's message keeps its original enqueue time when it is moved, so keep this
   * longer than the source queue's retention (4 days).
   *
   * @default Duration.days(14)
   */
  readonly deadLetterRetentionPeriod?: Duration;

  /**
   * A customer managed KMS key to encrypt the queues with. Grants made through this construct
   * (and the Lambda event sources) then include the `kms:` actions the key needs.
   *
   * @default - SQS-managed server-side encryption (SSE-SQS): encrypted at rest at no cost, no KMS
   * calls on send or receive, no key policy to manage
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * The prefix of the SQS names of this installation's message queues (`POST /queues`,
   * `Sluice.addQueue`): a queue `payments` is `<prefix>q-payments.fifo`, its dead-letter queue
   * `<prefix>d-payments.fifo`, and functions are granted on `<prefix>*` only. 1–24 of `[a-zA-Z0-9_-]`.
   * Two installations in one account and region must not share a prefix.
   *
   * @default `sluice-` + 6 hex digits of a hash of the stack name and this construct's path + `-`
   */
  readonly messageQueuePrefix?: string;
}

/** A queue and the dead-letter queue its failed messages move to. */
export interface SluiceQueue {
  /** The queue functions send to and are triggered by. */
  readonly queue: sqs.Queue;
  /** Where a message goes after `maxReceiveCount` failed receives (see definitions/queues.ts). */
  readonly deadLetterQueue: sqs.Queue;
}

/** The SQS queues of one Sluice installation, by logical name (`topicPurge`, ...). */
export class SluiceQueues extends Construct {
  /** Every queue and its dead-letter queue, by logical name in definitions/queues.ts. */
  readonly queues: Readonly<Record<QueueName, SluiceQueue>>;

  /** The prefix of every message queue's SQS name (see `SluiceQueuesProps.messageQueuePrefix`). */
  readonly messageQueuePrefix: string;

  constructor(scope: Construct, id: string, props: SluiceQueuesProps = {}) {
    super(scope, id);
    const deadLetterRetentionPeriod = props.deadLetterRetentionPeriod ?? MAX_RETENTION;
    const stackName = Stack.of(this).stackName;
    this.messageQueuePrefix =
      props.messageQueuePrefix ??
      `sluice-${createHash('sha256').update(`${Token.isUnresolved(stackName) ? '' : stackName}/${this.node.path}`).digest('hex').slice(0, 6)}-`;
    validateProps(this, [
      {
        condition: Token.isUnresolved(this.messageQueuePrefix) || !MESSAGE_QUEUES.prefixPattern.test(this.messageQueuePrefix),
        message: `messageQueuePrefix must be 1 to 24 of [a-zA-Z0-9_-] (SQS names are at most 80 characters); got "${this.messageQueuePrefix}"`,
      },
      {
        condition:
          !deadLetterRetentionPeriod.isUnresolved() &&
          (deadLetterRetentionPeriod.toSeconds() < 60 ||
            deadLetterRetentionPeriod.toSeconds() > MAX_RETENTION.toSeconds()),
        message: `deadLetterRetentionPeriod must be 60 seconds to 14 days; got ${deadLetterRetentionPeriod.toHumanString()}`,
      },
    ]);

    const encryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    const queues = {} as Record<QueueName, SluiceQueue>;
    for (const name of QUEUE_NAMES) {
      const def: QueueDefinition = QUEUES[name];
      const id = pascalCase(def.name);
      const fifo = fifoProps(def.fifo, def.highThroughput ?? false);
      const deadLetterQueue = new sqs.Queue(this, `${id}DeadLetter`, {
        ...fifo,
        retentionPeriod: deadLetterRetentionPeriod,
        enforceSSL: true,
        ...encryption,
      });
      const queue = new sqs.Queue(this, id, {
        ...fifo,
        visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: def.maxReceiveCount },
        enforceSSL: true,
        ...encryption,
      });
      queues[name] = { queue, deadLetterQueue };
    }
    this.queues = queues;
  }

  /** The queue (not its dead-letter queue) with this logical name. */
  queue(name: QueueName): sqs.IQueue {
    return this.queues[name].queue;
  }

  /** Queue URLs by logical name, as `functionEnvironment()` expects them. */
  get queueUrls(): Record<QueueName, string> {
    const urls = {} as Record<QueueName, string>;
    for (const name of QUEUE_NAMES) urls[name] = this.queues[name].queue.queueUrl;
    return urls;
  }

  /**
   * Let a function send to a queue (`sqs:SendMessage` and the calls the SDK makes around it).
   * Consuming is granted by the function's SQS event source, never directly.
   */
  grantSend(grantee: iam.IGrantable, name: QueueName): iam.Grant {
    return this.queues[name].queue.grantSendMessages(grantee);
  }

  /**
   * Let a function call exactly these SQS actions on the installation's message queues (every
   * queue named `<prefix>*`, dead-letter queues included). `ListQueues` has no resource-level
   * permission in IAM, so it is granted on `*` (it reveals queue URLs, never messages).
   */
  grantMessageQueues(grantee: iam.IGrantable, actions: readonly SqsAction[]): iam.Grant[] {
    const stack = Stack.of(this);
    const scoped = actions.filter((a) => a !== 'ListQueues');
    const grants: iam.Grant[] = [];
    if (scoped.length > 0) {
      grants.push(
        iam.Grant.addToPrincipal({
          grantee,
          actions: scoped.map((a) => `sqs:${a}`),
          resourceArns: [stack.formatArn({ service: 'sqs', resource: `${this.messageQueuePrefix}*` })],
        }),
      );
    }
    if (actions.includes('ListQueues')) grants.push(iam.Grant.addToPrincipal({ grantee, actions: ['sqs:ListQueues'], resourceArns: ['*'] }));
    return grants;
  }
}

/**
 * The FIFO properties of a queue (and of its dead-letter queue, which must be FIFO too). In
 * high-throughput mode deduplication and the throughput limit apply per message group, not per
 * queue: SQS then scales a FIFO queue with the number of message groups (each subscription ×
 * partition of `deliveries` is one), instead of capping the whole queue at 300 transactions/s per
 * API action. Exported for the subscription queues of `Sluice.subscribeLambda`.
 */
export function fifoProps(
  fifo: boolean,
  highThroughput: boolean,
): Pick<sqs.QueueProps, 'fifo' | 'deduplicationScope' | 'fifoThroughputLimit'> {
  if (!fifo) return {};
  return highThroughput
    ? {
        fifo: true,
        deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
        fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      }
    : { fifo: true };
}
