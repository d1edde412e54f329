/**
 * One JSON request to the Sluice API: sign (when it applies), send with a timeout, retry what is
 * retriable, and turn failures into the typed errors of api/errors.
 */
import { ConnectionError, errorFromBody, InvalidRequestError, UnknownApiError } from '../api/errors';
import { withRetries, type RetryOptions } from '../api/retry';
import type { RequestSigner } from './signing';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpTransportConfig {
  readonly endpoint: URL;
  /** Undefined: requests are sent unsigned. */
  readonly signer: RequestSigner | undefined;
  readonly retry: RetryOptions;
  readonly timeoutMs: number;
  readonly fetch: typeof globalThis.fetch;
}

export interface RequestOptions {
  /** Query parameters; undefined ones are left out. */
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** Time allowed for one attempt, in ms. @default the transport's `timeoutMs` */
  readonly timeoutMs?: number;
  /** Overrides the transport's retry options for this request (`{ isRetriable: () => false }`: one attempt). */
  readonly retry?: RetryOptions;
  /**
   * Abandons the request when aborted: it rejects with the signal's reason (not retried, not a
   * SluiceError). @default - none
   */
  readonly signal?: AbortSignal;
}

export type HttpTransport = <T>(method: HttpMethod, path: string, body?: unknown, options?: RequestOptions) => Promise<T>;

export function createHttpTransport(config: HttpTransportConfig): HttpTransport {
  const basePath = config.endpoint.pathname.replace(/\/+$/, '');

  return function request<T>(method: HttpMethod, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    const url = new URL(config.endpoint);
    url.pathname = basePath + path;
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const timeoutMs = options.timeoutMs ?? config.timeoutMs;
    let payload: string | undefined;
    try {
      payload = body === undefined ? undefined : JSON.stringify(body);
    } catch (err) {
      // Nested too deep for the stack (RangeError), circular, or holding a BigInt: a mistake of the
      // caller's, typed as the service would answer it, and never sent.
      return Promise.reject(
        new InvalidRequestError(`The request body cannot be sent as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err }),
      );
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';

    const retry = { ...config.retry, ...options.retry };
    const signal = options.signal;
    return withRetries(async () => {
      signal?.throwIfAborted();
      const sent = config.signer ? await config.signer({ method, url, headers, body: payload }) : headers;
      return (await sendOnce(config, timeoutMs, method, url, withoutHost(sent), payload, signal)) as T;
    }, signal ? { ...retry, sleep: abortableSleep(signal, retry.sleep) } : retry);
  };
}

/**
 * The wait before a retry, cut short when `signal` is aborted: it rejects with the signal's reason
 * and clears its timer, so an abandoned request keeps nothing (not even the process) waiting.
 */
function abortableSleep(signal: AbortSignal, sleep: ((ms: number) => Promise<void>) | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (error?: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      if (sleep) sleep(ms).then(() => settle(), (err: unknown) => settle(err ?? new Error('sleep failed')));
      else timer = setTimeout(() => settle(), ms);
    });
}

async function sendOnce(
  config: HttpTransportConfig,
  timeoutMs: number,
  method: HttpMethod,
  url: URL,
  headers: Record<string, string>,
  payload: string | undefined,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  let status: number;
  let text: string;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await config.fetch(url, {
      method,
      headers,
      body: payload,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    status = response.status;
    text = await response.text();
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw connectionError(config, timeoutMs, err);
  }

  const parsed = parseJson(text);
  if (status < 200 || status > 299) throw errorFromBody(status, parsed.ok ? parsed.value : text);
  if (text === '') return undefined;
  if (!parsed.ok) {
    throw new UnknownApiError(`HTTP ${status} from ${config.endpoint.origin} is not JSON`, {
      details: { status, body: text.slice(0, 1000) },
    });
  }
  return parsed.value;
}

function connectionError(config: HttpTransportConfig, timeoutMs: number, err: unknown): ConnectionError {
  const endpoint = config.endpoint.href.replace(/\/$/, '');
  const reason =
    err instanceof Error && err.name === 'TimeoutError'
      ? `no response within ${timeoutMs} ms`
      : describeCause(err);
  return new ConnectionError(`Cannot reach ${endpoint}: ${reason}`, { details: { endpoint }, cause: err });
}

/** fetch reports "fetch failed" and hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function withoutHost(headers: Record<string, string>): Record<string, string> {
  const { host: _host, ...rest } = headers;
  return rest;
}
