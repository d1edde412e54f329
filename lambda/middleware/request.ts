/**
 * One request shape for both API Gateway payload formats, built once per invocation:
 * - 1.0, sent by REST APIs (and by the local REST twin): `httpMethod`, `resource`, `path`,
 *   `multiValueQueryStringParameters`, `multiValueHeaders`, `requestContext.identity`;
 * - 2.0, sent by HTTP APIs (and by the local platform's default mode): `routeKey`, `rawPath`,
 *   `requestContext.http`, `requestContext.authorizer.iam`.
 * Handlers, the access log and the error middleware see only `SluiceRequest`, so no code below the
 * middleware knows which kind of API called it. Responses (`HttpResult`) are valid in both formats.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/** What API Gateway hands a Lambda proxy integration: payload format 1.0 or 2.0. */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * A proxy response both formats accept as is: header values are strings, the body is a string
 * (empty when there is none), and `isBase64Encoded` is always set.
 */
export interface HttpResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

/**
 * Who signed the request. Every route uses IAM (SigV4) auth, so API Gateway has verified the
 * signature and fills these in; ACLs (e.g. per-topic grants) are built on `principalArn`.
 * Fields API Gateway left empty (unsigned local requests) are undefined.
 */
export interface CallerIdentity {
  /** ARN of the IAM principal: 1.0 `requestContext.identity.userArn`, 2.0 `requestContext.authorizer.iam.userArn`. */
  readonly principalArn?: string;
  /** Account of the principal: 1.0 `identity.accountId`, 2.0 `authorizer.iam.accountId`. */
  readonly accountId?: string;
  /** Principal ID of the caller (e.g. `AROA…:session`): 1.0 `identity.caller`, 2.0 `authorizer.iam.callerId`. */
  readonly caller?: string;
  /** 1.0 `identity.user`, 2.0 `authorizer.iam.userId`. */
  readonly userId?: string;
  /** The access key ID that signed the request. */
  readonly accessKey?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** A request to a Sluice route, whichever payload format carried it. */
export interface SluiceRequest<Body = string | undefined> {
  /** The payload format API Gateway used. */
  readonly format: '1.0' | '2.0';
  /**
   * `"METHOD /resource"`, e.g. `"GET /topics/{topic}"`, as ROUTES spells it. From 2.0's `routeKey`
   * (`"$default"` for a request no route matched) or from 1.0's `httpMethod` + `resource` (a
   * fallback `ANY` method gives e.g. `"PUT /topics/{topic}"` or `"GET /{proxy+}"`).
   */
  readonly routeKey: string;
  /** Upper case, e.g. `"GET"`. */
  readonly method: string;
  /** The request path without the stage, e.g. `"/topics/orders"`. */
  readonly path: string;
  /** Path parameters of the matched resource, URL-decoded by API Gateway. */
  readonly pathParameters: Readonly<Record<string, string>>;
  /** Query parameters; a repeated one is joined with commas, as payload 2.0 does. */
  readonly query: Readonly<Record<string, string>>;
  /** Headers by lower-case name; a repeated one is joined with commas, as payload 2.0 does. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body: the raw text here, the parsed JSON once `jsonBody()` has run. */
  readonly body: Body;
  /** Whether API Gateway base64-encoded the raw body (non-text content types). */
  readonly isBase64Encoded: boolean;
  /** API Gateway's request ID. */
  readonly requestId: string;
  readonly identity: CallerIdentity;
}

/** Whether a value is a request this module already normalized (middy's event is replaced in place). */
export function isSluiceRequest(value: unknown): value is SluiceRequest<unknown> {
  return typeof value === 'object' && value !== null && NORMALIZED in value;
}

const NORMALIZED = Symbol('sluice.request');

/** Normalize an API Gateway proxy event of either payload format. Throws on anything else. */
export function normalizeRequest(event: ApiGatewayEvent): SluiceRequest {
  const request = isV2(event) ? fromV2(event) : isV1(event) ? fromV1(event) : undefined;
  if (!request) throw new TypeError('Not an API Gateway proxy event (payload format 1.0 or 2.0)');
  Object.defineProperty(request, NORMALIZED, { value: true }); // not enumerable: invisible to spreads and comparisons
  return request;
}

function isV2(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0' || typeof (event as APIGatewayProxyEventV2).rawPath === 'string';
}

function isV1(event: ApiGatewayEvent): event is APIGatewayProxyEvent {
  return typeof (event as APIGatewayProxyEvent).httpMethod === 'string';
}

function fromV2(event: APIGatewayProxyEventV2): SluiceRequest {
  const ctx = event.requestContext;
  // The IAM authorizer's fields: the aws-lambda types only declare them on the authorizer variant.
  const iam = (ctx as { authorizer?: { iam?: Record<string, unknown> } }).authorizer?.iam;
  return {
    format: '2.0',
    routeKey: event.routeKey,
    method: (ctx?.http?.method ?? '').toUpperCase(),
    path: event.rawPath,
    pathParameters: definedValues(event.pathParameters),
    query: definedValues(event.queryStringParameters),
    headers: lowerCaseNames(definedValues(event.headers)),
    body: event.body ?? undefined,
    isBase64Encoded: event.isBase64Encoded === true,
    requestId: ctx?.requestId ?? '',
    identity: compact({
      principalArn: str(iam?.userArn),
      accountId: str(iam?.accountId),
      caller: str(iam?.callerId),
      userId: str(iam?.userId),
      accessKey: str(iam?.accessKey),
      sourceIp: ctx?.http?.sourceIp,
      userAgent: ctx?.http?.userAgent,
    }),
  };
}

function fromV1(event: APIGatewayProxyEvent): SluiceRequest {
  const method = event.httpMethod.toUpperCase();
  const identity = event.requestContext?.identity;
  return {
    format: '1.0',
    routeKey: `${method} ${event.resource}`,
    method,
    path: event.path,
    pathParameters: definedValues(event.pathParameters),
    // The multi-value maps hold every value in order; the single-value ones only the last.
    query: joinValues(event.multiValueQueryStringParameters, event.queryStringParameters),
    headers: lowerCaseNames(joinValues(event.multiValueHeaders, event.headers)),
    body: event.body ?? undefined,
    isBase64Encoded: event.isBase64Encoded === true,
    requestId: event.requestContext?.requestId ?? '',
    identity: compact({
      principalArn: str(identity?.userArn),
      accountId: str(identity?.accountId),
      caller: str(identity?.caller),
      userId: str(identity?.user),
      accessKey: str(identity?.accessKey),
      sourceIp: str(identity?.sourceIp),
      userAgent: str(identity?.userAgent),
    }),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function definedValues(map: Record<string, string | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (v !== undefined && v !== null) out[k] = v;
  return out;
}

function joinValues(
  multi: Record<string, string[] | undefined> | null | undefined,
  single: Record<string, string | undefined> | null | undefined,
): Record<string, string> {
  const out = definedValues(single);
  for (const [k, v] of Object.entries(multi ?? {})) if (Array.isArray(v) && v.length > 0) out[k] = v.join(',');
  return out;
}

function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    out[name] = name in out ? `${out[name]},${v}` : v;
  }
  return out;
}

/** Make any handler result a valid proxy response for both payload formats. */
export function toHttpResult(result: unknown): HttpResult {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    // Payload 2.0 would send a bare value as a 200 JSON body; 1.0 would fail. Do what 2.0 does.
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: typeof result === 'string' ? result : JSON.stringify(result ?? null),
      isBase64Encoded: false,
    };
  }
  const r = result as { statusCode?: unknown; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: unknown };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined && v !== null) headers[k] = String(v);
  return {
    statusCode: Number(r.statusCode),
    headers,
    body: r.body === undefined || r.body === null ? '' : String(r.body),
    isBase64Encoded: r.isBase64Encoded === true,
  };
}
