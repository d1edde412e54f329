/**
 * The local API Gateway: serves the synthesized stack's API (an HTTP API or a REST API) on
 * loopback, builds the event that API type sends its Lambda integration, invokes the function's
 * local environments, and answers as API Gateway would, its limits included: 10 MB requests, the
 * 30 s integration timeout, its own error answers. It does not verify SigV4 signatures; every
 * route of the stack must still declare IAM auth, or the platform refuses to start.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../lambda/core/logger';
import { InvocationError, type FunctionPool } from '../lambda/function-pool';
import type { TwinApi, TwinFunction } from '../template/twin';
import {
  gatewayError,
  httpApiEvent,
  httpApiResponse,
  restApiEvent,
  restApiResponse,
  type GatewayRequest,
  type GatewayResponse,
} from './events';
import { selectHttpRoute, selectRestMethod } from './routes';

/** API Gateway's largest request payload. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** API Gateway's integration timeout. */
export const INTEGRATION_TIMEOUT_MS = 30_000;
/**
 * The header that says which IAM principal a local request acts as: the local platform has no
 * SigV4, so tests name the caller. Only the local gateway reads it; a deployed API takes the
 * principal from the signature and passes this header through as an ordinary one.
 */
export const LOCAL_PRINCIPAL_HEADER = 'x-sluice-local-principal';
export const DEFAULT_LOCAL_PRINCIPAL = 'arn:aws:iam::000000000000:user/local-developer';

export interface GatewayOptions {
  readonly api: TwinApi;
  readonly pools: ReadonlyMap<string, FunctionPool>;
  readonly port: number;
  readonly host: string;
  readonly logger: Logger;
  /** @default 30 s, API Gateway's */
  readonly integrationTimeoutMs?: number;
  /** Served beside the API under a path prefix of their own (the web console at `/console`). @default - none */
  readonly mounts?: readonly { readonly prefix: string; readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> }[];
}

