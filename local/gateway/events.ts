/**
 * The events API Gateway sends a Lambda proxy integration, and how it reads the answers back:
 * payload format 2.0 (HTTP APIs) and 1.0 (REST APIs), as AWS documents them.
 */
import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithIAMAuthorizer,
} from 'aws-lambda';

export const LOCAL_ACCOUNT = '000000000000';

/** What the gateway knows about a request before it builds an event. */
export interface GatewayRequest {
  readonly method: string;
  readonly url: URL;
  readonly httpVersion: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly sourceIp: string;
  /** The IAM principal that signed the request (locally: who the caller says it is). */
  readonly principalArn: string;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: string | Buffer;
}

const TEXT_TYPES = /^(application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml)|text\/)/i;

function singleHeaders(req: GatewayRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

function iamIdentity(principalArn: string) {
  const userId = principalArn.split(/[/:]/).pop() ?? 'local';
  return { accessKey: 'LOCALACCESSKEY', accountId: LOCAL_ACCOUNT, callerId: userId, userArn: principalArn, userId };
}

export function httpApiEvent(
  req: GatewayRequest,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const headers = singleHeaders(req);
  const query: Record<string, string> = {};
  for (const [name, value] of req.url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  // HTTP APIs base64-encode bodies they do not recognise as text.
  const isBase64Encoded = req.body.length > 0 && contentType !== '' && !TEXT_TYPES.test(contentType);
  const now = new Date();
  const cookie = req.headers.cookie;
  return {
    version: '2.0',
    routeKey,
    rawPath: req.url.pathname,
    rawQueryString: req.url.search.slice(1),
    cookies: typeof cookie === 'string' ? cookie.split(';').map((c) => c.trim()) : undefined,
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      authorizer: { iam: { ...iamIdentity(req.principalArn), cognitoIdentity: null as never, principalOrgId: null as never } },
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method,
        path: req.url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: req.body.length > 0 ? req.body.toString(isBase64Encoded ? 'base64' : 'utf8') : undefined,
    isBase64Encoded,
  };
}

export function restApiEvent(
  req: GatewayRequest,
  resource: { readonly path: string; readonly id: string; readonly stage: string },
  /** The path below the stage, e.g. `/topics/orders`. */
  path: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEvent {
  const headers = singleHeaders(req);
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) multiValueHeaders[name] = Array.isArray(value) ? value : [value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of req.url.searchParams) {
    query[name] = value; // REST APIs keep the last value here, every value in the multi-value map
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const now = new Date();
  const identity = iamIdentity(req.principalArn);
  return {
    resource: resource.path,
    path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      authorizer: undefined,
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      extendedRequestId: randomUUID(),
      httpMethod: req.method,
      identity: {
        accessKey: identity.accessKey,
        accountId: identity.accountId,
        apiKey: null,
        apiKeyId: null,
        caller: identity.callerId,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: identity.userId,
        userAgent: headers['user-agent'] ?? null,
        userArn: identity.userArn,
      },
      path: `/${resource.stage}${path}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourceId: resource.id,
      resourcePath: resource.path,
      stage: resource.stage,
    },
    // Without binaryMediaTypes (Sluice sets none) a REST API passes every body as text.
    body: req.body.length > 0 ? req.body.toString('utf8') : null,
    isBase64Encoded: false,
  };
}

/** How an HTTP API reads a payload 2.0 answer: a structured result, or any JSON as a 200 body. */
export function httpApiResponse(payload: string): GatewayResponse {
  const result = JSON.parse(payload) as unknown;
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    const text = typeof result === 'string' ? result : payload;
    return { status: 200, headers: { 'content-type': 'application/json' }, body: text };
  }
  return structured(result as StructuredResult);
}

/** How a REST API reads a payload 1.0 answer: it must be a structured result, else 502. */
export function restApiResponse(payload: string): GatewayResponse {
  const result = JSON.parse(payload) as unknown;
  const r = result as StructuredResult | null;
  if (typeof r !== 'object' || r === null || !Number.isInteger(r.statusCode) || (r.body !== undefined && r.body !== null && typeof r.body !== 'string')) {
    return gatewayError(502, 'Internal server error');
  }
  return structured(r);
}

interface StructuredResult {
  statusCode?: number;
  headers?: Record<string, unknown>;
  multiValueHeaders?: Record<string, unknown[]>;
  cookies?: string[];
  body?: string | null;
  isBase64Encoded?: boolean;
}

function structured(result: StructuredResult): GatewayResponse {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k.toLowerCase()] = v.map(String);
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body == null ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  return { status: result.statusCode ?? 200, headers, body };
}

/** API Gateway's own answers (not Sluice's): `{ "message": ... }`. */
export function gatewayError(status: number, message: string): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}
