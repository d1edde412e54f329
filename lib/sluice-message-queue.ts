/**
 * Message queues declared in CDK (`sluice.addQueue('payments')`): the same SQS FIFO queues, in
 * high-throughput mode with a FIFO dead-letter queue, that `POST /queues` creates at run time,
 * named from the installation's prefix so the API serves them, and tagged `sluice:origin=stack` so
 * the API refuses to delete them. A queue hands each message to one consumer, which resolves it;
 * see docs/architecture.md, "Message queues".
 *
 *   const payments = sluice.addQueue('payments', { visibilityTimeout: Duration.minutes(2) });
 *   payments.addConsumer(worker, { batchSize: 10 });   // an SQS event source, partial batch responses
 *   payments.grantSend(producerRole);                   // POST /queues/payments/messages
 */
import { Duration, Tags, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_DEFAULTS, QUEUE_LIMITS, queueNameSchema } from '../api/queues';
import { MESSAGE_QUEUES, messageDeadLetterQueueName, messageQueueName } from '../definitions/queues';
import type { Sluice } from './sluice';
import { fifoProps } from './sluice-queues';
import { validateProps, type ValidationRule } from './validation';

/** SQS FIFO event sources take at most 10 messages per batch (a larger one needs a batching window, which FIFO has not). */
const MAX_FIFO_BATCH_SIZE = 10;
/** AWS's guidance for SQS event sources: a visibility timeout of at least 6 times the function's timeout. */
const RECOMMENDED_VISIBILITY_FACTOR = 6;

/** The queue properties `Sluice.addQueue` takes; the same, with the same limits, as `POST /queues`. */
export interface MessageQueueOptions {
  /**
   * How long a received message stays hidden from other consumers before it is delivered again
   * (unless it is acked, or extended). 0 to 12 hours, in whole seconds. A Lambda consumer
   * (`addConsumer`) needs at least the function's timeout; AWS recommends 6 times it.
   *
   * @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Receives of a message before SQS moves it to the queue's dead-letter queue (a poison message
   * stops blocking its message group there). 1 to 1000.
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * How long SQS keeps a message that nobody resolves. 60 seconds to 14 days, in whole seconds.
   * Dead letters are kept 14 days.
   *
   * @default Duration.days(4)
   */
  readonly retentionPeriod?: Duration;

  /**
   * A delay before every new message becomes visible (FIFO queues have no per-message delay).
   * 0 to 15 minutes, in whole seconds.
   *
   * @default Duration.seconds(0)
   */
  readonly deliveryDelay?: Duration;
}

/** Props of a `SluiceMessageQueue`; `Sluice.addQueue(name, options)` fills in `sluice` and `queueName`. */
export interface SluiceMessageQueueProps extends MessageQueueOptions {
  /** The installation whose API serves the queue: its prefix names it, its grants reach it. */
  readonly sluice: Sluice;

  /**
   * The queue's Sluice name, as the API, the client and the CLI know it: 1 to 48 of
   * `[a-zA-Z0-9_-]`, unique in the installation. Its SQS name is `<prefix>q-<name>.fifo` (see
   * `SluiceProps.queueNamePrefix`).
   */
  readonly queueName: string;
}

/** How a Lambda function consumes a queue (`SluiceMessageQueue.addConsumer`). */
export interface MessageQueueConsumerOptions {
  /**
   * Messages per invocation, 1 to 10 (an SQS FIFO event source). A batch holds the messages of
   * one or more message groups, each group's in order.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * How long Lambda gathers messages before it invokes the function. SQS FIFO event sources have
   * no batching window, so only zero is accepted (it is here to say so at synth, not at deploy).
   *
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * The most concurrent invocations the event source makes, 2 to 1000 (a FIFO queue's message
   * groups are still processed one batch at a time each).
   *
   * @default - no limit but the function's and the account's concurrency
   */
  readonly maxConcurrency?: number;
}

/**
 * A message queue of an installation, declared in CDK or created at run time through the API:
 * what callers of the HTTP API may be granted on it. `Sluice.queue(name)` returns one for any
 * name; `Sluice.addQueue` returns the `SluiceMessageQueue` construct, which is one too.
 */
export interface ISluiceMessageQueue {
  /** The queue's Sluice name (the API's `{queue}`). */
  readonly queueName: string;

  /**
   * Lets `grantee` send messages: IAM `execute-api:Invoke` on `POST /queues/{queue}/messages`, and
   * the ACL (grantee, queue, write).
   */
  grantSend(grantee: iam.IGrantable): iam.Grant;

  /**
   * Lets `grantee` consume: IAM `execute-api:Invoke` on receive, ack, nack, extend and
   * `GET /queues/{queue}` (with ACLs on also `GET /queues`, which lists only what it may
   * describe), and the ACL (grantee, queue, read).
   */
  grantConsume(grantee: iam.IGrantable): iam.Grant;

