/**
 * The local stand-in for API Gateway (HTTP API, payload format 2.0): matches the route table of
 * definitions/functions.ts, builds the same event API Gateway would, and invokes the handler.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { FALLBACK_FUNCTION, matchRoute, routeKey, type FunctionName } from '../definitions/functions';
import type { Logger } from '../lambda/core/logger';
import { invoke } from './lambda-runtime';

/** API Gateway HTTP APIs accept payloads up to 10 MB. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface ApiServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startApiServer(options: { port: number; host: string; logger: Logger }): Promise<ApiServer> {
  const server = createServer((req, res) => {
    handle(req, res, options.logger).catch((error) => {
      options.logger.error('local API gateway failed', { error });
      if (!res.headersSent) send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
    });
  });
  // Keep-alive sockets would hold close() open.
  server.keepAliveTimeout = 1000;
  await listen(server, options.port, options.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    endpoint: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${port} on ${host} is already in use; stop what uses it or set SLUICE_PORT`)
          : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) {
    send(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Request Entity Too Large' }));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://local');
  const method = (req.method ?? 'GET').toUpperCase();
  const match = matchRoute(method, url.pathname);
  const isRoute = match !== undefined && 'route' in match;
  const fn: FunctionName = isRoute ? match.route.function : FALLBACK_FUNCTION;
  const event = toEvent(req, url, method, body, isRoute ? routeKey(match.route) : '$default', isRoute ? match.pathParameters : undefined);
  let result: APIGatewayProxyResultV2;
  try {
    result = (await invoke(fn, event)) as APIGatewayProxyResultV2;
  } catch (error) {
    // What API Gateway answers when the integration fails.
    logger.error('handler threw', { function: fn, error });
    send(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
    return;
  }
  writeResult(res, result);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const TEXT_TYPES = /^(application\/(json|[\w.+-]*\+json|x-www-form-urlencoded|xml)|text\/)/i;

function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  body: Buffer,
  key: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  // API Gateway base64-encodes bodies it does not recognise as text.
  const isBase64Encoded = body.length > 0 && contentType !== '' && !TEXT_TYPES.test(contentType);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    pathParameters,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? body.toString(isBase64Encoded ? 'base64' : 'utf8') : undefined,
    isBase64Encoded,
  };
}

/** Writes a handler result the way API Gateway interprets payload format 2.0 responses. */
function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    // Not a structured response: API Gateway sends it as a 200 JSON body.
    const text = typeof result === 'string' ? result : JSON.stringify(result);
    send(res, 200, { 'content-type': 'application/json' }, text);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  send(res, result.statusCode ?? 200, headers, body);
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
