/**
 * One Sluice installation as a construct, for any stack: tables, queues, functions and the API.
 * `SluiceStack` is this construct in a stack of its own; users put it in their own CDK apps:
 *
 *   const events = new Sluice(this, 'Events', { api: 'rest' });
 *   events.functions.functions.produce; events.api.url;
 *   events.topic('orders').subscribeLambda(orderHandler);        // push subscriptions, see lib/sluice-subscriptions.ts
 *   events.addQueue('payments').addConsumer(paymentWorker);      // message queues, see lib/sluice-message-queue.ts
 */
import { createHash } from 'node:crypto';
import { Duration, Lazy, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { ANY_RESOURCE, CLUSTER_RESOURCE_NAME, type AclBinding, type Operation, type ResourceType } from '../api/acls';
import { AUTHORIZATION_ENV, encodeDeclaredAcls, type AuthorizationMode } from '../definitions/authorization';
import { FALLBACK_FUNCTION, ROUTES, type FunctionName, type RouteKey } from '../definitions/functions';
import { SluiceApi, type SluiceApiType } from './sluice-api';
import { SluiceFunctions } from './sluice-functions';
import { queueNameRules, SluiceMessageQueue, type ISluiceMessageQueue, type MessageQueueOptions } from './sluice-message-queue';
import { fifoProps, SluiceQueues } from './sluice-queues';
import {
  DECLARED_SUBSCRIPTIONS_ENV,
  DECLARED_SUBSCRIPTIONS_MAX_BYTES,
  DEFAULT_SUBSCRIBER_MAX_ATTEMPTS,
  declaredSubscription,
  subscribeRules,
  subscriberVisibilityTimeout,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV,
  type DeclaredSubscription,
  type SluiceSubscription,
  type SubscribeLambdaOptions,
  type SubscribeOptions,
} from './sluice-subscriptions';
import { SluiceTables } from './sluice-tables';
import { validateProps } from './validation';

/**
 * How much of a function's environment (Lambda allows 4 KB of variables in all) the ACLs declared
 * in CDK may take; the rest holds the table names and Sluice's other variables.
 */
export const DECLARED_ACLS_MAX_BYTES = 3_000;
/** What an unresolved token (a role ARN known only at deploy time) is counted as: a role ARN with a long name. */
const TOKEN_ESTIMATE_BYTES = 100;

/** A topic, group or queue named exactly, or every one whose name starts with `prefix`. */
export type ResourcePattern = string | { readonly prefix: string };

export interface ConsumeGrant {
  /** The topic (or topics, by prefix) the grantee reads. */
  readonly topic: ResourcePattern;
  /** The consumer group (or groups, by prefix) it reads through; none for plain fetches. @default - no group */
  readonly group?: ResourcePattern;
}

export interface SluiceProps {
  /**
   * Which API Gateway API fronts the functions: `'http'` (an HTTP API, $1.00 per million
   * requests) or `'rest'` (a REST API, $3.50 per million, the only kind LocalStack's free plan
   * emulates). Both use IAM (SigV4) auth on every route and serve the same routes and answers.
   *
   * @default 'http'
   */
  readonly api?: SluiceApiType;

  /**
   * What happens to the DynamoDB tables, and the events in them, when they leave the stack or the
   * stack is deleted: `RETAIN`, `RETAIN_ON_UPDATE_OR_DELETE` or `DESTROY` (for throw-away stacks).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Turn on DynamoDB deletion protection for every table.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * A customer managed KMS key for the tables and queues.
   *
   * @default - AWS managed key `aws/dynamodb` for tables, SQS-managed encryption for queues
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long CloudWatch keeps function logs and API access logs; one of `logs.RetentionDays`.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Lambda runtime of every function: Node.js 22 or newer.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Memory of every function in MB, 128 to 10240.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Request limits of the API's stage: `rateLimit` requests per second (up to 10,000) and
   * `burstLimit` (a whole number up to 5,000).
   *
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;

  /**
   * Who may do what inside Sluice, beyond calling its API:
   * - `'iam-only'`: IAM on the API is the only check. A principal allowed to call a route may act on
   *   any topic or group the request names, including the topics named in request bodies (group
   *   joins, commits, seeks, transactions), and listings show everything. How deployments before
   *   ACLs existed behave.
   * - `'acl'`: every request is also checked against Kafka-style ACLs (per topic, per group, per
   *   queue, the cluster): those declared here with `grantProduce`/`grantConsume`/`grantAdmin`, the
   *   queue grants (`queue(name).grantSend`, ..., `grantQueueAdmin`) or `addAcl`, and
   *   those created with `POST /acls` (`sluice acls create`). A request the ACLs do not allow is
   *   answered `403 AuthorizationFailed` and changes nothing; listings show only what the caller
   *   may describe. Create the ACLs your clients need (or grant them here) before you switch it on.
   *
   * @default 'iam-only'
   */
  readonly authorization?: AuthorizationMode;

  /**
   * With `authorization: 'acl'`, how long a function keeps the ACLs it read from the `acls` table:
   * a change made with `POST /acls` or `DELETE /acls` takes effect within this time. Whole
   * milliseconds, 0 to 5 minutes. ACLs declared in CDK take effect when the stack deploys.
   *
   * @default Duration.seconds(5)
   */
  readonly aclCacheTtl?: Duration;

  /**
   * What subscriptions created at run time (`POST /topics/{topic}/subscriptions`) may deliver to,
   * besides webhooks: the deliverer function is granted `sqs:SendMessage` on exactly these queues
   * and `lambda:InvokeFunction` on exactly these functions, so a subscription naming any other
   * queue or function fails to deliver (its events go to its dead letters). Queue targets must be
   * FIFO queues. Subscriptions declared with `subscribeLambda`/`subscribeQueue` need not be listed.
   *
   * @default - no queue or function: run-time subscriptions can only be webhooks
   */
  readonly subscriptionTargets?: SubscriptionTargets;

  /** How webhook subscriptions may be delivered. @default - `allowPrivateNetworks: false` */
  readonly webhooks?: WebhookOptions;

  /**
   * The prefix of the SQS names of this installation's message queues (`addQueue`, `POST /queues`):
   * a queue `payments` is `<prefix>q-payments.fifo`, its dead-letter queue `<prefix>d-payments.fifo`,
   * and the queues function may touch only queues named `<prefix>*`. 1 to 24 of `[a-zA-Z0-9_-]`.
   * Two installations in one account and Region must not share a prefix. Changing it later leaves
   * the queues created through the API under the old prefix, unseen by the API.
   *
   * @default `sluice-` + 6 hex digits of a hash of the stack name and the construct's path + `-`
   */
  readonly queueNamePrefix?: string;
}

/** A topic handle from `Sluice.topic(name)`. */
export interface SluiceTopic {
  readonly name: string;
  /** Subscribes a Lambda function to this topic; see `Sluice.subscribeLambda`. */
  subscribeLambda(fn: lambda.IFunction, options?: Omit<SubscribeLambdaOptions, 'topic'>): SluiceSubscription;
  /** Subscribes a FIFO queue to this topic; see `Sluice.subscribeQueue`. */
  subscribeQueue(queue: sqs.IQueue, options?: Omit<SubscribeOptions, 'topic'>): SluiceSubscription;
}

export interface SubscriptionTargets {
  /** FIFO queues run-time subscriptions may send to. @default - none */
  readonly queues?: readonly sqs.IQueue[];
  /**
   * Functions run-time subscriptions may invoke: `lambda:InvokeFunction` on exactly each one's
   * `functionArn`, in the deliverer's role. That is the unqualified ARN for a function; to let
   * subscriptions name an alias or a version (`functionArn` with a qualifier), list that alias or
   * version (`lambda.Alias`, `fn.currentVersion`). A function in another account must also allow
   * the deliverer's role (`sluice.functions.functions.deliverer.role`) in its resource policy.
   *
   * @default - none
   */
  readonly functions?: readonly lambda.IFunction[];
}

export interface WebhookOptions {
  /**
   * Let webhooks point at loopback, link-local (169.254.0.0/16, the instance metadata service) and
   * private (10/8, 172.16/12, 192.168/16, fc00::/7, ...) addresses. Leave it off in a deployment: a
   * subscription could otherwise reach into your network (SSRF). The local platform turns it on so
   * that webhooks on loopback work. Sets `SLUICE_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true` on the
   * deliverer and subscriptions functions.
   *
   * @default false
   */
  readonly allowPrivateNetworks?: boolean;
}

/** A complete Sluice installation inside any stack: `new Sluice(this, 'Events')`. */
export class Sluice extends Construct {
  readonly tables: SluiceTables;
  readonly queues: SluiceQueues;
  readonly functions: SluiceFunctions;
  readonly api: SluiceApi;
  /** Whether ACLs are checked (`authorization` prop). */
  readonly authorization: AuthorizationMode;
  /** The ACLs declared in CDK so far (grants and `addAcl`); they reach the functions at deploy time. */
  private readonly declaredAcls: AclBinding[] = [];
  /** The subscriptions declared in CDK so far; they reach the functions at deploy time. */
  private readonly declaredSubscriptions: DeclaredSubscription[] = [];
  private readonly subscriptionsScope: Construct;
  /** The message queues declared in CDK so far, by Sluice name. */
  private readonly declaredQueues = new Map<string, SluiceMessageQueue>();
  private messageQueuesScope?: Construct;
  /** The `encryptionKey` prop: tables, queues and message queues are encrypted with it. */
  readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: SluiceProps = {}) {
    super(scope, id);
    this.authorization = props.authorization ?? 'iam-only';
    const cacheTtlMs = (props.aclCacheTtl ?? Duration.seconds(5)).toMilliseconds();
    validateProps(this, [
      {
        condition: this.authorization !== 'iam-only' && this.authorization !== 'acl',
        message: `authorization must be 'iam-only' or 'acl'; got ${JSON.stringify(this.authorization)}`,
      },
      {
        condition: !(Number.isInteger(cacheTtlMs) && cacheTtlMs >= 0 && cacheTtlMs <= 5 * 60_000),
        message: `aclCacheTtl must be a whole number of milliseconds from 0 to 5 minutes; got ${cacheTtlMs} ms`,
      },
    ]);
    this.encryptionKey = props.encryptionKey;
    this.tables = new SluiceTables(this, 'Tables', {
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
      encryptionKey: props.encryptionKey,
    });
    this.queues = new SluiceQueues(this, 'Queues', { encryptionKey: props.encryptionKey, messageQueuePrefix: props.queueNamePrefix });
    this.functions = new SluiceFunctions(this, 'Functions', {
      tables: this.tables,
      queues: this.queues,
      runtime: props.runtime,
      memorySize: props.memorySize,
      logRetention: props.logRetention,
    });
    this.api = new SluiceApi(this, 'Api', {
      type: props.api,
      functions: this.functions.functions,
      throttle: props.throttle,
      accessLogRetention: props.logRetention,
    });

    const deliverer = this.functions.functions.deliverer;
    this.allowSubscriptionTargets(props.subscriptionTargets ?? {});
    if (props.webhooks?.allowPrivateNetworks === true) {
      for (const fn of [deliverer, this.functions.functions.subscriptions]) fn.addEnvironment(WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV, 'true');
    }
    this.subscriptionsScope = new Construct(this, 'Subscriptions');
    this.node.addValidation({ validate: () => this.environmentBudgetErrors() });

    if (this.authorization === 'acl') {
      // The declared ACLs are read when the template is synthesized, so grants made after this
      // constructor (in the app's own code) are included. Role ARNs stay tokens and resolve at deploy.
      const declared = Lazy.string({ produce: () => Stack.of(this).toJsonString(encodeDeclaredAcls(this.declaredAcls)) });
      for (const name of routedFunctions()) {
        const fn = this.functions.functions[name];
        fn.addEnvironment(AUTHORIZATION_ENV.mode, 'acl');
        fn.addEnvironment(AUTHORIZATION_ENV.declaredAcls, declared);
        fn.addEnvironment(AUTHORIZATION_ENV.cacheTtlMs, String(cacheTtlMs));
      }
    }
  }

  /**
   * Lets `grantee` produce to a topic (or every topic with a prefix): IAM `execute-api:Invoke` on
   * `POST /topics/{topic}/events` and `GET /topics/{topic}` (and, with ACLs on, `GET /topics` and
   * `POST /transactions`, whose topics only ACLs can check), and the ACL (grantee, topic, write).
   */
  grantProduce(grantee: iam.IGrantable, topic: ResourcePattern): iam.Grant {
    const t = pathName(topic);
    this.addAclsFor(grantee, [['topic', topic, 'write']]);
    return this.grantInvoke(grantee, [
      ['POST /topics/{topic}/events', { topic: t }],
      ['GET /topics/{topic}', { topic: t }],
      ...this.aclOnly(['GET /topics', {}], ['POST /transactions', {}]),
    ]);
  }

  /**
   * Lets `grantee` consume a topic (or every topic with a prefix), through a consumer group if one
   * is given: IAM `execute-api:Invoke` on the topic's describe and fetch routes and on every route
   * of the group but its delete (join, heartbeat, leave, records, commit, seek, describe), with ACLs on also the
   * listings and `POST /transactions`; and the ACLs (grantee, topic, read) and (grantee, group, read).
   *
   * With `authorization: 'iam-only'`, IAM cannot see the topics a group join, commit or seek names
   * in its body: a grantee allowed a group's routes can join it with any topic. Turn ACLs on to
   * scope consumers to their topics.
   */
  grantConsume(grantee: iam.IGrantable, options: ConsumeGrant): iam.Grant {
    const t = pathName(options.topic);
    const acls: [ResourceType, ResourcePattern, Exclude<Operation, 'all'>][] = [['topic', options.topic, 'read']];
    const routes: [RouteKey, Record<string, string>][] = [
      ['GET /topics/{topic}', { topic: t }],
      ['GET /topics/{topic}/partitions/{partition}/events', { topic: t }],
      ...this.aclOnly(['GET /topics', {}], ['POST /transactions', {}]),
    ];
    if (options.group !== undefined) {
      const g = pathName(options.group);
      acls.push(['group', options.group, 'read']);
      routes.push(
        // Not DELETE /groups/{group}: deleting the group is an admin's act (group delete), not a consumer's.
        ...(ROUTES.filter((r) => r.path.startsWith('/groups/{group}') && !(r.method === 'DELETE' && r.path === '/groups/{group}')).map((r) => [
          `${r.method} ${r.path}` as RouteKey,
          { group: g },
        ]) as [
          RouteKey,
          Record<string, string>,
        ][]),
        ...this.aclOnly(['GET /groups', {}]),
      );
    }
    this.addAclsFor(grantee, acls);
    return this.grantInvoke(grantee, routes);
  }

  /**
   * Lets `grantee` do everything (Kafka's super user): IAM `execute-api:Invoke` on every route, and
   * the ACLs (grantee, all) on the cluster, every topic, every group and every queue.
   */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    const principal = principalArnOf(grantee);
    this.addAcl({ principal, resourceType: 'cluster', patternType: 'literal', resourceName: CLUSTER_RESOURCE_NAME, operation: 'all', permission: 'allow' });
    for (const resourceType of ['topic', 'group', 'queue'] as const) {
      this.addAcl({ principal, resourceType, patternType: 'literal', resourceName: ANY_RESOURCE, operation: 'all', permission: 'allow' });
    }
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: [this.executeApiArn()] });
  }

  /**
   * Declares a message queue in the stack: an SQS FIFO queue in high-throughput mode named
   * `<prefix>q-<name>.fifo`, with a FIFO dead-letter queue after `maxReceiveCount` receives, both
   * encrypted (SSE-SQS, or the `encryptionKey`), TLS only, and tagged `sluice:origin=stack`. The
   * API serves it like a queue created with `POST /queues` (send, receive, ack, ...), except that
   * `DELETE` refuses it: remove it from the stack instead. Attach Lambda consumers with
   * `addConsumer`, grant API callers with `grantSend`/`grantConsume`/`grantAdmin`.
   *
   * The name follows the API's rule (1 to 48 of `[a-zA-Z0-9_-]`) and must be unique in the
   * installation; the options have the API's limits. Renaming a queue replaces it, and removing it
   * from the stack deletes it, messages and all (SQS queues hold work in flight, not records).
   */
  addQueue(name: string, options: MessageQueueOptions = {}): SluiceMessageQueue {
    validateProps(this, [
      ...queueNameRules(name),
      {
        condition: this.declaredQueues.has(name),
        message: `a queue named ${name} is already declared in this installation; give each addQueue a distinct name`,
      },
    ]);
    this.messageQueuesScope ??= new Construct(this, 'MessageQueues');
    const queue = new SluiceMessageQueue(this.messageQueuesScope, name, { ...options, sluice: this, queueName: name });
    this.declaredQueues.set(name, queue);
    return queue;
  }

  /**
   * A message queue of this installation by name, to grant API callers on it: one declared with
   * `addQueue` (the same as its construct's grants) or one created at run time with `POST /queues`
   * (`sluice queues create`), which need not exist yet.
   */
  queue(name: string): ISluiceMessageQueue {
    const declared = this.declaredQueues.get(name);
    if (declared) return declared;
    validateProps(this, queueNameRules(name));
    return {
      queueName: name,
      grantSend: (grantee) => this.grantQueueSend(grantee, name),
      grantConsume: (grantee) => this.grantQueueConsume(grantee, name),
      grantAdmin: (grantee) => this.grantQueueAdmin(grantee, name),
    };
  }

  /** The message queues declared with `addQueue` so far. */
  get messageQueues(): readonly SluiceMessageQueue[] {
    return [...this.declaredQueues.values()];
  }

  /**
   * Lets `grantee` send to a queue (or every queue with a prefix): IAM `execute-api:Invoke` on
   * `POST /queues/{queue}/messages`, and the ACL (grantee, queue, write).
   */
  grantQueueSend(grantee: iam.IGrantable, queue: ResourcePattern): iam.Grant {
    validateProps(this, queuePatternRules(queue));
    this.addAclsFor(grantee, [['queue', queue, 'write']]);
    return this.grantInvoke(grantee, [['POST /queues/{queue}/messages', { queue: pathName(queue) }]]);
  }

  /**
   * Lets `grantee` consume a queue (or every queue with a prefix): IAM `execute-api:Invoke` on
   * receive, ack, nack, extend and `GET /queues/{queue}` (with ACLs on also `GET /queues`, whose
   * answer only ACLs can filter), and the ACL (grantee, queue, read).
   */
  grantQueueConsume(grantee: iam.IGrantable, queue: ResourcePattern): iam.Grant {
    validateProps(this, queuePatternRules(queue));
    const q = pathName(queue);
    this.addAclsFor(grantee, [['queue', queue, 'read']]);
    return this.grantInvoke(grantee, [
      ['GET /queues/{queue}', { queue: q }],
      ['POST /queues/{queue}/receive', { queue: q }],
      ['POST /queues/{queue}/ack', { queue: q }],
      ['POST /queues/{queue}/nack', { queue: q }],
      ['POST /queues/{queue}/extend', { queue: q }],
      ...this.aclOnly(['GET /queues', {}]),
    ]);
  }

  /**
   * Lets `grantee` manage message queues, and nothing about topics, groups or ACLs (`grantAdmin`
   * is the super user of everything):
   * - without `queue`: every queue. IAM `execute-api:Invoke` on `POST /queues`, `GET /queues` and
   *   every `/queues/{queue}` route, and the ACL (grantee, queue `*`, all). For a service that
   *   creates and deletes its own queues at run time.
   * - with a name or a prefix: those queues' routes (describe, delete, send, receive, ack, nack,
   *   extend, redrive, purge), and the ACL (grantee, queue, all). Creating needs `POST /queues`,
   *   whose body names the queue: IAM cannot scope that, so it is granted only with ACLs on (they
   *   allow creating exactly these names); with `authorization: 'iam-only'` grant creation with
   *   `grantQueueAdmin(grantee)`.
   * Queues declared in the stack cannot be deleted through the API either way.
   */
  grantQueueAdmin(grantee: iam.IGrantable, queue?: ResourcePattern): iam.Grant {
    if (queue !== undefined) validateProps(this, queuePatternRules(queue));
    this.addAclsFor(grantee, [['queue', queue ?? ANY_RESOURCE, 'all']]);
    if (queue === undefined) {
      // Every method on /queues and below: the collection and every queue's routes.
      const resourceArns = [this.executeApiArn('*', '/queues'), this.executeApiArn('*', '/queues/*')];
      return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns });
    }
    const q = pathName(queue);
    const queueRoutes = ROUTES.filter((r) => r.path.startsWith('/queues/{queue}')).map(
      (r) => [`${r.method} ${r.path}` as RouteKey, { queue: q }] as [RouteKey, Record<string, string>],
    );
    return this.grantInvoke(grantee, [...this.aclOnly(['POST /queues', {}], ['GET /queues', {}]), ...queueRoutes]);
  }

  /**
   * Declares an ACL in the stack (checked when `authorization` is `'acl'`). `principal` may be a
   * token (a role's ARN), resolved at deploy time. Declared ACLs travel in the functions'
   * environment, which Lambda caps at 4 KB: declare a handful (prefixes help), and create the rest
   * with `POST /acls`.
   */
  addAcl(acl: AclBinding): void {
    this.declaredAcls.push(acl);
    const size = estimatedBytes(JSON.stringify(encodeDeclaredAcls(this.declaredAcls)));
    validateProps(this, [
      {
        condition: this.authorization === 'acl' && size > DECLARED_ACLS_MAX_BYTES,
        message:
          `the ACLs declared in CDK (${this.declaredAcls.length}, with grantProduce/grantConsume/grantAdmin/addAcl) take about ` +
          `${size} bytes of every function's environment, more than ${DECLARED_ACLS_MAX_BYTES} (Lambda allows 4 KB of ` +
          'variables in all); use prefixed grants, or create ACLs with POST /acls (`sluice acls create`)',
      },
    ]);
  }

  /**
   * One topic of this installation, to subscribe to it:
   * `sluice.topic('orders').subscribeLambda(fn, { filter, startAt, batchSize, maxAttempts })`.
   * The same as `subscribeLambda`/`subscribeQueue` with `topic` set.
   */
  topic(name: string): SluiceTopic {
    return {
      name,
      subscribeLambda: (fn, options = {}) => this.subscribeLambda(fn, { ...options, topic: name }),
      subscribeQueue: (queue, options = {}) => this.subscribeQueue(queue, { ...options, topic: name }),
    };
  }

  /**
   * Subscribes a Lambda function to a topic: creates an SQS FIFO queue for the subscription (with
   * a FIFO dead-letter queue after `maxAttempts` receives, encrypted, TLS only), an SQS event source
   * on `fn` with partial batch responses (`ReportBatchItemFailures`; the function may consume the
   * queue), lets the deliverer send to the queue, and declares the subscription to Sluice's
   * functions. The deliverer sends each partition's events in order (message group = topic and
   * partition; deduplication ID = subscription, topic, partition and offset). Wrap the handler in
   * `sluiceSubscriber()` (`sluice/subscriber`) to get Sluice events and partial batch failures.
   */
  subscribeLambda(fn: lambda.IFunction, options: SubscribeLambdaOptions): SluiceSubscription {
    const name = options.name ?? defaultSubscriptionName(fn);
    validateProps(this, subscribeRules(options, name, this.declaredSubscriptions));
    const id = `${options.topic}-${name}`;
    const scope = new Construct(this.subscriptionsScope, id);
    const encryption = this.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const fifo = fifoProps(true, true);
    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      ...fifo,
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      ...encryption,
    });
    const queue = new sqs.Queue(scope, 'Queue', {
      ...fifo,
      visibilityTimeout: subscriberVisibilityTimeout(fn),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: options.maxAttempts ?? DEFAULT_SUBSCRIBER_MAX_ATTEMPTS },
      enforceSSL: true,
      ...encryption,
    });
    const source = new SqsEventSource(queue, { batchSize: options.batchSize ?? 10, reportBatchItemFailures: true });
    fn.addEventSource(source);
    this.declareSubscription(options, name, queue);
    return { topic: options.topic, name, queue, deadLetterQueue, eventSourceMappingId: source.eventSourceMappingId };
  }

  /**
   * Subscribes an SQS FIFO queue (yours, in this app or imported) to a topic: lets the deliverer
   * send to it and declares the subscription to Sluice's functions. Each partition's events arrive
   * in order (message group = topic and partition; deduplication ID = subscription, topic,
   * partition and offset). Give the queue a dead-letter queue for its own consumers' failures.
   */
  subscribeQueue(queue: sqs.IQueue, options: SubscribeOptions): SluiceSubscription {
    const name = options.name ?? defaultSubscriptionName(queue);
    validateProps(this, [
      {
        condition: !queue.fifo,
        message:
          `subscribeQueue: ${queue.node.path} is not a FIFO queue; Sluice delivers each partition's events in order, ` +
          'which only FIFO queues keep (create it with fifo: true, or import it by an ARN ending in .fifo)',
      },
      ...subscribeRules(options, name, this.declaredSubscriptions),
    ]);
    this.declareSubscription(options, name, queue);
    return { topic: options.topic, name, queue };
  }

  /** The subscriptions declared in CDK so far, as the functions receive them. */
  get subscriptions(): readonly DeclaredSubscription[] {
    return [...this.declaredSubscriptions];
  }

  private declareSubscription(options: SubscribeOptions, name: string, queue: sqs.IQueue): void {
    queue.grantSendMessages(this.functions.functions.deliverer);
    const first = this.declaredSubscriptions.length === 0;
    this.declaredSubscriptions.push(declaredSubscription(options, name, queue));
    const size = estimatedBytes(JSON.stringify(this.declaredSubscriptions));
    validateProps(this, [
      {
        condition: size > DECLARED_SUBSCRIPTIONS_MAX_BYTES,
        message:
          `the subscriptions declared in CDK (${this.declaredSubscriptions.length}) take about ${size} bytes of the ` +
          `functions' environment, more than ${DECLARED_SUBSCRIPTIONS_MAX_BYTES} (Lambda allows 4 KB of variables in all); ` +
          'create the others at run time with POST /topics/{topic}/subscriptions (`sluice subscriptions create`)',
      },
    ]);
    if (!first) return;
    // Read when the template is synthesized, so subscriptions declared later are included; queue
    // URLs stay tokens and resolve at deploy time.
    const declared = Lazy.string({ produce: () => Stack.of(this).toJsonString(this.declaredSubscriptions) });
    for (const fn of SUBSCRIPTION_FUNCTIONS) this.functions.functions[fn].addEnvironment(DECLARED_SUBSCRIPTIONS_ENV, declared);
  }

  /** The functions that carry both the declared ACLs and subscriptions must still fit Lambda's 4 KB. */
  private environmentBudgetErrors(): string[] {
    if (this.authorization !== 'acl' || this.declaredSubscriptions.length === 0) return [];
    const size =
      estimatedBytes(JSON.stringify(encodeDeclaredAcls(this.declaredAcls))) + estimatedBytes(JSON.stringify(this.declaredSubscriptions));
    return size > DECLARED_SUBSCRIPTIONS_MAX_BYTES
      ? [
          `the ACLs and subscriptions declared in CDK take about ${size} bytes of the subscriptions function's environment, ` +
            `more than ${DECLARED_SUBSCRIPTIONS_MAX_BYTES} (Lambda allows 4 KB of variables in all); declare fewer ` +
            '(prefixed grants help) and create the rest through the API',
        ]
      : [];
  }

  /** The ACLs declared in CDK so far. */
  get acls(): readonly AclBinding[] {
    return [...this.declaredAcls];
  }

  /**
   * Let run-time subscriptions deliver to these FIFO queues and Lambda functions as well (the same
   * as the `subscriptionTargets` prop, for targets created after the construct): the deliverer is
   * granted `sqs:SendMessage` / `lambda:InvokeFunction` on exactly these.
   */
  allowSubscriptionTargets(targets: SubscriptionTargets): void {
    const deliverer = this.functions.functions.deliverer;
    validateProps(
      this,
      (targets.queues ?? []).map((queue) => ({
        condition: !queue.fifo,
        message: `subscriptionTargets.queues: ${queue.node.path} is not a FIFO queue; subscriptions deliver in order to FIFO queues only`,
      })),
    );
    for (const queue of targets.queues ?? []) queue.grantSendMessages(deliverer);
    for (const fn of targets.functions ?? []) {
      // An identity policy on the deliverer's role, for exactly this ARN (no Lambda permission
      // resource, which imported functions cannot take).
      iam.Grant.addToPrincipal({ grantee: deliverer, actions: ['lambda:InvokeFunction'], resourceArns: [fn.functionArn] });
    }
  }

  /** The base URL of the API, ending in `/`. */
  get url(): string {
    return this.api.url;
  }

  private addAclsFor(grantee: iam.IGrantable, acls: readonly [ResourceType, ResourcePattern, Operation][]): void {
    const principal = principalArnOf(grantee);
    for (const [resourceType, pattern, operation] of acls) {
      this.addAcl({
        principal,
        resourceType,
        patternType: typeof pattern === 'string' ? 'literal' : 'prefixed',
        resourceName: typeof pattern === 'string' ? pattern : pattern.prefix,
        operation,
        permission: 'allow',
      });
    }
  }

  /** Routes granted only when ACLs are on: their bodies or answers name topics IAM cannot scope. */
  private aclOnly(...routes: [RouteKey, Record<string, string>][]): [RouteKey, Record<string, string>][] {
    return this.authorization === 'acl' ? routes : [];
  }

  private grantInvoke(grantee: iam.IGrantable, routes: readonly [RouteKey, Record<string, string>][]): iam.Grant {
    const resourceArns = routes.map(([key, params]) => {
      const [method, path] = key.split(' ') as [string, string];
      return this.executeApiArn(method, path.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '*'));
    });
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: [...new Set(resourceArns)] });
  }

  /** The execute-api ARN of a route on any stage (`{api}/<any stage>/{method}{path}`); every route when no method is given. */
  private executeApiArn(method?: string, path?: string): string {
    const api = this.api.httpApi ?? this.api.restApi;
    if (!api) throw new Error('Sluice has no API');
    return api.arnForExecuteApi(method, path, '*');
  }
}

