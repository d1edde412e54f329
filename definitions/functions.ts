/**
 * Every Lambda function and every HTTP route, defined once. The CDK stack creates a function per
 * entry with exactly the grants listed here; the local platform invokes the same handler modules
 * in-process and routes HTTP requests by the same table.
 */
import { MESSAGE_QUEUES, QUEUES, type QueueName } from './queues';
import { TABLES, type TableName } from './tables';

/**
 * The DynamoDB actions Sluice's code calls (`dynamodb:<action>` in IAM). A transaction needs the
 * action of each of its items (PutItem, ConditionCheckItem, ...), not one of its own.
 */
export type DynamoDbAction =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem'
  | 'Query'
  | 'Scan'
  | 'BatchGetItem'
  | 'BatchWriteItem';
/** The exact actions a function calls on one table: the stack grants these and nothing else. */
export type TableAccess = readonly DynamoDbAction[];
export type QueueAccess = 'send' | 'consume';

/** The SQS actions Sluice's code calls on message queues (`sqs:<action>` in IAM; batch calls need the single action). */
export type SqsAction =
  | 'CreateQueue'
  | 'DeleteQueue'
  | 'GetQueueUrl'
  | 'GetQueueAttributes'
  | 'SetQueueAttributes'
  | 'TagQueue'
  | 'ListQueueTags'
  | 'ListQueues'
  | 'SendMessage'
  | 'ReceiveMessage'
  | 'DeleteMessage'
  | 'ChangeMessageVisibility'
  | 'PurgeQueue';

export interface FunctionDefinition {
  readonly name: string;
  readonly description: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /**
   * Tables the function touches and the exact actions it calls on each: the stack grants exactly
   * these, nothing more, and the local platform's IAM refuses anything else (so a missing action
   * fails the tests, and infra tests check nothing more is granted).
   */
  readonly tables: Partial<Record<TableName, TableAccess>>;
  /** Queues the function touches and how. */
  readonly queues: Partial<Record<QueueName, QueueAccess>>;
  /**
   * The exact SQS actions the function calls on the installation's message queues (every queue
   * named `<prefix>*`, see MESSAGE_QUEUES); it then gets the prefix in its environment.
   * `ListQueues` has no resource-level permission in IAM, so it is granted on `*`.
   */
  readonly messageQueues?: readonly SqsAction[];
  /** What invokes this function besides HTTP routes: an SQS queue or a table's stream. */
  readonly trigger?: QueueTrigger | StreamTrigger;
  /** @default 10 */
  readonly timeoutSeconds?: number;
}

/** An SQS event source (with ReportBatchItemFailures). FIFO queues keep order per message group. */
export interface QueueTrigger {
  readonly queue: QueueName;
  readonly batchSize: number;
}

/**
 * A DynamoDB Streams event source mapping on a table, with every option set on purpose (the
 * template twin runs the same options locally).
 */
export interface StreamTrigger {
  /** The table whose stream invokes the function. */
  readonly stream: TableName;
  /** Where reading starts when the mapping is created. */
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /** Records per invocation, 1 to 10,000. */
  readonly batchSize: number;
  /** Seconds to gather records before invoking, 0 to 300. */
  readonly maxBatchingWindowSeconds: number;
  /** Concurrent batches per shard, 1 to 10; order is kept per partition key. */
  readonly parallelizationFactor: number;
  /** Split a failing batch in two and retry each half. */
  readonly bisectBatchOnError: boolean;
  /** Retries of a failing batch, 0 to 10,000 (-1: until the record expires). */
  readonly maxRetryAttempts: number;
  /** Oldest record to still process, in seconds, 60 to 604,800 (-1: no limit). */
  readonly maxRecordAgeSeconds: number;
  /** Where the records of a batch that finally failed go (a queue of definitions/queues.ts). */
  readonly onFailure: QueueName;
  /**
   * Lambda event filter patterns (a record invokes the function when any pattern matches), as
   * `FilterCriteria.Filters[].Pattern` takes them, before JSON encoding.
   */
  readonly filters: readonly Record<string, unknown>[];
}

