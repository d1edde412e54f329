/**
 * What every route needs when ACLs are on, defined once (Kafka's mapping of requests to
 * operations). `httpHandler` checks `requires` for every route before its handler runs; the list
 * routes filter their answer with `filter`; `inService` names what a service checks itself once it
 * knows the resources (a member's assigned topics). The table is keyed by RouteKey, so a route
 * without a rule fails the type check (and test/unit/definitions/authorization.test.ts).
 *
 * Names come from the path parameters (as API Gateway decoded them: `/topics/f%78` is `fx`, the
 * same value the handler uses) and from the parsed JSON body, before validation: every string in a
 * position the request schema accepts a name in is checked, and anything else there fails
 * validation afterwards, so no name reaches a service unchecked.
 */
import { CLUSTER_RESOURCE_NAME, type AclBinding, type Operation, type ResourceOperation, type ResourceType } from '../api/acls';
import type { RouteKey } from './functions';

/** Any one of these suffices (e.g. create a topic: cluster create, or topic create on its name). */
export type Requirement = readonly ResourceOperation[];

export interface RouteInput {
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The parsed JSON body, not yet validated. */
  readonly body: unknown;
}

export interface RouteAuthorization {
  /** For people: what the route needs (docs/api.md prints this table). */
  readonly summary: string;
  /** Checked before the handler runs; every requirement must be met. */
  readonly requires: (input: RouteInput) => Requirement[];
  /** A listing: the answer keeps only the items the caller may do this to. */
  readonly filter?: { readonly resourceType: ResourceType; readonly operation: Exclude<Operation, 'all'> };
  /** Checked by the service when it knows the resources. */
  readonly inService?: { readonly resourceType: ResourceType; readonly operation: Exclude<Operation, 'all'>; readonly what: string };
}

const one = (resourceType: ResourceType, resourceName: string, operation: Exclude<Operation, 'all'>): Requirement => [
  { resourceType, resourceName, operation },
];
const topic = (name: string, operation: Exclude<Operation, 'all'>) => one('topic', name, operation);
const group = (name: string, operation: Exclude<Operation, 'all'>) => one('group', name, operation);
const queue = (name: string, operation: Exclude<Operation, 'all'>) => one('queue', name, operation);
const cluster = (operation: Exclude<Operation, 'all'>) => one('cluster', CLUSTER_RESOURCE_NAME, operation);

/** The value of an own property of a JSON object, else undefined. */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const strings = (values: unknown[]): string[] => [...new Set(values.filter((v): v is string => typeof v === 'string'))];

/** A path parameter; a route's own parameters are always there (API Gateway matched them). */
const param = (input: RouteInput, name: string) => input.pathParameters[name] ?? '';

/** The topics of the offsets of a commit (POST /groups/{group}/offsets, a transaction's `commit`). */
const offsetTopics = (commit: unknown) => strings(list(field(commit, 'offsets')).map((o) => field(o, 'topic')));

