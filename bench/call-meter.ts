/**
 * Meters for a benchmark of the local platform, from outside it (nothing in local/ changes):
 *
 * - `startCallMeter`: an HTTP pass-through in front of DynamoDB Local or the SQS server. The
 *   platform is started with these as its emulators, so every AWS call any function, event
 *   source or the platform itself makes passes through it (after the local IAM). Each call is
 *   recorded with the access key that signed it (the local IAM names a function's role in it),
 *   its operation, the capacity units AWS's documented rules charge for it (bench/capacity.ts),
 *   and for SQS the requests AWS bills (one per 64 KB chunk of payload). Bodies and headers are
 *   passed on unchanged; the cost is one more loopback hop per call.
 * - `meterInvocations`: times every Lambda invocation of the local function pools, by wrapping
 *   `Worker.prototype.postMessage` and `emit` (an execution environment is a worker thread that
 *   gets `{ id, event, context }` and answers `{ id, payload | error }`). The time is the
 *   invocation's wall time as the pool sees it: what Lambda bills as Duration, give or take the
 *   message passing.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { computeUnits, itemSize, writeUnits } from './capacity';

/** AWS bills SQS requests in 64 KB chunks of payload. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;

export type MeteredService = 'dynamodb' | 'streams' | 'sqs' | 'other';

export interface MeteredCall {
  readonly service: MeteredService;
  readonly operation: string;
  /** The access key that signed the call: `LOCALROLE<role>` for a function's role, else the platform's own. */
  readonly accessKey: string;
  readonly status: number;
  /** The error type of a failed call (`ConditionalCheckFailedException`, ...). */
  readonly errorType?: string;
  /** Units by AWS's documented rules (DynamoDB). */
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Writes sized by assumption (UpdateItem/DeleteItem: see `assumedWriteItemBytes`). */
  readonly assumedWrites: number;
  /** Requests AWS bills for this call (SQS: one per started 64 KB of payload). */
  readonly billedRequests: number;
  /** SQS messages sent, received or deleted by the call. */
  readonly messages: number;
  /** Bytes of the SQS message bodies in the call (sent or received). */
  readonly messageBytes: number;
}

export interface CallMeter {
  readonly endpoint: string;
  /** The calls since the last take, and starts over. */
  take(): MeteredCall[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

export interface CallMeterOptions {
  /** Where calls go: DynamoDB Local's or the SQS server's endpoint. */
  readonly upstream: string;
  /**
   * Units an UpdateItem or DeleteItem is charged by its item, which the call does not show: it is
   * counted as one write of an item this big. @default 1024 (1 WCU)
   */
  readonly assumedWriteItemBytes?: number;
}

export async function startCallMeter(options: CallMeterOptions): Promise<CallMeter> {
  let calls: MeteredCall[] = [];
  const upstream = new URL(options.upstream);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const accessKey = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'anonymous';
      // The Host header is passed on as is: the SQS server names queue URLs after it.
      const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
        const out = httpRequest(
          { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (r) => readAll(r).then((b) => resolve({ status: r.statusCode ?? 500, headers: r.headers, body: b }), reject),
        );
        out.on('error', reject);
        out.end(body);
      });
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      try {
        calls.push(meter(target, accessKey, body, answer, options.assumedWriteItemBytes ?? 1024));
      } catch {
        calls.push({ ...empty(target, accessKey, answer.status), operation: `${target} (unparsed)` });
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function empty(target: string, accessKey: string, status: number): MeteredCall {
  const [prefix = '', operation = target] = target.split('.');
  return {
    service: serviceOf(prefix),
    operation,
    accessKey,
    status,
    writeUnits: 0,
    readUnits: 0,
    assumedWrites: 0,
    billedRequests: 1,
    messages: 0,
    messageBytes: 0,
  };
}

function serviceOf(prefix: string): MeteredService {
  if (prefix === 'DynamoDB_20120810') return 'dynamodb';
  if (prefix === 'DynamoDBStreams_20120810') return 'streams';
  if (prefix === 'AmazonSQS') return 'sqs';
  return 'other';
}

function meter(target: string, accessKey: string, body: Buffer, answer: { status: number; headers: IncomingMessage['headers']; body: Buffer }, assumedBytes: number): MeteredCall {
  const call = empty(target, accessKey, answer.status);
  const input = parseJson(body);
  const raw = answer.headers['content-encoding'] === 'gzip' ? gunzipSync(answer.body) : answer.body;
  const output = parseJson(raw);
  const ok = answer.status >= 200 && answer.status < 300;
  const errorType = ok ? undefined : String(output.__type ?? output.code ?? 'unknown').split('#').pop();
  if (call.service === 'dynamodb') {
    const op = call.operation;
    // A write that fails its condition (or a cancelled transaction) is charged all the same; a failed read is not.
    const isRead = ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems'].includes(op);
    const chargedFailure = errorType === 'ConditionalCheckFailedException' || errorType === 'TransactionCanceledException';
    if (!ok && (isRead || !chargedFailure)) {
      return { ...call, errorType, billedRequests: 0 };
    }
    if (op === 'UpdateItem' || op === 'DeleteItem') {
      return { ...call, errorType, writeUnits: writeUnits(assumedBytes), assumedWrites: 1, billedRequests: 0 };
    }
    const units = computeUnits(op, fromWire(input) as Json, ok ? (fromWire(output) as Json) : {});
    return { ...call, errorType, writeUnits: units.write, readUnits: units.read, assumedWrites: units.unsized, billedRequests: 0 };
  }
  if (call.service === 'streams') return { ...call, errorType, billedRequests: 0 };
  if (call.service !== 'sqs') return { ...call, errorType };
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK_BYTES));
  const bytesOf = (messages: Json[]) => messages.reduce((n, m) => n + Buffer.byteLength(String(m.MessageBody ?? m.Body ?? '')) + attributeBytes(m.MessageAttributes), 0);
  switch (call.operation) {
    case 'SendMessageBatch': {
      const entries = (input.Entries ?? []) as Json[];
      const bytes = bytesOf(entries);
      return { ...call, errorType, messages: entries.length, messageBytes: bytes, billedRequests: chunks(bytes) };
    }
    case 'SendMessage': {
      const bytes = bytesOf([input]);
      return { ...call, errorType, messages: 1, messageBytes: bytes, billedRequests: chunks(bytes) };
    }
    case 'ReceiveMessage': {
      const messages = (output.Messages ?? []) as Json[];
      const bytes = bytesOf(messages);
      return { ...call, errorType, messages: messages.length, messageBytes: bytes, billedRequests: chunks(bytes) };
    }
    case 'DeleteMessageBatch':
    case 'ChangeMessageVisibilityBatch':
      return { ...call, errorType, messages: ((input.Entries ?? []) as Json[]).length };
    case 'DeleteMessage':
    case 'ChangeMessageVisibility':
      return { ...call, errorType, messages: 1 };
    default:
      return { ...call, errorType };
  }
}

function attributeBytes(attributes: unknown): number {
  if (!attributes || typeof attributes !== 'object') return 0;
  let n = 0;
  for (const [name, v] of Object.entries(attributes as Record<string, Json>)) {
    n += Buffer.byteLength(name) + Buffer.byteLength(String(v.DataType ?? '')) + Buffer.byteLength(String(v.StringValue ?? v.BinaryValue ?? ''));
  }
  return n;
}

function parseJson(buffer: Buffer): Json {
  if (buffer.length === 0) return {};
  try {
    const value = JSON.parse(buffer.toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Json) : {};
  } catch {
    return {};
  }
}

/** DynamoDB's JSON wire format carries `B`/`BS` as base64 text; the unit rules size the bytes. */
function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (k === 'B' && typeof v === 'string') out[k] = Buffer.from(v, 'base64');
    else if (k === 'BS' && Array.isArray(v) && v.every((b) => typeof b === 'string')) out[k] = v.map((b) => Buffer.from(b as string, 'base64'));
    else out[k] = fromWire(v);
  }
  return out;
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Size of an item in DynamoDB's JSON wire format (for checking the UpdateItem assumption). */
export function wireItemSize(item: Json): number {
  return itemSize(fromWire(item) as Parameters<typeof itemSize>[0]);
}