/** The functions that read the subscriptions declared in CDK. */
const SUBSCRIPTION_FUNCTIONS: readonly FunctionName[] = ['dispatcher', 'deliverer', 'subscriptions'];

/**
 * A subscription name from a construct: its id (in the characters a name allows) and a hash of its
 * path, so two constructs with the same id in different scopes get different names.
 */
function defaultSubscriptionName(construct: IConstruct): string {
  const hash = createHash('sha256').update(construct.node.path).digest('hex').slice(0, 8);
  const id = construct.node.id.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 70);
  return `${id}-${hash}`;
}

/** The functions ROUTES names: each checks ACLs itself (the fallback answers 404/405 and touches nothing). */
function routedFunctions(): FunctionName[] {
  return [...new Set(ROUTES.map((r) => r.function as FunctionName))].filter((f) => f !== FALLBACK_FUNCTION);
}

/** A queue name, or a prefix of queue names, as the API's rule allows. */
function queuePatternRules(pattern: ResourcePattern): ReturnType<typeof queueNameRules> {
  if (typeof pattern === 'string') return queueNameRules(pattern);
  return [
    {
      condition: !/^[a-zA-Z0-9_-]{1,48}$/.test(pattern.prefix),
      message: `queue prefix ${JSON.stringify(pattern.prefix)} must be 1 to 48 of [a-zA-Z0-9_-] (for every queue, use grantQueueAdmin without a queue)`,
    },
  ];
}

/** A pattern as one path segment of an execute-api ARN (`*` matches the rest of a prefix). */
function pathName(pattern: ResourcePattern): string {
  return typeof pattern === 'string' ? pattern : `${pattern.prefix}*`;
}

/** The IAM ARN of a grantee (a role, a user, or anything whose principal is one): the ACLs' principal. */
function principalArnOf(grantee: iam.IGrantable): string {
  const principal = grantee.grantPrincipal as iam.IPrincipal & { roleArn?: string; userArn?: string };
  if (typeof principal.roleArn === 'string') return principal.roleArn;
  if (typeof principal.userArn === 'string') return principal.userArn;
  const aws = principal.policyFragment.principalJson.AWS;
  if (Array.isArray(aws) && aws.length === 1 && typeof aws[0] === 'string') return aws[0];
  throw new Error('Sluice grants need an IAM role or user as grantee (ACLs name IAM principals)');
}

/** Bytes of a JSON string once its tokens resolve, each counted as TOKEN_ESTIMATE_BYTES. */
function estimatedBytes(json: string): number {
  return Buffer.byteLength(json.replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(TOKEN_ESTIMATE_BYTES)));
}