export interface Gateway {
  /** Base URL of the API: the root for an HTTP API, the stage's path for a REST API. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { api } = options;
  const unauthenticated =
    api.type === 'http'
      ? api.routes.filter((r) => r.authorizationType !== 'AWS_IAM').map((r) => r.routeKey)
      : api.methods.filter((m) => m.authorizationType !== 'AWS_IAM').map((m) => `${m.httpMethod} ${m.resourcePath}`);
  if (unauthenticated.length > 0) {
    throw new Error(`Every route must use IAM auth; these do not: ${unauthenticated.join(', ')}`);
  }
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      options.logger.error('local API gateway failed', { error });
      if (!res.headersSent) send(res, gatewayError(500, 'Internal Server Error'));
    });
  });
  // Keep-alive sockets would hold close() open.
  server.keepAliveTimeout = 1000;
  let listeningPort = options.port;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refuseBrowserAttack(req, listeningPort);
    if (refused) return send(res, refused);
    const pathname = new URL(req.url ?? '/', 'http://local').pathname;
    const mount = options.mounts?.find((m) => pathname === m.prefix || pathname.startsWith(`${m.prefix}/`));
    if (mount) return mount.handler(req, res);
    const body = await readBody(req);
    if (body === undefined) return send(res, gatewayError(413, 'Request Entity Too Large'));
    const principal = req.headers[LOCAL_PRINCIPAL_HEADER];
    const request: GatewayRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      url: new URL(req.url ?? '/', 'http://local'),
      httpVersion: req.httpVersion,
      headers: req.headers,
      body,
      // As API Gateway gives it: an IPv4 client in dotted form, not IPv4-mapped IPv6 (a dual-stack listener's "::ffff:…").
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, ''),
      principalArn: typeof principal === 'string' && principal !== '' ? principal : DEFAULT_LOCAL_PRINCIPAL,
    };
    send(res, api.type === 'http' ? await httpApi(request) : await restApi(request));
  }

  async function httpApi(request: GatewayRequest): Promise<GatewayResponse> {
    if (api.type !== 'http') throw new Error('unreachable');
    const selected = selectHttpRoute(api.routes, request.method, request.url.pathname);
    if (!selected) return gatewayError(404, 'Not Found');
    const event = httpApiEvent(request, selected.route.routeKey, selected.pathParameters);
    const answer = await integrate(selected.route.function, event, 'http');
    return 'payload' in answer ? withRequestId(httpApiResponse(answer.payload), event.requestContext.requestId) : answer;
  }

  async function restApi(request: GatewayRequest): Promise<GatewayResponse> {
    if (api.type !== 'rest') throw new Error('unreachable');
    const prefix = `/${api.stageName}`;
    const pathname = request.url.pathname;
    if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return gatewayError(403, 'Forbidden');
    const path = pathname.slice(prefix.length) || '/';
    const selected = selectRestMethod(api.methods, request.method, path);
    // What a REST API answers for a path or method it has no resource for.
    if (!selected) return gatewayError(403, 'Missing Authentication Token');
    const { method } = selected;
    const event = restApiEvent(request, { path: method.resourcePath, id: method.resourceId, stage: api.stageName }, path, selected.pathParameters);
    const answer = await integrate(method.function, event, 'rest');
    return 'payload' in answer ? withRequestId(restApiResponse(answer.payload), event.requestContext.requestId) : answer;
  }

  async function integrate(fn: TwinFunction, event: unknown, type: 'http' | 'rest'): Promise<{ payload: string } | GatewayResponse> {
    const pool = options.pools.get(fn.logicalId);
    if (!pool) throw new Error(`No local environment for function ${fn.logicalId}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS);
    });
    try {
      // The function runs on after API Gateway gives up, as on AWS, until its own timeout.
      const outcome = await Promise.race([pool.invoke(event), timeout]);
      if (outcome === 'timeout') {
        options.logger.warn('integration timed out', { function: fn.functionName });
        return type === 'http' ? gatewayError(503, 'Service Unavailable') : gatewayError(504, 'Endpoint request timed out');
      }
      return { payload: outcome.payload };
    } catch (error) {
      if (error instanceof InvocationError && error.errorType === 'RequestEntityTooLargeException') {
        return gatewayError(413, 'Request Entity Too Large');
      }
      // What API Gateway answers when the Lambda invocation fails (an error, a timeout, a crash).
      options.logger.error('function failed', { function: fn.functionName, error });
      return type === 'http' ? gatewayError(500, 'Internal Server Error') : gatewayError(502, 'Internal server error');
    } finally {
      clearTimeout(timer);
    }
  }

  await listen(server, options.port, options.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  listeningPort = port;
  const base = `http://${options.host}:${port}`;
  return {
    endpoint: api.type === 'rest' ? `${base}/${api.stageName}` : base,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The local API verifies no signatures, so a web page in the developer's browser must not reach
 * it: a cross-site request (an `Origin` or `Sec-Fetch-Site` naming another site) is refused, and
 * so is a `Host` that is not this server's loopback name (DNS rebinding points a foreign name at
 * 127.0.0.1). Deployed APIs need neither: a browser cannot SigV4-sign a request.
 */
function refuseBrowserAttack(req: IncomingMessage, port: number): GatewayResponse | undefined {
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowedHosts.has(host)) {
    return gatewayError(403, `Host "${host}" is not this local API; use http://127.0.0.1:${port}`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, '').toLowerCase())) {
    return gatewayError(403, `Cross-origin requests (from ${origin}) are refused by the local API`);
  }
  if (req.headers['sec-fetch-site'] === 'cross-site') return gatewayError(403, 'Cross-site requests are refused by the local API');
  return undefined;
}

function withRequestId(response: GatewayResponse, requestId: string): GatewayResponse {
  return { ...response, headers: { ...response.headers, 'apigw-requestid': requestId } };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${port} on ${host} is already in use; stop what uses it or set SLUICE_PORT`) : err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: GatewayResponse): void {
  res.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
  res.end(response.body);
}