// ---- Lambda invocations ----------------------------------------------------------------------

export interface Invocation {
  readonly functionName: string;
  /** Records in the event (stream records, SQS messages), 0 for other events. */
  readonly records: number;
  readonly durationMs: number;
  /** performance.now() when the invocation was handed to its environment, and when it answered. */
  readonly start: number;
  readonly end: number;
  /** What `describe` made of the event (e.g. which record batches it carries). */
  readonly keys: readonly string[];
  /** The first invocation in its execution environment. */
  readonly firstInEnvironment: boolean;
  readonly failed: boolean;
}

export interface InvocationMeter {
  take(): Invocation[];
  /** Invocations started and not answered yet. */
  inFlight(): number;
  restore(): void;
}

/**
 * Must run before the platform starts its functions. `describe` names what an event carries, for
 * following a record batch through the functions (it sees every invocation's event; keep it cheap).
 */
export function meterInvocations(describe: (functionName: string, event: unknown) => readonly string[] = () => []): InvocationMeter {
  const proto = Worker.prototype as unknown as {
    postMessage: (this: Worker, message: unknown, ...rest: unknown[]) => void;
    emit: (this: Worker, name: string | symbol, ...args: unknown[]) => boolean;
  };
  const { postMessage, emit } = proto;
  const pending = new Map<string, { functionName: string; records: number; start: number; keys: readonly string[]; firstInEnvironment: boolean }>();
  const seen = new WeakSet<Worker>();
  let done: Invocation[] = [];
  proto.postMessage = function (message, ...rest) {
    const m = message as { id?: unknown; event?: { Records?: unknown }; context?: { functionName?: unknown } } | null;
    if (m && typeof m.id === 'string' && m.context && typeof m.context.functionName === 'string') {
      pending.set(m.id, {
        functionName: m.context.functionName,
        records: Array.isArray(m.event?.Records) ? m.event.Records.length : 0,
        start: performance.now(),
        keys: safely(() => describe(m.context!.functionName as string, m.event)),
        firstInEnvironment: !seen.has(this),
      });
      seen.add(this);
    }
    return postMessage.call(this, message, ...rest);
  };
  proto.emit = function (name, ...args) {
    if (name === 'message') {
      const m = args[0] as { id?: unknown; error?: unknown } | null;
      const p = m && typeof m.id === 'string' ? pending.get(m.id) : undefined;
      if (p && m) {
        pending.delete(m.id as string);
        const end = performance.now();
        done.push({ ...p, durationMs: end - p.start, end, failed: m.error !== undefined });
      }
    }
    return emit.call(this, name, ...args);
  };
  return {
    take() {
      const taken = done;
      done = [];
      return taken;
    },
    inFlight: () => pending.size,
    restore() {
      proto.postMessage = postMessage;
      proto.emit = emit;
    },
  };
}

function safely(f: () => readonly string[]): readonly string[] {
  try {
    return f();
  } catch {
    return [];
  }
}
