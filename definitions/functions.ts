/**
 * Every Lambda function and every HTTP route, defined once. The CDK stack creates a function per
 * entry with exactly the grants listed here; the local platform invokes the same handler modules
 * in-process and routes HTTP requests by the same table.
 */
import { QUEUES, type QueueName } from './queues';
import { TABLES, type TableName } from './tables';

export type TableAccess = 'read' | 'readWrite';
export type QueueAccess = 'send' | 'consume';

export interface FunctionDefinition {
  readonly name: string;
  readonly description: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Tables the function touches and how: the stack grants exactly this, nothing more. */
  readonly tables: Partial<Record<TableName, TableAccess>>;
  /** Queues the function touches and how. */
  readonly queues: Partial<Record<QueueName, QueueAccess>>;
  /** A queue whose messages invoke this function (an SQS event source). */
  readonly trigger?: { readonly queue: QueueName; readonly batchSize: number };
  /** @default 10 */
  readonly timeoutSeconds?: number;
}

export const FUNCTIONS = {
  topics: {
    name: 'topics',
    description: 'Topic administration: create, list, describe, update, delete.',
    entry: 'lambda/handlers/topics.ts',
    tables: { topics: 'readWrite', log: 'read' },
    queues: { topicPurge: 'send' },
  },
  produce: {
    name: 'produce',
    description: 'Appends events to a topic: partitions, gapless offsets, exactly-once by message ID.',
    entry: 'lambda/handlers/produce.ts',
    tables: { topics: 'read', log: 'readWrite', dedupe: 'readWrite' },
    queues: {},
  },
  fetch: {
    name: 'fetch',
    description: 'Reads events of one partition by offset or timestamp, long-polling up to 20 s.',
    entry: 'lambda/handlers/fetch.ts',
    tables: { topics: 'read', log: 'read' },
    queues: {},
    // Long polls last up to 20 s; API Gateway gives an integration 30 s.
    timeoutSeconds: 28,
  },
  groups: {
    name: 'groups',
    description: 'Consumer groups: membership, assignment, records, offset commits, seek.',
    entry: 'lambda/handlers/groups.ts',
    tables: { topics: 'read', log: 'read', groups: 'readWrite' },
    queues: {},
    // The records call long-polls up to 20 s.
    timeoutSeconds: 28,
  },
  transactions: {
    name: 'transactions',
    description: 'Read-process-write: appends outputs and commits input offsets in one transaction.',
    entry: 'lambda/handlers/transactions.ts',
    tables: { topics: 'read', log: 'readWrite', dedupe: 'readWrite', groups: 'readWrite' },
    queues: {},
  },
  topicPurge: {
    name: 'topic-purge',
    description: "Removes a deleted topic's log items.",
    entry: 'lambda/handlers/topic-purge.ts',
    tables: { topics: 'read', log: 'readWrite' },
    queues: { topicPurge: 'consume' },
    trigger: { queue: 'topicPurge', batchSize: 1 },
    timeoutSeconds: 5 * 60,
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
  { method: 'POST', path: '/groups/{group}/members', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/members/{memberId}/heartbeat', function: 'groups' },
  { method: 'DELETE', path: '/groups/{group}/members/{memberId}', function: 'groups' },
  { method: 'GET', path: '/groups/{group}/members/{memberId}/records', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/offsets', function: 'groups' },
  { method: 'POST', path: '/groups/{group}/seek', function: 'groups' },
  { method: 'POST', path: '/transactions', function: 'transactions' },
] as const satisfies readonly RouteDefinition[];

/** The function behind API Gateway's `$default` route: everything no route matches. */
export const FALLBACK_FUNCTION: FunctionName = 'fallback';

export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
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
  physical: { readonly tables: Record<TableName, string>; readonly queues: Record<QueueName, string> },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const t of Object.keys(fn.tables) as TableName[]) env[TABLES[t].envVar] = physical.tables[t];
  for (const q of Object.keys(fn.queues) as QueueName[]) env[QUEUES[q].envVar] = physical.queues[q];
  return env;
}
