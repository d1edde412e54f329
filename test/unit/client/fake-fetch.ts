/** A scripted `fetch` for unit tests: answers in order and records every request it gets. */

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** `body`: an object is sent as JSON, a string as is, undefined as an empty body. */
export type Reply = { readonly status: number; readonly body?: unknown } | Error;

export function fakeFetch(...replies: Reply[]) {
  return routedFetch((_request, index) => {
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`fakeFetch: no reply scripted for request ${index + 1}`);
    return reply;
  });
}

/**
 * A `fetch` whose replies come from `answer`, which sees each request (and its 0-based index, and
 * its abort signal). A reply given as a promise keeps the request in flight until it settles.
 */
export function routedFetch(
  answer: (request: RecordedRequest, index: number, signal: AbortSignal | undefined) => Reply | Promise<Reply>,
) {
  const requests: RecordedRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request: RecordedRequest = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: init?.body === undefined || init.body === null ? undefined : String(init.body),
    };
    requests.push(request);
    const reply = await answer(request, requests.length - 1, init?.signal ?? undefined);
    if (reply instanceof Error) throw reply;
    const text = reply.body === undefined ? null : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(text, { status: reply.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, requests };
}

/** What Node's fetch throws when nothing listens on the port. */
export function connectionRefused(): Error {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4545'), { code: 'ECONNREFUSED' });
  return new TypeError('fetch failed', { cause });
}

/** Retry options that never wait: records the delays instead. */
export function noWait() {
  const delays: number[] = [];
  return { delays, retry: { sleep: async (ms: number) => void delays.push(ms), random: () => 0.5 } };
}

export const TOPIC = {
  name: 'orders',
  topicId: '0b7f6c1e-4a0e-4c5e-9d5a-1f2e3d4c5b6a',
  partitions: 3,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  dedupeWindowMs: 24 * 60 * 60 * 1000,
  createdAt: '2025-11-25T12:00:00.000Z',
} as const;

export const TOPIC_DESCRIPTION = {
  ...TOPIC,
  partitionOffsets: [
    { partition: 0, logStartOffset: 0, highWatermark: 12 },
    { partition: 1, logStartOffset: 5, highWatermark: 1040 },
    { partition: 2, logStartOffset: 0, highWatermark: 0 },
  ],
} as const;