export const FUNCTIONS = {
  topics: {
    name: 'topics',
    description: 'Topic administration: create, list, describe, update, delete.',
    entry: 'lambda/handlers/topics.ts',
    tables: {
      topics: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Scan'],
      // BatchWriteItem: a deleted topic's head tombstones.
      log: ['Query', 'BatchGetItem', 'BatchWriteItem'],
      acls: ['Scan'],
    },
    queues: { topicPurge: 'send' },
  },
  produce: {
    name: 'produce',
    description: 'Appends events to a topic: partitions, gapless offsets, exactly-once by message ID.',
    entry: 'lambda/handlers/produce.ts',
    tables: {
      topics: ['GetItem'],
      // GetItem: one head read eventually consistently, and a batch left between its two writes.
      log: ['GetItem', 'BatchGetItem', 'PutItem'],
      dedupe: ['PutItem'],
      acls: ['Scan'],
    },
    queues: {},
  },
  fetch: {
    name: 'fetch',
    description: 'Reads events of one partition by offset or timestamp, long-polling up to 20 s.',
    entry: 'lambda/handlers/fetch.ts',
    tables: { topics: ['GetItem'], log: ['Query', 'BatchGetItem'], acls: ['Scan'] },
    queues: {},
    // Long polls last up to 20 s; API Gateway gives an integration 30 s.
    timeoutSeconds: 28,
  },
  groups: {
    name: 'groups',
    description: 'Consumer groups: membership, assignment, records, offset commits, seek, delete.',
    entry: 'lambda/handlers/groups.ts',
    tables: {
      topics: ['GetItem'],
      // GetItem: a records call's high-watermark hint of one partition (an eventually consistent head read).
      log: ['Query', 'GetItem', 'BatchGetItem'],
      groups: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem', 'Query', 'Scan', 'BatchWriteItem'],
      acls: ['Scan'],
    },
    queues: {},
    // The records call long-polls up to 20 s.
    timeoutSeconds: 28,
  },
  transactions: {
    name: 'transactions',
    description: 'Read-process-write: appends outputs and commits input offsets in one transaction.',
    entry: 'lambda/handlers/transactions.ts',
    tables: {
      topics: ['GetItem'],
      log: ['Query', 'GetItem', 'BatchGetItem', 'PutItem'],
      dedupe: ['PutItem'],
      groups: ['GetItem', 'PutItem', 'ConditionCheckItem', 'Query'],
      acls: ['Scan'],
    },
    queues: {},
  },
  topicPurge: {
    name: 'topic-purge',
    description: "Removes a deleted topic's log items.",
    entry: 'lambda/handlers/topic-purge.ts',
    tables: { topics: ['GetItem'], log: ['Query', 'BatchWriteItem'] },
    queues: { topicPurge: 'consume' },
    trigger: { queue: 'topicPurge', batchSize: 1 },
    timeoutSeconds: 5 * 60,
  },
  acls: {
    name: 'acls',
    description: 'Access control lists: create, list and delete (cluster alter / describe).',
    entry: 'lambda/handlers/acls.ts',
    tables: { acls: ['Scan', 'BatchWriteItem'] },
    queues: {},
  },
  subscriptions: {
    name: 'subscriptions',
    description: 'Push subscriptions: create, list, describe, delete, seek, dead letters and redrive.',
    entry: 'lambda/handlers/subscriptions.ts',
    tables: {
      topics: ['GetItem'],
      log: ['Query', 'BatchGetItem'],
      subscriptions: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem'],
      acls: ['Scan'],
    },
    queues: { deliveries: 'send' },
    // A target naming a Sluice queue must name one that exists.
    messageQueues: ['GetQueueUrl'],
  },
  dispatcher: {
    name: 'dispatcher',
    description: "Fans the log table's stream out to push subscriptions: a wake-up per matching batch and subscription.",
    entry: 'lambda/handlers/dispatcher.ts',
    tables: { topics: ['GetItem'], subscriptions: ['Query'] },
    queues: { deliveries: 'send' },
    trigger: {
      stream: 'log',
      startingPosition: 'LATEST',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      parallelizationFactor: 10,
      bisectBatchOnError: true,
      maxRetryAttempts: 10,
      maxRecordAgeSeconds: 24 * 60 * 60,
      onFailure: 'dispatchFailures',
      // What commits events: record batches (a MODIFY overwrites an uncommitted flush), and partition
      // heads (offset -1) holding a tail (tb), whose writes append to it. Heads without one and TTL
      // expiries (REMOVEs) never invoke the function.
      filters: [
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { offset: { N: [{ numeric: ['>=', 0] }] } } } },
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { offset: { N: ['-1'] } }, NewImage: { tb: { N: [{ exists: true }] } } } },
      ],
    },
    timeoutSeconds: 30,
  },
  deliverer: {
    name: 'deliverer',
    description: "Delivers a subscription's events from its cursor to its webhook, queue or Lambda target.",
    entry: 'lambda/handlers/deliverer.ts',
    tables: {
      topics: ['GetItem'],
      log: ['Query', 'BatchGetItem'],
      subscriptions: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchWriteItem'],
    },
    queues: { deliveries: 'consume' },
    // Targets naming a Sluice queue: its URL by name, then the events as its messages.
    messageQueues: ['GetQueueUrl', 'SendMessage'],
    trigger: { queue: 'deliveries', batchSize: 10 },
    timeoutSeconds: 60,
  },
  queues: {
    name: 'queues',
    description: 'Message queues on SQS FIFO: create, list, describe, delete, send, receive, ack, nack, extend, redrive, purge.',
    entry: 'lambda/handlers/queues.ts',
    // dedupe: a marker per sent message ID, so a send can answer "duplicate" (SQS does not say).
    tables: { dedupe: ['PutItem'], acls: ['Scan'] },
    queues: {},
    messageQueues: [
      'CreateQueue',
      'DeleteQueue',
      'GetQueueUrl',
      'GetQueueAttributes',
      // CreateQueue with tags needs TagQueue too (IAM checks both).
      'TagQueue',
      'ListQueueTags',
      'ListQueues',
      'SendMessage',
      'ReceiveMessage',
      'DeleteMessage',
      'ChangeMessageVisibility',
      'PurgeQueue',
    ],
    // Receive long-polls up to 20 s; API Gateway gives an integration 30 s.
    timeoutSeconds: 28,
  },
  processors: {
    name: 'processors',
    description: 'Stream processors: list and describe (positions, lag, stream time, counters, state size).',
    entry: 'lambda/handlers/processors.ts',
    tables: {
      topics: ['GetItem'],
      log: ['Query', 'BatchGetItem'],
      // Reads only: a partition's meta and positions, then its state entries' sizes.
      processors: ['Query'],
      acls: ['Scan'],
    },
    queues: {},
    // A wide processor reads each partition's state to size it.
    timeoutSeconds: 28,
  },
  openapi: {
    name: 'openapi',
    description: 'Serves the OpenAPI 3.1 document of this API (GET /openapi.json).',
    entry: 'lambda/handlers/openapi.ts',
    // Built from the request and response schemas alone: no table, no queue.
    tables: {},
    queues: {},
  },
  fallback: {
    name: 'fallback',
    description: 'Answers requests no route matches: 404 NotFound or 405 MethodNotAllowed.',
    entry: 'lambda/handlers/fallback.ts',
    tables: {},
    queues: {},
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionName = keyof typeof FUNCTIONS;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway path syntax: `{name}` is one path segment. */
  readonly path: string;
  readonly function: FunctionName;
}

