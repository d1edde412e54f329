/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas of api/ with zod's own
 * `z.toJSONSchema` (JSON Schema 2020-12, which OpenAPI 3.1 uses as is). Every route of ROUTES has
 * an entry here (keyed by RouteKey, so a new route without one fails the type check): its path,
 * query and body schemas (the ones the handlers validate with), its success answer and the error
 * codes it can answer. `npm run openapi` writes it to docs/openapi.json; the `openapi` function
 * serves it at GET /openapi.json. No file system here: the Lambda bundle builds it in memory.
 */
import { z } from 'zod';
import {
  createAclsRequestSchema,
  createAclsResponseSchema,
  deleteAclsQuerySchema,
  deleteAclsResponseSchema,
  aclFilterSchema,
  listAclsResponseSchema,
} from './acls';
import * as errors from './errors';
import { fetchPathSchema, fetchQuerySchema, fetchResponseSchema, produceRequestSchema, produceResponseSchema } from './events';
import {
  commitRequestSchema,
  groupDescriptionSchema,
  groupNameSchema,
  heartbeatRequestSchema,
  heartbeatResponseSchema,
  joinGroupRequestSchema,
  listGroupsResponseSchema,
  memberIdSchema,
  membershipResponseSchema,
  recordsQuerySchema,
  recordsResponseSchema,
  seekRequestSchema,
  seekResponseSchema,
  transactionRequestSchema,
  transactionResponseSchema,
} from './groups';
import { listProcessorsResponseSchema, processorDescriptionSchema, processorPathSchema } from './processors';
import {
  ackRequestSchema,
  createQueueRequestSchema,
  extendRequestSchema,
  listQueuesResponseSchema,
  nackRequestSchema,
  purgeRequestSchema,
  purgeResponseSchema,
  queueDescriptionSchema,
  queuePathSchema,
  queueRedriveResponseSchema,
  receiptResponseSchema,
  receiveMessagesRequestSchema,
  receiveMessagesResponseSchema,
  redriveRequestSchema as queueRedriveRequestSchema,
  sendMessagesRequestSchema,
  sendMessagesResponseSchema,
} from './queues';
import {
  createSubscriptionRequestSchema,
  createSubscriptionResponseSchema,
  deadLettersQuerySchema,
  deadLettersResponseSchema,
  listSubscriptionsResponseSchema,
  redriveRequestSchema as subscriptionRedriveRequestSchema,
  subscriptionDescriptionSchema,
  subscriptionNamePathSchema,
  subscriptionPathSchema,
  subscriptionRedriveResponseSchema,
  subscriptionSeekRequestSchema,
  subscriptionSeekResponseSchema,
} from './subscriptions';
import {
  createTopicRequestSchema,
  listTopicsResponseSchema,
  topicConfigSchema,
  topicDescriptionSchema,
  topicPathSchema,
  updateTopicRequestSchema,
} from './topics';
import { ROUTES, routeKey, type RouteKey } from '../definitions/functions';

type Schema = z.ZodType;

interface Operation {
  readonly summary: string;
  readonly path?: Schema;
  readonly query?: Schema;
  readonly body?: Schema;
  /** Whether the body may be left out (validated as `{}` then). */
  readonly bodyOptional?: boolean;
  /** The success answer: its status, and its JSON body's schema (none: 204). */
  readonly ok: { readonly status: number; readonly schema?: Schema };
  /** Error codes this route answers besides those every route can (COMMON_ERRORS). */
  readonly errors: readonly ErrorCode[];
}

/** The body of every error answer: `{ error: { code, message, ...details } }`. */
export const errorBodySchema = z.object({
  error: z.looseObject({ code: z.string(), message: z.string() }),
}) satisfies z.ZodType<errors.ErrorBody>;

