import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SluiceClient } from '../../../client';
import { routedFetch } from './fake-fetch';

const internalError = { status: 500, body: { error: { code: 'InternalError', message: 'boom' } } } as const;

describe('A request given an abort signal', () => {
  it("ends at once when aborted during a retry's backoff, and is not sent again", async () => {
    const controller = new AbortController();
    const { fetch, requests } = routedFetch(() => internalError);
    // The client's own sleep (a timer), a minute long: only the abort can end it early.
    const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch, retry: { initialDelayMs: 60_000, random: () => 1 } });
    const fetching = client.fetch('orders', 0, { signal: controller.signal });
    while (requests.length === 0) await delay(1);
    controller.abort(new Error('Ctrl-C'));
    const outcome = await Promise.race([fetching.then(() => 'answered', (err: Error) => err.message), delay(2000).then(() => 'still waiting')]);
    expect(outcome).toBe('Ctrl-C');
    expect(requests).toHaveLength(1);
  });

  it('ends at once when aborted while the answer is awaited (a long poll)', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const { fetch } = routedFetch((_request, _index, signal) => {
      seen = signal;
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    });
    const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch });
    const fetching = client.fetch('orders', 0, { waitMs: 20_000, signal: controller.signal });
    while (!seen) await delay(1);
    controller.abort(new Error('Ctrl-C'));
    const outcome = await Promise.race([fetching.then(() => 'answered', (err: Error) => err.message), delay(2000).then(() => 'still waiting')]);
    expect(outcome).toBe('Ctrl-C');
    expect(seen.aborted).toBe(true);
  });
});