  /**
   * Lets `grantee` do everything to this queue: IAM `execute-api:Invoke` on every
   * `/queues/{queue}` route (describe, delete, send, receive, ack, nack, extend, redrive, purge;
   * with ACLs on also `GET /queues` and `POST /queues`, creating this name only), and the ACL
   * (grantee, queue, all). A queue declared in the stack still cannot be deleted through the API.
   */
  grantAdmin(grantee: iam.IGrantable): iam.Grant;
}

/**
 * An SQS FIFO message queue declared in the stack, served by the installation's API. Create it
 * with `sluice.addQueue(name, options)`.
 */
export class SluiceMessageQueue extends Construct implements ISluiceMessageQueue {
  /** The Sluice name (`{queue}` in the API). */
  readonly queueName: string;
  /** The SQS FIFO queue, named `<prefix>q-<name>.fifo`: for your own grants and event sources. */
  readonly queue: sqs.Queue;
  /** Its FIFO dead-letter queue, `<prefix>d-<name>.fifo`, where a message goes after `maxReceiveCount` receives. */
  readonly deadLetterQueue: sqs.Queue;
  /** The queue's visibility timeout (`visibilityTimeout`). */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue (`maxReceiveCount`). */
  readonly maxReceiveCount: number;

  private readonly sluice: Sluice;
  /** The functions consuming this queue, so one is not attached twice. */
  private readonly consumers = new Set<lambda.IFunction>();

