/**
 * Push subscriptions declared in CDK (`Sluice.subscribeLambda`, `Sluice.subscribeQueue`): the
 * options, their synth-time validation, and how they reach the functions (the JSON variable
 * `SLUICE_DECLARED_SUBSCRIPTIONS`, resolved at deploy time). See docs/architecture.md, "Push
 * subscriptions".
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  startAtSchema,
  subscriptionFilterSchema,
  subscriptionNameSchema,
  SUBSCRIPTION_DEFAULTS,
  SUBSCRIPTION_LIMITS,
  SUBSCRIPTIONS_ENV,
  type StartAt,
  type SubscriptionFilter,
} from '../api/subscriptions';
import { topicNameSchema } from '../api/topics';
import type { ValidationRule } from './validation';

export type { StartAt as SubscriptionStart, SubscriptionFilter } from '../api/subscriptions';

/** The environment variable carrying the subscriptions declared in CDK, as JSON. */
export const DECLARED_SUBSCRIPTIONS_ENV = SUBSCRIPTIONS_ENV.declared;
/** Set to `true` on the deliverer (and the subscriptions function) when `webhooks.allowPrivateNetworks` is. */
export const WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV = SUBSCRIPTIONS_ENV.allowPrivateNetworks;
/**
 * How much of a function's environment (4 KB in all) the declared subscriptions may take, with
 * the declared ACLs when the function carries both (the `subscriptions` function does).
 */
export const DECLARED_SUBSCRIPTIONS_MAX_BYTES = 3_000;

/** Delivery attempts of a subscription declared in CDK when none is given: the API's default. */
export const DEFAULT_SUBSCRIBER_MAX_ATTEMPTS: number = SUBSCRIPTION_DEFAULTS.maxAttempts;
/** SQS FIFO event sources take at most 10 messages per batch. */
const MAX_FIFO_BATCH_SIZE = 10;
/** The longest visibility timeout SQS allows. */
const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

export interface SubscribeOptions {
  /** The topic whose events the subscription delivers (1 to 249 of `[A-Za-z0-9._-]`, not `.` or `..`). */
  readonly topic: string;

  /**
   * The subscription's name, unique per topic: 1 to 128 of `[A-Za-z0-9._-]`. It identifies the
   * subscription in the API (`GET /topics/{topic}/subscriptions/{name}`) and the CLI.
   *
   * @default - the target construct's id, plus a hash of its path (e.g. `OrderHandler-1a2b3c4d`)
   */
  readonly name?: string;

  /**
   * Which events the subscription receives: rules on the key, on headers and on fields of JSON
   * values (exact, prefix, anything-but, numeric, exists), as for `POST /topics/{topic}/subscriptions`.
   *
   * @default - every event of the topic
   */
  readonly filter?: SubscriptionFilter;

  /**
   * Where the subscription starts when it is first deployed: `'latest'` (events appended after
   * that), `'earliest'` (the topic's history first) or `{ timestamp }` (epoch milliseconds).
   *
   * @default 'latest'
   */
  readonly startAt?: StartAt;

  /**
   * How many times a delivery is tried before its events go to the subscription's dead letters:
   * the deliverer's attempts to send to the queue, and, for `subscribeLambda`, the receives of a
   * message by the function before SQS moves it to the subscription queue's dead-letter queue.
   * 1 to 100.
   *
   * @default 10
   */
  readonly maxAttempts?: number;
}

export interface SubscribeLambdaOptions extends SubscribeOptions {
  /**
   * Messages per invocation of the function, 1 to 10 (SQS FIFO event sources). Each message holds
   * one or more events of one partition.
   *
   * @default 10
   */
  readonly batchSize?: number;
}

/** A subscription declared in CDK and what was created for it. */
export interface SluiceSubscription {
  readonly topic: string;
  readonly name: string;
  /** The FIFO queue the deliverer sends the subscription's events to. */
  readonly queue: sqs.IQueue;
  /** `subscribeLambda` only: where a message goes after `maxAttempts` failed receives. */
  readonly deadLetterQueue?: sqs.IQueue;
  /** `subscribeLambda` only: the function's event source on `queue`. */
  readonly eventSourceMappingId?: string;
}