export const ROUTES = [
  { method: 'POST', path: '/topics', function: 'topics' },
  { method: 'GET', path: '/topics', function: 'topics' },
  { method: 'GET', path: '/topics/{topic}', function: 'topics' },
  { method: 'PATCH', path: '/topics/{topic}', function: 'topics' },
  { method: 'DELETE', path: '/topics/{topic}', function: 'topics' },
  { method: 'POST', path: '/topics/{topic}/events', function: 'produce' },
  { method: 'GET', path: '/topics/{topic}/partitions/{partition}/events', function: 'fetch' },
  { method: 'GET', path: '/groups', function: 'groups' },
  { method: 'GET', path: '/groups/{group}', function: 'groups' },
  { method: 'DELETE', path: '/groups/{group}', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/members', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/members/{memberId}/heartbeat', function: 'groups' },
  { method: 'DELETE', path: '/groups/{group}/members/{memberId}', function: 'groups' },
  { method: 'GET', path: '/groups/{group}/members/{memberId}/records', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/offsets', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/seek', function: 'groups' },
  { method: 'POST', path: '/transactions', function: 'transactions' },
  { method: 'POST', path: '/acls', function: 'acls' },
  { method: 'GET', path: '/acls', function: 'acls' },
  { method: 'DELETE', path: '/acls', function: 'acls' },
  { method: 'POST', path: '/topics/{topic}/subscriptions', function: 'subscriptions' },
  { method: 'GET', path: '/topics/{topic}/subscriptions', function: 'subscriptions' },
  { method: 'GET', path: '/topics/{topic}/subscriptions/{name}', function: 'subscriptions' },
  { method: 'DELETE', path: '/topics/{topic}/subscriptions/{name}', function: 'subscriptions' },
  { method: 'POST', path: '/topics/{topic}/subscriptions/{name}/seek', function: 'subscriptions' },
  { method: 'GET', path: '/topics/{topic}/subscriptions/{name}/dead-letters', function: 'subscriptions' },
  { method: 'POST', path: '/topics/{topic}/subscriptions/{name}/dead-letters/redrive', function: 'subscriptions' },
  { method: 'POST', path: '/queues', function: 'queues' },
  { method: 'GET', path: '/queues', function: 'queues' },
  { method: 'GET', path: '/queues/{queue}', function: 'queues' },
  { method: 'DELETE', path: '/queues/{queue}', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/messages', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/receive', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/ack', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/nack', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/extend', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/redrive', function: 'queues' },
  { method: 'POST', path: '/queues/{queue}/purge', function: 'queues' },
  { method: 'GET', path: '/processors', function: 'processors' },
  { method: 'GET', path: '/processors/{name}', function: 'processors' },
  { method: 'GET', path: '/openapi.json', function: 'openapi' },
] as const satisfies readonly RouteDefinition[];