  constructor(scope: Construct, id: string, props: SluiceMessageQueueProps) {
    super(scope, id);
    this.sluice = props.sluice;
    this.queueName = props.queueName;
    this.visibilityTimeout = props.visibilityTimeout ?? Duration.millis(QUEUE_DEFAULTS.visibilityTimeoutMs);
    this.maxReceiveCount = props.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount;
    const retentionPeriod = props.retentionPeriod ?? Duration.millis(QUEUE_DEFAULTS.retentionMs);
    const deliveryDelay = props.deliveryDelay ?? Duration.millis(QUEUE_DEFAULTS.deliveryDelayMs);
    const prefix = props.sluice.queues.messageQueuePrefix;
    validateProps(this, [
      ...queueNameRules(this.queueName),
      ...durationRules('visibilityTimeout', this.visibilityTimeout, 0, QUEUE_LIMITS.maxVisibilityTimeoutMs),
      ...durationRules('retentionPeriod', retentionPeriod, QUEUE_LIMITS.minRetentionMs, QUEUE_LIMITS.maxRetentionMs),
      ...durationRules('deliveryDelay', deliveryDelay, 0, QUEUE_LIMITS.maxDeliveryDelayMs),
      {
        condition:
          !Token.isUnresolved(this.maxReceiveCount) &&
          !(Number.isInteger(this.maxReceiveCount) && this.maxReceiveCount >= 1 && this.maxReceiveCount <= QUEUE_LIMITS.maxReceiveCount),
        message: `maxReceiveCount must be a whole number from 1 to ${QUEUE_LIMITS.maxReceiveCount}; got ${this.maxReceiveCount}`,
      },
    ]);

    const encryption = props.sluice.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.sluice.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    // High throughput: deduplication and the throughput limit per message group, so a queue scales
    // with its number of groups (an order ID each, say) instead of 300 transactions/s per action.
    const fifo = fifoProps(true, true);
    // Explicit names: the API finds a queue by its name (prefix + Sluice name), not by a stack output.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: messageDeadLetterQueueName(prefix, this.queueName),
      ...fifo,
      retentionPeriod: Duration.millis(QUEUE_DEFAULTS.deadLetterRetentionMs),
      enforceSSL: true,
      ...encryption,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: messageQueueName(prefix, this.queueName),
      ...fifo,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod,
      deliveryDelay,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      enforceSSL: true,
      ...encryption,
    });
    // The API reads the tag: `stack` queues are listed as such and cannot be deleted through it.
    for (const q of [this.queue, this.deadLetterQueue]) Tags.of(q).add(MESSAGE_QUEUES.originTag, 'stack');
  }

  /**
   * Attaches a Lambda function as a consumer: an SQS event source on the queue with partial batch
   * responses (`ReportBatchItemFailures`), so a message the function reports in
   * `batchItemFailures` comes back alone after the visibility timeout and the rest of the batch is
   * resolved; a thrown error fails the whole batch. The event source grants the function the
   * consume actions (and the key's decrypt, with an encryptionKey). Messages of one group arrive
   * in order: on a failure, report that message and every later one of its group as failed.
   *
   * Checked at synth: the queue's visibility timeout must be at least the function's timeout
   * (Lambda refuses the event source otherwise); below 6 times it a warning says why AWS
   * recommends that.
   */
  addConsumer(fn: lambda.IFunction, options: MessageQueueConsumerOptions = {}): SqsEventSource {
    const timeout = fn instanceof lambda.Function ? fn.timeout : undefined;
    const timeoutSeconds = timeout === undefined || timeout.isUnresolved() ? undefined : timeout.toSeconds();
    const visibilitySeconds = this.visibilityTimeout.isUnresolved() ? undefined : this.visibilityTimeout.toSeconds();
    const { batchSize, maxBatchingWindow, maxConcurrency } = options;
    // Known only for a function of this app with a literal timeout (an imported one is not checked).
    const compared = timeoutSeconds !== undefined && visibilitySeconds !== undefined;
    const fnTimeout = timeoutSeconds ?? 0;
    validateProps(this, [
      {
        condition: this.consumers.has(fn),
        message: `addConsumer: ${fn.node.path} already consumes queue ${this.queueName}`,
      },
      {
        condition: compared && visibilitySeconds < fnTimeout,
        message:
          `addConsumer: queue ${this.queueName} has a visibility timeout of ${visibilitySeconds} s, less than the ` +
          `${timeoutSeconds} s timeout of ${fn.node.path}; Lambda refuses such an event source (a message would ` +
          `be delivered again while the function still works on it). Give the queue a visibilityTimeout of at ` +
          `least ${timeoutSeconds} s (AWS recommends ${RECOMMENDED_VISIBILITY_FACTOR}×, ${RECOMMENDED_VISIBILITY_FACTOR * fnTimeout} s) or the function a shorter timeout`,
      },
      {
        condition: compared && visibilitySeconds >= fnTimeout && visibilitySeconds < RECOMMENDED_VISIBILITY_FACTOR * fnTimeout,
        severity: 'warning',
        id: '@sluice/queue-visibility-timeout',
        message:
          `queue ${this.queueName}: a visibility timeout of ${visibilitySeconds} s is less than ${RECOMMENDED_VISIBILITY_FACTOR}× the ` +
          `${timeoutSeconds} s timeout of ${fn.node.path}, AWS's guidance for SQS event sources: when Lambda retries a ` +
          'throttled batch, its messages can become visible again and be received twice',
      },
      {
        condition:
          batchSize !== undefined &&
          !Token.isUnresolved(batchSize) &&
          !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_FIFO_BATCH_SIZE),
        message: `addConsumer: batchSize must be a whole number from 1 to ${MAX_FIFO_BATCH_SIZE} (an SQS FIFO event source); got ${batchSize}`,
      },
      {
        condition: maxBatchingWindow !== undefined && (maxBatchingWindow.isUnresolved() || maxBatchingWindow.toMilliseconds() !== 0),
        message:
          `addConsumer: maxBatchingWindow must be zero: SQS FIFO event sources have no batching window ` +
          `(got ${maxBatchingWindow?.toHumanString()}); leave it out`,
      },
      {
        condition:
          maxConcurrency !== undefined &&
          !Token.isUnresolved(maxConcurrency) &&
          !(Number.isInteger(maxConcurrency) && maxConcurrency >= 2 && maxConcurrency <= 1000),
        message: `addConsumer: maxConcurrency must be a whole number from 2 to 1000; got ${maxConcurrency}`,
      },
    ]);
    const source = new SqsEventSource(this.queue, {
      batchSize: batchSize ?? MAX_FIFO_BATCH_SIZE,
      maxConcurrency,
      reportBatchItemFailures: true,
    });
    fn.addEventSource(source);
    this.consumers.add(fn);
    return source;
  }

  /** `Sluice.grantQueueSend(grantee, this.queueName)`: send messages. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.sluice.grantQueueSend(grantee, this.queueName);
  }

  /** `Sluice.grantQueueConsume(grantee, this.queueName)`: receive, ack, nack, extend, describe. */
  grantConsume(grantee: iam.IGrantable): iam.Grant {
    return this.sluice.grantQueueConsume(grantee, this.queueName);
  }

  /** `Sluice.grantQueueAdmin(grantee, this.queueName)`: every route of this queue. */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.sluice.grantQueueAdmin(grantee, this.queueName);
  }
}

/** The problems of a queue name, by the API's own rule (api/queues.ts). */
export function queueNameRules(name: string): ValidationRule[] {
  const result = queueNameSchema.safeParse(name);
  return [
    {
      condition: !result.success,
      message:
        `queue name ${JSON.stringify(name)} must be 1 to ${QUEUE_LIMITS.maxNameLength} of [a-zA-Z0-9_-]: ` +
        (result.error?.issues.map((i) => i.message).join('; ') ?? ''),
    },
  ];
}

/** A Duration prop within [min, max] ms, in whole seconds (SQS counts seconds). */
function durationRules(prop: string, value: Duration, minMs: number, maxMs: number): ValidationRule[] {
  if (value.isUnresolved()) return [];
  const ms = value.toMilliseconds();
  return [
    {
      condition: ms < minMs || ms > maxMs || ms % 1000 !== 0,
      message:
        `${prop} must be a whole number of seconds from ${human(minMs)} to ${human(maxMs)}; got ${value.toHumanString()}`,
    },
  ];
}

const human = (ms: number) => (ms === 0 ? '0 seconds' : Duration.millis(ms).toHumanString());
