/**
 * The client's default retry budget rides through a restart of the local platform (6–10 s): a
 * server that refuses connections for 10 s of (simulated) time is reached in the end.
 */
import { describe, expect, it } from 'vitest';
import { RETRY_DEFAULTS, backoffDelay } from '../../../api/retry';
import { SluiceClient } from '../../../client';

describe('Default retry budget', () => {
  it('keeps trying for well over a 10 s restart, even when every jittered delay is short', () => {
    // The 10th percentile of full jitter, every time: an unlucky caller.
    const total = Array.from({ length: RETRY_DEFAULTS.retries }, (_, i) => backoffDelay(i, { random: () => 0.1 })).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(4_000);
    const median = Array.from({ length: RETRY_DEFAULTS.retries }, (_, i) => backoffDelay(i, { random: () => 0.5 })).reduce((a, b) => a + b, 0);
    expect(median).toBeGreaterThan(20_000);
  });

  it('reaches a server that refuses connections for the first 10 s (simulated clock, default options)', async () => {
    let now = 0;
    const attempts: number[] = [];
    const fetch: typeof globalThis.fetch = async () => {
      attempts.push(now);
      if (now < 10_000) throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      return new Response(JSON.stringify({ topics: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const client = new SluiceClient({
      endpoint: 'http://127.0.0.1:4545',
      fetch,
      // Only time is simulated; retries, delays and jitter are the defaults (median jitter).
      retry: { sleep: async (ms) => void (now += ms), random: () => 0.5 },
    });
    await expect(client.listTopics()).resolves.toEqual({ topics: [] });
    expect(attempts.at(-1)).toBeGreaterThanOrEqual(10_000);
    expect(attempts.length).toBeLessThanOrEqual(RETRY_DEFAULTS.retries + 1);
  });
});