/**
 * One declared subscription as the functions read it from `SLUICE_DECLARED_SUBSCRIPTIONS` (an array
 * of these). `queueUrl` is a token in the template, resolved at deploy time.
 */
export interface DeclaredSubscription {
  readonly topic: string;
  readonly name: string;
  readonly target: { readonly type: 'queue'; readonly queueUrl: string };
  readonly filter?: SubscriptionFilter;
  readonly startAt?: StartAt;
  readonly maxAttempts?: number;
}

/** The problems of a subscription's options, checked with the API's own schemas (api/subscriptions.ts). */
export function subscribeRules(
  options: SubscribeLambdaOptions,
  name: string,
  declared: readonly DeclaredSubscription[],
): ValidationRule[] {
  const { topic, startAt, maxAttempts, batchSize, filter } = options;
  const problem = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown) => {
    const result = schema.safeParse(value);
    return result.success ? undefined : result.error!.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  };
  const topicProblem = problem(topicNameSchema, topic);
  const nameProblem = problem(subscriptionNameSchema, name);
  const filterProblem = filter === undefined ? undefined : problem(subscriptionFilterSchema, filter);
  const startProblem = startAt === undefined ? undefined : problem(startAtSchema, startAt);
  const max = SUBSCRIPTION_LIMITS.maxAttempts;
  return [
    { condition: topicProblem !== undefined, message: `subscription topic ${JSON.stringify(topic)} is not a topic name: ${topicProblem}` },
    {
      condition: nameProblem !== undefined,
      message: `subscription name ${JSON.stringify(name)} must be 1 to 128 of [A-Za-z0-9._-], not "." or "..": ${nameProblem}`,
    },
    {
      condition: declared.some((d) => d.topic === topic && d.name === name),
      message: `topic ${topic} already has a subscription named ${name} declared in this stack; give each a distinct name`,
    },
    { condition: filterProblem !== undefined, message: `subscription filter is invalid: ${filterProblem}` },
    {
      condition: startProblem !== undefined,
      message: `startAt must be 'latest', 'earliest' or { timestamp } (epoch milliseconds); got ${JSON.stringify(startAt)}`,
    },
    {
      condition: maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= max),
      message: `maxAttempts must be a whole number from 1 to ${max}; got ${maxAttempts}`,
    },
    {
      condition: batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= MAX_FIFO_BATCH_SIZE),
      message: `batchSize must be a whole number from 1 to ${MAX_FIFO_BATCH_SIZE} (an SQS FIFO event source); got ${batchSize}`,
    },
  ];
}

/**
 * The visibility timeout of a subscriber's queue: at least 6 times the function's timeout (AWS's
 * guidance for SQS event sources), at least 30 s, at most SQS's 12 hours.
 */
export function subscriberVisibilityTimeout(fn: lambda.IFunction): Duration {
  const timeout = fn instanceof lambda.Function ? fn.timeout : undefined;
  const seconds = timeout && !Token.isUnresolved(timeout.toSeconds()) ? timeout.toSeconds() : 3; // Lambda's default timeout
  return Duration.seconds(Math.min(Math.max(30, 6 * seconds), MAX_VISIBILITY_TIMEOUT.toSeconds()));
}

/** The JSON-ready form of a declared subscription: only the options given. */
export function declaredSubscription(
  options: SubscribeOptions,
  name: string,
  queue: sqs.IQueue,
): DeclaredSubscription {
  return {
    topic: options.topic,
    name,
    target: { type: 'queue', queueUrl: queue.queueUrl },
    ...(options.filter !== undefined ? { filter: options.filter } : {}),
    ...(options.startAt !== undefined ? { startAt: options.startAt } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  };
}
