/**
 * The local stand-in for IAM in front of DynamoDB Local and the SQS server. Each local function
 * signs its SDK calls with an access key naming its role; this proxy reads the call's action and
 * resources and lets it through only if the role's template policy allows it, else answers
 * AccessDeniedException as AWS would. The platform's own calls (provisioning, tests) use the
 * emulators directly. Signatures are not verified: this enforces grants, it is not a security boundary.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../lambda/core/logger';
import { evaluate, type AccessRequest } from './policy';
import type { TwinStatement } from '../template/twin';

export interface AwsProxyOptions {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Statements by access key ID: the role a caller acts as. */
  readonly principals: ReadonlyMap<string, { readonly roleName: string; readonly statements: readonly TwinStatement[] }>;
  /** The access key of the account's administrator (the platform itself, tests): allowed everything. */
  readonly administrator: string;
  /**
   * Lambda's Invoke API for the platform's functions (`POST /2015-03-31/functions/{name}/invocations`),
   * by function name or ARN: undefined when there is no such function.
   */
  readonly invoke?: (functionNameOrArn: string, payload: string) => Promise<{ readonly functionArn: string; readonly payload: string; readonly error?: string } | undefined>;
  readonly logger: Logger;
}

export interface AwsProxy {
  readonly endpoint: string;
  /** Calls denied so far, newest last: what a test or a developer can inspect. */
  readonly denied: readonly { readonly roleName: string; readonly action: string; readonly resource: string }[];
  /** Every (role, action, resource) allowed so far, once each: what the functions really use. */
  readonly used: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startAwsProxy(options: AwsProxyOptions): Promise<AwsProxy> {
  const denied: { roleName: string; action: string; resource: string }[] = [];
  const used = new Set<string>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      options.logger.error('AWS proxy failed', { error });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 1000;

  let ownOrigin = '';
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const invocation = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (invocation) return invokeFunction(req, res, decodeURIComponent(invocation[1]!), body);
    const target = String(req.headers['x-amz-target'] ?? '');
    const sqs = target.startsWith('AmazonSQS.') || /Action=/.test(req.url ?? '');
    const upstream = sqs ? options.sqsEndpoint : options.dynamodbEndpoint;
    // Queue URLs name this proxy (functions send to a queue's own URL); the SQS server knows its own.
    const rewrite = sqs ? { from: ownOrigin, to: new URL(options.sqsEndpoint).origin } : undefined;
    const accessKey = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (accessKey === options.administrator) return forward(upstream, req, body, res, rewrite);
    const principal = accessKey ? options.principals.get(accessKey) : undefined;
    if (!principal) {
      return deny(res, target, 'UnrecognizedClientException', `The security token included in the request is invalid (access key ${accessKey ?? 'none'})`);
    }
    const access = describeCall(target, body, options);
    if (!access) return deny(res, target, 'AccessDeniedException', `The local platform does not know what ${target || 'this call'} touches`);
    for (const request of access) {
      const decision = evaluate(principal.statements, request);
      if (decision.allowed) {
        for (const resource of request.resources) used.add(`${principal.roleName} ${request.action} ${resource}`);
        continue;
      }
      denied.push({ roleName: principal.roleName, action: request.action, resource: decision.resource });
      const why = decision.explicit
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${request.action} action`;
      const message = `User: arn:aws:sts::${options.accountId}:assumed-role/${principal.roleName}/local is not authorized to perform: ${request.action} on resource: ${decision.resource} ${why}`;
      options.logger.warn('denied', { role: principal.roleName, action: request.action, resource: decision.resource });
      return deny(res, target, 'AccessDeniedException', message);
    }
    await forward(upstream, req, body, res, rewrite);
  }

  /** Lambda's Invoke API (RequestResponse), checked against lambda:InvokeFunction on the function. */
  async function invokeFunction(req: IncomingMessage, res: ServerResponse, name: string, body: Buffer): Promise<void> {
    const lambdaError = (status: number, type: string, message: string) => {
      const text = JSON.stringify({ Type: 'User', message });
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const accessKey = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    const principal = accessKey ? options.principals.get(accessKey) : undefined;
    if (accessKey !== options.administrator && !principal) return lambdaError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid');
    const functionArn = name.startsWith('arn:') ? name : `arn:aws:lambda:${options.region}:${options.accountId}:function:${name}`;
    if (principal) {
      const decision = evaluate(principal.statements, { action: 'lambda:InvokeFunction', resources: [functionArn] });
      if (!decision.allowed) {
        denied.push({ roleName: principal.roleName, action: 'lambda:InvokeFunction', resource: functionArn });
        return lambdaError(403, 'AccessDeniedException', `User: arn:aws:sts::${options.accountId}:assumed-role/${principal.roleName}/local is not authorized to perform: lambda:InvokeFunction on resource: ${functionArn}`);
      }
      used.add(`${principal.roleName} lambda:InvokeFunction ${functionArn}`);
    }
    const result = await options.invoke?.(name, body.toString('utf8'));
    if (!result) return lambdaError(404, 'ResourceNotFoundException', `Function not found: ${functionArn}`);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', 'content-length': Buffer.byteLength(result.payload) };
    if (result.error) headers['x-amz-function-error'] = 'Unhandled';
    res.writeHead(200, headers);
    res.end(result.payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  ownOrigin = `http://127.0.0.1:${port}`;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    denied,
    used,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  upstream: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  rewrite?: { readonly from: string; readonly to: string },
): Promise<void> {
  const url = new URL(req.url ?? '/', upstream);
  const payload = rewrite ? Buffer.from(body.toString('utf8').replaceAll(rewrite.from, rewrite.to)) : body;
  const headers = { ...req.headers, host: url.host, 'content-length': String(payload.length) };
  return new Promise((resolve, reject) => {
    const out = httpRequest(url, { method: req.method, headers }, (answer) => {
      if (!rewrite) {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', reject);
        return;
      }
      readAll(answer).then((raw) => {
        const text = Buffer.from(raw.toString('utf8').replaceAll(rewrite.to, rewrite.from));
        res.writeHead(answer.statusCode ?? 500, { ...answer.headers, 'content-length': String(text.length) });
        res.end(text);
        resolve();
      }, reject);
    });
    out.on('error', reject);
    out.end(payload);
  });
}

/** The JSON error both DynamoDB and SQS (JSON protocol) answer with. */
function deny(res: ServerResponse, target: string, code: string, message: string): void {
  const sqs = target.startsWith('AmazonSQS.');
  const body = JSON.stringify({ __type: `com.amazonaws.${sqs ? 'sqs' : 'dynamodb'}#${code}`, message, Message: message });
  res.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    ...(sqs ? { 'x-amzn-query-error': `${code === 'AccessDeniedException' ? 'AccessDenied' : code};Sender` } : {}),
  });
  res.end(body);
}