/** Every error class the API answers with, by code (their status comes from the class itself). */
const ERROR_CLASSES = {
  InvalidRequest: errors.InvalidRequestError,
  TopicNotFound: errors.TopicNotFoundError,
  TopicAlreadyExists: errors.TopicAlreadyExistsError,
  PartitionNotFound: errors.PartitionNotFoundError,
  OffsetOutOfRange: errors.OffsetOutOfRangeError,
  EventTooLarge: errors.EventTooLargeError,
  RequestTooLarge: errors.RequestTooLargeError,
  TooManyHeaders: errors.TooManyHeadersError,
  KeyTooLarge: errors.KeyTooLargeError,
  GroupNotFound: errors.GroupNotFoundError,
  GroupNotEmpty: errors.GroupNotEmptyError,
  FencedMember: errors.FencedMemberError,
  RebalanceInProgress: errors.RebalanceInProgressError,
  NotFound: errors.RouteNotFoundError,
  MethodNotAllowed: errors.MethodNotAllowedError,
  AuthorizationFailed: errors.AuthorizationFailedError,
  UnsupportedMediaType: errors.UnsupportedMediaTypeError,
  SubscriptionNotFound: errors.SubscriptionNotFoundError,
  SubscriptionAlreadyExists: errors.SubscriptionAlreadyExistsError,
  SubscriptionReadOnly: errors.SubscriptionReadOnlyError,
  QueueNotFound: errors.QueueNotFoundError,
  QueueAlreadyExists: errors.QueueAlreadyExistsError,
  QueueReadOnly: errors.QueueReadOnlyError,
  QueueBusy: errors.QueueBusyError,
  MessageTooLarge: errors.MessageTooLargeError,
  ProcessorNotFound: errors.ProcessorNotFoundError,
  Throttled: errors.ThrottledError,
  InternalError: errors.InternalError,
  OutcomeUnknown: errors.OutcomeUnknownError,
  DependencyFailed: errors.DependencyFailedError,
} as const;
export type ErrorCode = keyof typeof ERROR_CLASSES;

/** The HTTP status of an error code, as its class answers it. */
export function errorStatus(code: ErrorCode): number {
  return new ERROR_CLASSES[code]('').status;
}

/**
 * What any route can answer: a bad request (400; a route without a body or query still validates
 * its path), ACLs refusing (403), throttling (429), and the 500s of the dependencies. A write's
 * OutcomeUnknown is listed on the routes that write.
 */
const COMMON_ERRORS: readonly ErrorCode[] = ['InvalidRequest', 'AuthorizationFailed', 'Throttled', 'InternalError', 'DependencyFailed'];
/** Every route with a JSON body refuses other media types. */
const BODY_ERRORS: readonly ErrorCode[] = ['UnsupportedMediaType'];

const groupPath = z.strictObject({ group: groupNameSchema });
const memberPath = z.strictObject({ group: groupNameSchema, memberId: memberIdSchema });
const noContent = { status: 204 } as const;