export const ROUTE_AUTHORIZATION = {
  'POST /topics': {
    summary: 'cluster create, or topic create on the new name',
    requires: ({ body }) => {
      const name = field(body, 'name');
      return [[...cluster('create'), ...(typeof name === 'string' ? topic(name, 'create') : [])]];
    },
  },
  'GET /topics': {
    summary: 'lists only the topics the caller may describe',
    requires: () => [],
    filter: { resourceType: 'topic', operation: 'describe' },
  },
  'GET /topics/{topic}': { summary: 'topic describe', requires: (i) => [topic(param(i, 'topic'), 'describe')] },
  'PATCH /topics/{topic}': { summary: 'topic alter', requires: (i) => [topic(param(i, 'topic'), 'alter')] },
  'DELETE /topics/{topic}': { summary: 'topic delete', requires: (i) => [topic(param(i, 'topic'), 'delete')] },
  'POST /topics/{topic}/events': { summary: 'topic write', requires: (i) => [topic(param(i, 'topic'), 'write')] },
  'GET /topics/{topic}/partitions/{partition}/events': {
    summary: 'topic read',
    requires: (i) => [topic(param(i, 'topic'), 'read')],
  },
  'GET /groups': {
    summary: 'lists only the groups the caller may describe',
    requires: () => [],
    filter: { resourceType: 'group', operation: 'describe' },
  },
  'GET /groups/{group}': {
    summary: 'group describe; partitions and members\' topics are shown only for topics the caller may describe',
    requires: (i) => [group(param(i, 'group'), 'describe')],
    filter: { resourceType: 'topic', operation: 'describe' },
  },
  'DELETE /groups/{group}': {
    summary: 'group delete (Kafka\'s DeleteGroups)',
    requires: (i) => [group(param(i, 'group'), 'delete')],
  },
  'POST /groups/{group}/members': {
    summary: 'group read, and topic read on every topic in `topics`',
    requires: (i) => [group(param(i, 'group'), 'read'), ...strings(list(field(i.body, 'topics'))).map((t) => topic(t, 'read'))],
  },
  'POST /groups/{group}/members/{memberId}/heartbeat': {
    summary: 'group read',
    requires: (i) => [group(param(i, 'group'), 'read')],
  },
  'DELETE /groups/{group}/members/{memberId}': { summary: 'group read', requires: (i) => [group(param(i, 'group'), 'read')] },
  'GET /groups/{group}/members/{memberId}/records': {
    summary: "group read, and topic read on every topic of the member's assigned partitions",
    requires: (i) => [group(param(i, 'group'), 'read')],
    inService: { resourceType: 'topic', operation: 'read', what: "the topics of the member's assigned partitions" },
  },
  'POST /groups/{group}/offsets': {
    summary: 'group read, and topic read on every topic in `offsets`',
    requires: (i) => [group(param(i, 'group'), 'read'), ...offsetTopics(i.body).map((t) => topic(t, 'read'))],
  },
  'POST /groups/{group}/seek': {
    summary: 'group read, and topic read on `topic` (a seek commits offsets, as Kafka\'s offset reset does)',
    requires: (i) => {
      const name = field(i.body, 'topic');
      return [group(param(i, 'group'), 'read'), ...(typeof name === 'string' ? [topic(name, 'read')] : [])];
    },
  },
  'POST /transactions': {
    summary: 'topic write on every `produce[].topic`; with `commit`: group read on its group and topic read on its offsets\' topics',
    requires: ({ body }) => {
      const outputs = strings(list(field(body, 'produce')).map((p) => field(p, 'topic'))).map((t) => topic(t, 'write'));
      const commit = field(body, 'commit');
      if (commit === undefined) return outputs;
      const groupName = field(commit, 'group');
      return [
        ...outputs,
        ...(typeof groupName === 'string' ? [group(groupName, 'read')] : []),
        ...offsetTopics(commit).map((t) => topic(t, 'read')),
      ];
    },
  },
  'POST /acls': { summary: 'cluster alter', requires: () => [cluster('alter')] },
  'GET /acls': { summary: 'cluster describe', requires: () => [cluster('describe')] },
  'DELETE /acls': { summary: 'cluster alter', requires: () => [cluster('alter')] },
  'POST /topics/{topic}/subscriptions': {
    summary: 'topic read (a subscription reads the topic, as a Kafka consumer does); with a `queue` target, queue write on it',
    requires: (i) => {
      // The deliverer may send to every Sluice queue: naming one must need the right to write to it.
      const target = field(field(i.body, 'target'), 'queue');
      return [topic(param(i, 'topic'), 'read'), ...(typeof target === 'string' ? [queue(target, 'write')] : [])];
    },
  },
  'GET /topics/{topic}/subscriptions': {
    summary: 'topic describe',
    requires: (i) => [topic(param(i, 'topic'), 'describe')],
  },
  'GET /topics/{topic}/subscriptions/{name}': {
    summary: 'topic describe',
    requires: (i) => [topic(param(i, 'topic'), 'describe')],
  },
  'DELETE /topics/{topic}/subscriptions/{name}': {
    summary: 'topic read',
    requires: (i) => [topic(param(i, 'topic'), 'read')],
  },
  'POST /topics/{topic}/subscriptions/{name}/seek': {
    summary: 'topic read',
    requires: (i) => [topic(param(i, 'topic'), 'read')],
  },
  'GET /topics/{topic}/subscriptions/{name}/dead-letters': {
    summary: 'topic read (dead letters hold the events)',
    requires: (i) => [topic(param(i, 'topic'), 'read')],
  },
  'POST /topics/{topic}/subscriptions/{name}/dead-letters/redrive': {
    summary: 'topic read',
    requires: (i) => [topic(param(i, 'topic'), 'read')],
  },
  'POST /queues': {
    summary: 'cluster create, or queue create on the new name',
    requires: ({ body }) => {
      const name = field(body, 'name');
      return [[...cluster('create'), ...(typeof name === 'string' ? queue(name, 'create') : [])]];
    },
  },
  'GET /queues': {
    summary: 'lists only the queues the caller may describe',
    requires: () => [],
    filter: { resourceType: 'queue', operation: 'describe' },
  },
  'GET /queues/{queue}': { summary: 'queue describe', requires: (i) => [queue(param(i, 'queue'), 'describe')] },
  'DELETE /queues/{queue}': { summary: 'queue delete', requires: (i) => [queue(param(i, 'queue'), 'delete')] },
  'POST /queues/{queue}/messages': { summary: 'queue write', requires: (i) => [queue(param(i, 'queue'), 'write')] },
  'POST /queues/{queue}/receive': { summary: 'queue read', requires: (i) => [queue(param(i, 'queue'), 'read')] },
  'POST /queues/{queue}/ack': { summary: 'queue read (resolving is part of consuming)', requires: (i) => [queue(param(i, 'queue'), 'read')] },
  'POST /queues/{queue}/nack': { summary: 'queue read', requires: (i) => [queue(param(i, 'queue'), 'read')] },
  'POST /queues/{queue}/extend': { summary: 'queue read', requires: (i) => [queue(param(i, 'queue'), 'read')] },
  'POST /queues/{queue}/redrive': { summary: 'queue alter', requires: (i) => [queue(param(i, 'queue'), 'alter')] },
  'POST /queues/{queue}/purge': {
    summary: 'queue delete (purging deletes messages, as deleting records needs topic delete in Kafka)',
    requires: (i) => [queue(param(i, 'queue'), 'delete')],
  },
  'GET /processors': {
    summary: 'lists only the processors the caller may describe: group describe on the processor name (its application ID)',
    requires: () => [],
    filter: { resourceType: 'group', operation: 'describe' },
  },
  'GET /processors/{name}': {
    summary: "group describe on the processor name (a processor's application ID is its group, as in Kafka Streams)",
    requires: (i) => [group(param(i, 'name'), 'describe')],
  },
  'GET /openapi.json': {
    // The contract names no resource and reveals none (no topic, group or queue names): IAM on the API suffices.
    summary: 'nothing beyond IAM (the document describes the API, not any resource)',
    requires: () => [],
  },
} as const satisfies Record<RouteKey, RouteAuthorization>;

