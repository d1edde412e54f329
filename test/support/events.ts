/**
 * Minimal API Gateway events for invoking handlers directly: `httpEvent()` as an HTTP API sends it
 * (payload 2.0), `restEvent()` as a REST API's Lambda proxy integration does (payload 1.0), and SQS.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';

export interface ApiEventInit {
  /** A string is sent as is, anything else as JSON. */
  body?: unknown;
  pathParameters?: Record<string, string>;
  /** The concrete path; defaults to the route key's path template. */
  rawPath?: string;
  /** Query parameters; an array is a repeated parameter. */
  query?: Record<string, string | string[]>;
  /** Extra headers (names as the client sent them). */
  headers?: Record<string, string>;
  /** The SigV4 signer API Gateway verified (IAM auth); omitted: an anonymous local request. */
  principalArn?: string;
}

/** A principal for tests that sign requests. */
export const TEST_PRINCIPAL = 'arn:aws:iam::000000000000:role/sluice-test';

const bodyText = (body: unknown) => (body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));

/** Payload format 2.0. `routeKey` is `"METHOD /path/{param}"`, or `"$default"` with `init.method`. */
export function httpEvent(routeKey: string, init: ApiEventInit & { method?: string } = {}): APIGatewayProxyEventV2 {
  const [keyMethod = 'GET', path = '/'] = routeKey.split(' ');
  const method = init.method ?? keyMethod;
  const rawPath = init.rawPath ?? path;
  const query = init.query ? Object.fromEntries(Object.entries(init.query).map(([k, v]) => [k, [v].flat().join(',')])) : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  const requestContext: APIGatewayProxyEventV2['requestContext'] & { authorizer?: unknown } = {
    accountId: '000000000000',
    apiId: 'test',
    domainName: 'test',
    domainPrefix: 'test',
    http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    requestId: 'req-1',
    routeKey,
    stage: '$default',
    time: '',
    timeEpoch: 0,
  };
  if (init.principalArn) {
    requestContext.authorizer = {
      iam: {
        accessKey: 'AKIATEST',
        accountId: '000000000000',
        callerId: 'AROATEST:session',
        principalOrgId: null,
        userArn: init.principalArn,
        userId: 'AROATEST:session',
        cognitoIdentity: null,
      },
    };
  }
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: query ? new URLSearchParams(Object.entries(init.query!).flatMap(([k, v]) => [v].flat().map((x): [string, string] => [k, x]))).toString() : '',
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    pathParameters: init.pathParameters,
    requestContext,
    body: bodyText(init.body),
    isBase64Encoded: false,
  };
}

/**
 * Payload format 1.0, as a REST API's Lambda proxy integration builds it. `routeKey` is
 * `"METHOD /resource/{param}"`: the method and the API resource that matched (e.g. a fallback's
 * `"PUT /topics/{topic}"` or `"GET /{proxy+}"`).
 */
export function restEvent(routeKey: string, init: ApiEventInit = {}): APIGatewayProxyEvent {
  const [httpMethod = 'GET', resource = '/'] = routeKey.split(' ');
  const path = init.rawPath ?? resource;
  const multiQuery = init.query ? Object.fromEntries(Object.entries(init.query).map(([k, v]) => [k, [v].flat()])) : null;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Host: 'test.execute-api.localhost', ...init.headers };
  return {
    resource,
    path,
    httpMethod,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    // The single-value map holds a repeated parameter's last value.
    queryStringParameters: multiQuery ? Object.fromEntries(Object.entries(multiQuery).map(([k, v]) => [k, v.at(-1)!])) : null,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: init.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      authorizer: null,
      httpMethod,
      identity: {
        accessKey: init.principalArn ? 'AKIATEST' : null,
        accountId: init.principalArn ? '000000000000' : null,
        apiKey: null,
        apiKeyId: null,
        caller: init.principalArn ? 'AROATEST:session' : null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: init.principalArn ? 'AROATEST:session' : null,
        userAgent: 'test',
        userArn: init.principalArn ?? null,
      },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'req-1',
      requestTimeEpoch: 0,
      resourceId: 'abc123',
      resourcePath: resource,
      stage: 'prod',
    },
    body: bodyText(init.body) ?? null,
    isBase64Encoded: false,
  };
}

export function sqsEvent(bodies: unknown[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `r-${i}`,
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test',
      awsRegion: 'us-east-1',
    })),
  };
}

export const lambdaContext = { awsRequestId: 'ctx-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