type Json = Record<string, unknown>;

/** What a DynamoDB or SQS JSON-protocol call does, and to which resources (as IAM sees it). */
const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

export function describeCall(
  target: string,
  body: Buffer,
  where: { readonly region: string; readonly accountId: string },
): AccessRequest[] | undefined {
  const [service, operation] = target.split('.');
  if (!operation) return undefined;
  let input: Json;
  try {
    input = JSON.parse(body.toString('utf8') || '{}') as Json;
  } catch {
    return undefined;
  }
  const table = (name: unknown, index?: unknown) =>
    `arn:aws:dynamodb:${where.region}:${where.accountId}:table/${String(name)}${index ? `/index/${String(index)}` : ''}`;
  if (service === 'DynamoDB_20120810') {
    const action = `dynamodb:${operation}`;
    switch (operation) {
      case 'BatchGetItem':
      case 'BatchWriteItem':
        return [{ action, resources: Object.keys((input.RequestItems as Json | undefined) ?? {}).map((t) => table(t)) }];
      case 'TransactWriteItems':
      case 'TransactGetItems': {
        // IAM authorizes each item of a transaction by its own action (PutItem, UpdateItem, ...).
        const items = (input.TransactItems as Json[] | undefined) ?? [];
        return items.map((item) => {
          const [kind, spec] = Object.entries(item)[0] ?? [];
          const itemAction = TRANSACT_ACTIONS[kind ?? ''];
          return { action: itemAction ? `dynamodb:${itemAction}` : `dynamodb:${operation}`, resources: [table((spec as Json | undefined)?.TableName)] };
        });
      }
      case 'ListTables':
        return [{ action, resources: ['*'] }];
      default:
        return input.TableName === undefined ? undefined : [{ action, resources: [table(input.TableName, input.IndexName)] }];
    }
  }
  if (service === 'AmazonSQS') {
    const queueArn = (url: unknown) => {
      const name = String(url).split('/').pop();
      return `arn:aws:sqs:${where.region}:${where.accountId}:${name}`;
    };
    // IAM authorizes SQS batch calls by the single-message action.
    const action = `sqs:${operation.replace(/Batch$/, '')}`;
    if (operation === 'ListQueues') return [{ action, resources: ['*'] }];
    // Tagging a queue as it is created needs sqs:TagQueue as well (SQS's "tag on create").
    const tags = input.tags as Json | undefined;
    if (operation === 'CreateQueue' && input.QueueName !== undefined && tags && Object.keys(tags).length > 0) {
      return [action, 'sqs:TagQueue'].map((a) => ({ action: a, resources: [queueArn(input.QueueName)] }));
    }
    if (input.QueueUrl !== undefined) return [{ action, resources: [queueArn(input.QueueUrl)] }];
    if (input.QueueName !== undefined) return [{ action, resources: [queueArn(input.QueueName)] }];
  }
  return undefined;
}