export const OPERATIONS = {
  'POST /topics': {
    summary: 'Create a topic',
    body: createTopicRequestSchema,
    ok: { status: 201, schema: topicConfigSchema },
    errors: ['TopicAlreadyExists', 'OutcomeUnknown'],
  },
  'GET /topics': { summary: 'List topics', ok: { status: 200, schema: listTopicsResponseSchema }, errors: [] },
  'GET /topics/{topic}': {
    summary: 'Describe a topic and its partition offsets',
    path: topicPathSchema,
    ok: { status: 200, schema: topicDescriptionSchema },
    errors: ['TopicNotFound'],
  },
  'PATCH /topics/{topic}': {
    summary: "Change a topic's retention or dedupe window",
    path: topicPathSchema,
    body: updateTopicRequestSchema,
    ok: { status: 200, schema: topicConfigSchema },
    errors: ['TopicNotFound', 'OutcomeUnknown'],
  },
  'DELETE /topics/{topic}': {
    summary: 'Delete a topic (its events are purged in the background)',
    path: topicPathSchema,
    ok: noContent,
    errors: ['TopicNotFound', 'OutcomeUnknown'],
  },
  'POST /topics/{topic}/events': {
    summary: 'Produce events',
    path: topicPathSchema,
    body: produceRequestSchema,
    ok: { status: 200, schema: produceResponseSchema },
    errors: ['TopicNotFound', 'PartitionNotFound', 'EventTooLarge', 'RequestTooLarge', 'TooManyHeaders', 'KeyTooLarge', 'OutcomeUnknown'],
  },
  'GET /topics/{topic}/partitions/{partition}/events': {
    summary: 'Fetch events of one partition by offset or timestamp (long-polls with waitMs)',
    path: fetchPathSchema,
    query: fetchQuerySchema,
    ok: { status: 200, schema: fetchResponseSchema },
    errors: ['TopicNotFound', 'PartitionNotFound', 'OffsetOutOfRange'],
  },
  'GET /groups': { summary: 'List consumer groups', ok: { status: 200, schema: listGroupsResponseSchema }, errors: [] },
  'GET /groups/{group}': {
    summary: 'Describe a group: members, assignments, committed offsets and lag',
    path: groupPath,
    ok: { status: 200, schema: groupDescriptionSchema },
    errors: ['GroupNotFound'],
  },
  'DELETE /groups/{group}': {
    summary: "Delete a group's committed offsets and membership (refused while it has live members)",
    path: groupPath,
    ok: noContent,
    errors: ['GroupNotFound', 'GroupNotEmpty', 'OutcomeUnknown'],
  },
  'POST /groups/{group}/members': {
    summary: 'Join a group',
    path: groupPath,
    body: joinGroupRequestSchema,
    ok: { status: 200, schema: membershipResponseSchema },
    errors: ['TopicNotFound', 'OutcomeUnknown'],
  },
  'POST /groups/{group}/members/{memberId}/heartbeat': {
    summary: 'Heartbeat: stay in the group and learn new assignments',
    path: memberPath,
    body: heartbeatRequestSchema,
    bodyOptional: true,
    ok: { status: 200, schema: heartbeatResponseSchema },
    errors: ['FencedMember', 'OutcomeUnknown'],
  },
  'DELETE /groups/{group}/members/{memberId}': {
    summary: 'Leave a group',
    path: memberPath,
    ok: noContent,
    errors: ['OutcomeUnknown'],
  },
  'GET /groups/{group}/members/{memberId}/records': {
    summary: "Poll records of the member's assigned partitions (long-polls with waitMs)",
    path: memberPath,
    query: recordsQuerySchema,
    ok: { status: 200, schema: recordsResponseSchema },
    errors: ['FencedMember', 'RebalanceInProgress', 'OutcomeUnknown'],
  },
  'POST /groups/{group}/offsets': {
    summary: 'Commit offsets',
    path: groupPath,
    body: commitRequestSchema,
    ok: noContent,
    errors: ['FencedMember', 'RebalanceInProgress', 'TopicNotFound', 'PartitionNotFound', 'OutcomeUnknown'],
  },
  'POST /groups/{group}/seek': {
    summary: "Reset a group's offsets on a topic",
    path: groupPath,
    body: seekRequestSchema,
    ok: { status: 200, schema: seekResponseSchema },
    errors: ['TopicNotFound', 'PartitionNotFound', 'OutcomeUnknown'],
  },
  'POST /transactions': {
    summary: 'Produce to topics and commit offsets in one transaction',
    body: transactionRequestSchema,
    ok: { status: 200, schema: transactionResponseSchema },
    errors: [
      'TopicNotFound',
      'PartitionNotFound',
      'EventTooLarge',
      'RequestTooLarge',
      'TooManyHeaders',
      'KeyTooLarge',
      'FencedMember',
      'RebalanceInProgress',
      'OutcomeUnknown',
    ],
  },
  'POST /acls': {
    summary: 'Create ACLs',
    body: createAclsRequestSchema,
    ok: { status: 201, schema: createAclsResponseSchema },
    errors: ['OutcomeUnknown'],
  },
  'GET /acls': { summary: 'List ACLs', query: aclFilterSchema, ok: { status: 200, schema: listAclsResponseSchema }, errors: [] },
  'DELETE /acls': {
    summary: 'Delete the ACLs that match the filters',
    query: deleteAclsQuerySchema,
    ok: { status: 200, schema: deleteAclsResponseSchema },
    errors: ['OutcomeUnknown'],
  },
  'POST /topics/{topic}/subscriptions': {
    summary: 'Create a push subscription',
    path: subscriptionPathSchema,
    body: createSubscriptionRequestSchema,
    ok: { status: 201, schema: createSubscriptionResponseSchema },
    errors: ['TopicNotFound', 'SubscriptionAlreadyExists', 'QueueNotFound', 'OutcomeUnknown'],
  },
  'GET /topics/{topic}/subscriptions': {
    summary: "List a topic's subscriptions",
    path: subscriptionPathSchema,
    ok: { status: 200, schema: listSubscriptionsResponseSchema },
    errors: ['TopicNotFound'],
  },
  'GET /topics/{topic}/subscriptions/{name}': {
    summary: 'Describe a subscription: positions, lag, failures',
    path: subscriptionNamePathSchema,
    ok: { status: 200, schema: subscriptionDescriptionSchema },
    errors: ['TopicNotFound', 'SubscriptionNotFound'],
  },
  'DELETE /topics/{topic}/subscriptions/{name}': {
    summary: 'Delete a subscription',
    path: subscriptionNamePathSchema,
    ok: noContent,
    errors: ['TopicNotFound', 'SubscriptionNotFound', 'SubscriptionReadOnly', 'OutcomeUnknown'],
  },
  'POST /topics/{topic}/subscriptions/{name}/seek': {
    summary: "Move a subscription's positions",
    path: subscriptionNamePathSchema,
    body: subscriptionSeekRequestSchema,
    ok: { status: 200, schema: subscriptionSeekResponseSchema },
    errors: ['TopicNotFound', 'SubscriptionNotFound', 'PartitionNotFound', 'OutcomeUnknown'],
  },
  'GET /topics/{topic}/subscriptions/{name}/dead-letters': {
    summary: "List a subscription's dead letters",
    path: subscriptionNamePathSchema,
    query: deadLettersQuerySchema,
    ok: { status: 200, schema: deadLettersResponseSchema },
    errors: ['TopicNotFound', 'SubscriptionNotFound'],
  },
  'POST /topics/{topic}/subscriptions/{name}/dead-letters/redrive': {
    summary: 'Deliver dead letters again',
    path: subscriptionNamePathSchema,
    body: subscriptionRedriveRequestSchema,
    bodyOptional: true,
    ok: { status: 200, schema: subscriptionRedriveResponseSchema },
    errors: ['TopicNotFound', 'SubscriptionNotFound', 'OutcomeUnknown'],
  },
  'POST /queues': {
    summary: 'Create a message queue',
    body: createQueueRequestSchema,
    ok: { status: 201, schema: queueDescriptionSchema },
    errors: ['QueueAlreadyExists', 'QueueBusy', 'OutcomeUnknown'],
  },
  'GET /queues': { summary: 'List message queues', ok: { status: 200, schema: listQueuesResponseSchema }, errors: [] },
  'GET /queues/{queue}': {
    summary: 'Describe a queue: settings and approximate counts',
    path: queuePathSchema,
    ok: { status: 200, schema: queueDescriptionSchema },
    errors: ['QueueNotFound'],
  },
  'DELETE /queues/{queue}': {
    summary: 'Delete a queue',
    path: queuePathSchema,
    ok: noContent,
    errors: ['QueueNotFound', 'QueueReadOnly', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/messages': {
    summary: 'Send messages',
    path: queuePathSchema,
    body: sendMessagesRequestSchema,
    ok: { status: 200, schema: sendMessagesResponseSchema },
    errors: ['QueueNotFound', 'MessageTooLarge', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/receive': {
    summary: 'Receive messages (long-polls with waitMs)',
    path: queuePathSchema,
    body: receiveMessagesRequestSchema,
    bodyOptional: true,
    ok: { status: 200, schema: receiveMessagesResponseSchema },
    errors: ['QueueNotFound', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/ack': {
    summary: 'Acknowledge (delete) received messages',
    path: queuePathSchema,
    body: ackRequestSchema,
    ok: { status: 200, schema: receiptResponseSchema },
    errors: ['QueueNotFound', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/nack': {
    summary: 'Give received messages back, now or after a delay',
    path: queuePathSchema,
    body: nackRequestSchema,
    ok: { status: 200, schema: receiptResponseSchema },
    errors: ['QueueNotFound', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/extend': {
    summary: "Extend received messages' visibility timeout",
    path: queuePathSchema,
    body: extendRequestSchema,
    ok: { status: 200, schema: receiptResponseSchema },
    errors: ['QueueNotFound', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/redrive': {
    summary: 'Move dead letters back to the queue',
    path: queuePathSchema,
    body: queueRedriveRequestSchema,
    bodyOptional: true,
    ok: { status: 200, schema: queueRedriveResponseSchema },
    errors: ['QueueNotFound', 'OutcomeUnknown'],
  },
  'POST /queues/{queue}/purge': {
    summary: 'Empty the queue or its dead letters',
    path: queuePathSchema,
    body: purgeRequestSchema,
    bodyOptional: true,
    ok: { status: 200, schema: purgeResponseSchema },
    errors: ['QueueNotFound', 'QueueBusy', 'OutcomeUnknown'],
  },
  'GET /processors': { summary: 'List stream processors', ok: { status: 200, schema: listProcessorsResponseSchema }, errors: [] },
  'GET /processors/{name}': {
    summary: 'Describe a stream processor: positions, lag, stream time, counters, state size',
    path: processorPathSchema,
    ok: { status: 200, schema: processorDescriptionSchema },
    errors: ['ProcessorNotFound'],
  },
  'GET /openapi.json': {
    summary: 'This document',
    ok: { status: 200, schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }) },
    errors: [],
  },
} as const satisfies Record<RouteKey, Operation>;

type JsonSchema = Record<string, unknown>;

/** A request part's JSON Schema: what a client may send (transforms' inputs, defaults optional). */
function inputSchema(schema: Schema): JsonSchema {
  return convert(schema, 'input');
}

function convert(schema: Schema, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // Checks written as code (refine, custom) have no JSON Schema: the document states the shape.
    unrepresentable: 'any',
    reused: 'inline',
    override: (ctx) => {
      // boundedArray() is `custom (length check) -> array`: in input mode zod would describe only
      // the custom side (anything); the array is what a client sends.
      const def = ctx.zodSchema._zod.def as { type: string; in?: Schema; out?: Schema };
      if (def.type === 'pipe' && def.in?._zod.def.type === 'custom' && def.out) {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonSchema)[key];
        Object.assign(ctx.jsonSchema, convert(def.out, io));
      }
    },
  }) as JsonSchema;
  delete json.$schema; // OpenAPI 3.1's dialect is 2020-12 already
  return hoistDefinitions(json);
}

/**
 * Recursive schemas (a subscription's value filter) come with `$defs` and `#/$defs/...` refs, which
 * inside the document would point at its root: they move to `components.schemas`, one entry per
 * distinct definition, and their refs with them.
 */
let components: Map<string, { name: string; schema: JsonSchema }> = new Map();

function hoistDefinitions(json: JsonSchema): JsonSchema {
  const defs = json.$defs as Record<string, JsonSchema> | undefined;
  if (!defs) return json;
  delete json.$defs;
  const names = new Map<string, string>();
  const added: { name: string; schema: JsonSchema }[] = [];
  for (const [local, schema] of Object.entries(defs)) {
    const key = JSON.stringify(schema);
    let entry = components.get(key);
    if (!entry) {
      entry = { name: `Schema${components.size + 1}`, schema };
      components.set(key, entry);
      added.push(entry);
    }
    names.set(local, entry.name);
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const local = k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/') ? v.slice('#/$defs/'.length) : undefined;
        return [k, local !== undefined ? `#/components/schemas/${names.get(local) ?? local}` : rewrite(v)];
      }),
    );
  };
  for (const entry of added) entry.schema = rewrite(entry.schema) as JsonSchema;
  return rewrite(json) as JsonSchema;
}

