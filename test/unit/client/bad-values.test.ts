/**
 * Issue 8: a value nested too deep is the caller's mistake, answered with a typed error before
 * anything is sent, never a raw RangeError (the Producer checks every message as the service would;
 * the client refuses a body it cannot serialize).
 */
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS, InvalidRequestError, SluiceClient } from '../../../client';

const deep = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};

function client() {
  const calls: string[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    calls.push(`${init?.method} ${String(url)}`);
    if (String(url).endsWith('/topics/orders')) {
      return new Response(JSON.stringify({ name: 'orders', topicId: 't', partitions: 1, retentionMs: -1, dedupeWindowMs: 0, createdAt: '', partitionOffsets: [] }), { status: 200 });
    }
    return new Response(JSON.stringify({ results: [] }), { status: 200 });
  }) as typeof globalThis.fetch;
  return { calls, sluice: new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch, retry: { retries: 0, sleep: async () => {} } }) };
}

describe('values nested too deep', () => {
  it.each([EVENT_LIMITS.maxValueDepth + 1, 2_000, 200_000])('Producer.send rejects %i levels with InvalidRequestError, sending nothing', async (levels) => {
    const { calls, sluice } = client();
    const producer = sluice.producer({ lingerMs: 0 });
    const err = await producer.send({ topic: 'orders', messages: [{ value: deep(levels) }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toContain(`${EVENT_LIMITS.maxValueDepth} levels`);
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual([]);
    await producer.disconnect();
  });

  it('SluiceClient.produce refuses a body too deep to serialize with InvalidRequestError, sending nothing', async () => {
    const { calls, sluice } = client();
    const err = await sluice.produce('orders', [{ value: deep(200_000) }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).not.toBeInstanceOf(RangeError);
    expect(calls).toEqual([]);
  });
});