/** The rule of a route key (undefined for a key ROUTES does not have). */
export function routeAuthorization(routeKey: string): RouteAuthorization | undefined {
  return Object.hasOwn(ROUTE_AUTHORIZATION, routeKey) ? (ROUTE_AUTHORIZATION as Record<string, RouteAuthorization>)[routeKey] : undefined;
}

/**
 * The environment variables that turn ACLs on in a function (set by the `Sluice` construct on every
 * function a route names, except the fallback, when its `authorization` prop is `'acl'`). Absent,
 * a function authorizes nothing itself: IAM on the API is the only check (`'iam-only'`).
 */
export const AUTHORIZATION_ENV = {
  /** `acl` turns the checks on; anything else, or nothing, leaves them off. */
  mode: 'SLUICE_AUTHORIZATION',
  /** The ACLs declared in CDK (grantProduce, ...), as `encodeDeclaredAcls` writes them. */
  declaredAcls: 'SLUICE_DECLARED_ACLS',
  /** How long a function keeps the `acls` table's content, in ms. */
  cacheTtlMs: 'SLUICE_ACL_CACHE_MS',
} as const;

export type AuthorizationMode = 'iam-only' | 'acl';

/** One declared ACL in the environment: `[principal, resourceType, patternType, resourceName, operation, permission]`. */
export type EncodedAcl = readonly [string, string, string, string, string, string];

/** ACLs as compact JSON-able tuples (Lambda allows 4 KB of environment variables in all). */
export function encodeDeclaredAcls(acls: readonly AclBinding[]): EncodedAcl[] {
  return acls.map((a) => [a.principal, a.resourceType, a.patternType, a.resourceName, a.operation, a.permission] as const);
}