/** The function behind API Gateway's `$default` route: everything no route matches. */
export const FALLBACK_FUNCTION: FunctionName = 'fallback';

/** `"METHOD /path"`, as API Gateway spells a route key, of one route type. */
type KeyOf<R> = R extends { readonly method: infer M extends string; readonly path: infer P extends string }
  ? `${M} ${P}`
  : never;

/** Every route key of ROUTES, e.g. `"GET /topics/{topic}"`. */
export type RouteKey = KeyOf<(typeof ROUTES)[number]>;

/** The route keys of ROUTES served by function F (`never` for a function no route names). */
export type RouteKeyOf<F extends FunctionName> = KeyOf<Extract<(typeof ROUTES)[number], { readonly function: F }>>;

/** The functions that serve at least one route of ROUTES. */
export type RoutedFunctionName = (typeof ROUTES)[number]['function'];

export function routeKey<R extends Pick<RouteDefinition, 'method' | 'path'>>(route: R): KeyOf<R> {
  return `${route.method} ${route.path}` as KeyOf<R>;
}

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string>;
}

/**
 * Match a concrete path against the route table, as API Gateway does. Returns the route for this
 * method, or the methods the path allows when only the method is wrong.
 */
export function matchRoute(
  method: string,
  path: string,
  routes: readonly RouteDefinition[] = ROUTES,
): RouteMatch | { readonly allowed: HttpMethod[] } | undefined {
  const segments = splitPath(path);
  const allowed: HttpMethod[] = [];
  for (const route of routes) {
    const params = matchSegments(splitPath(route.path), segments);
    if (!params) continue;
    if (route.method === method.toUpperCase()) return { route, pathParameters: params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith('{') && p.endsWith('}')) {
      try {
        params[p.slice(1, -1)] = decodeURIComponent(a);
      } catch {
        return undefined; // malformed %-escape: no route can match it
      }
    } else if (p !== a) {
      return undefined;
    }
  }
  return params;
}

/** Environment variables naming the tables and queues a function was granted. */
export function functionEnvironment(
  fn: FunctionDefinition,
  physical: {
    readonly tables: Record<TableName, string>;
    readonly queues: Record<QueueName, string>;
    /** The message-queue name prefix (MESSAGE_QUEUES). */
    readonly queuePrefix: string;
  },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const t of Object.keys(fn.tables) as TableName[]) env[TABLES[t].envVar] = physical.tables[t];
  for (const q of Object.keys(fn.queues) as QueueName[]) env[QUEUES[q].envVar] = physical.queues[q];
  if (fn.messageQueues?.length) env[MESSAGE_QUEUES.prefixEnvVar] = physical.queuePrefix;
  return env;
}