/** `{ name: schema }` of a strict object's properties, and which are required. */
function properties(schema: Schema): { props: Record<string, JsonSchema>; required: Set<string> } {
  const json = inputSchema(schema);
  return {
    props: (json.properties ?? {}) as Record<string, JsonSchema>,
    required: new Set((json.required ?? []) as string[]),
  };
}

function errorResponse(codes: readonly ErrorCode[]): JsonSchema {
  return {
    description: `An error: ${codes.join(', ')}`,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string', enum: [...codes] }, message: { type: 'string' } },
              required: ['code', 'message'],
              additionalProperties: true,
            },
          },
          required: ['error'],
          additionalProperties: false,
        },
      },
    },
  };
}

/** The error codes a route can answer, by HTTP status. */
export function errorCodesOf(key: RouteKey): Map<number, ErrorCode[]> {
  const op: Operation = OPERATIONS[key];
  const codes = new Set<ErrorCode>([...COMMON_ERRORS, ...(op.body ? BODY_ERRORS : []), ...op.errors]);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorStatus(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/**
 * `info.version`: the version of the HTTP contract, not of the package (a release that changes no
 * route keeps it). Raise it when a route or schema changes incompatibly.
 */
export const API_VERSION = '1';

/** The whole document (deterministic: the same schemas give the same JSON). */
export function buildOpenApiDocument(): Record<string, unknown> {
  components = new Map();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const key = routeKey(route);
    const op: Operation = OPERATIONS[key];
    const parameters: JsonSchema[] = [];
    if (op.path) {
      const { props } = properties(op.path);
      for (const [name, schema] of Object.entries(props)) parameters.push({ name, in: 'path', required: true, schema });
    }
    if (op.query) {
      const { props, required } = properties(op.query);
      for (const [name, schema] of Object.entries(props)) parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
    const responses: Record<string, unknown> = {
      [op.ok.status]: op.ok.schema
        ? { description: 'OK', content: { 'application/json': { schema: convert(op.ok.schema, 'output') } } }
        : { description: 'No content' },
    };
    for (const [status, codes] of errorCodesOf(key)) responses[status] = errorResponse(codes);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: operationId(key),
      summary: op.summary,
      security: [{ sigv4: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body
        ? { requestBody: { required: !op.bodyOptional, content: { 'application/json': { schema: inputSchema(op.body) } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice',
      version: API_VERSION,
      description:
        'Kafka-style event streaming on AWS managed services. Every request is signed with AWS SigV4 (IAM); ' +
        'with ACLs on, each route also needs what docs/api.md lists. Errors answer `{ "error": { "code", "message", ...details } }`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      schemas: Object.fromEntries([...components.values()].map((c) => [c.name, c.schema])),
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'AWS Signature Version 4 (service execute-api)' },
      },
    },
    paths,
  };
}

/** `POST /topics/{topic}/events` -> `postTopicsTopicEvents`. */
function operationId(key: RouteKey): string {
  const [method, path] = key.split(' ') as [string, string];
  const words = path
    .split(/[/{}.\-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join('');
}
