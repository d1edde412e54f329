/**
 * Issue 8, correctness: over HTTP against the local platform, an answer never claims a write that
 * did not happen, one request naming the same thing twice is merged or refused (never a 500), and
 * the client's mistakes are 400s, refused before any work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LIMITS } from '../../api/events';
import { REQUEST_LIMITS } from '../../api/groups';
import type { Platform } from '../../local/platform';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const deep = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};

async function fetchAll(topic: string, partition: number) {
  return (await call('GET', `/topics/${topic}/partitions/${partition}/events?offset=0&limit=1000`)).body.events as {
    offset: number;
    messageId: string;
    value: unknown;
  }[];
}

async function member(group: string, topic: string) {
  const joined = await call('POST', `/groups/${group}/members`, { topics: [topic], offsetReset: 'earliest' });
  expect(joined.status).toBe(200);
  return joined.body as { memberId: string; generation: number };
}

async function committed(group: string, topic: string) {
  const res = await call('GET', `/groups/${group}`);
  return (res.body.partitions as { topic: string; partition: number; committedOffset: number | null }[]).filter((p) => p.topic === topic);
}

/** Every result of a 200 names an event that is really stored there, with its message ID. */
async function expectEveryResultStored(topic: string, results: { partition: number; offset: number; messageId: string }[]) {
  for (const r of results) {
    const stored = await fetchAll(topic, r.partition);
    expect(stored.find((e) => e.offset === r.offset)?.messageId, `${topic}/${r.partition}@${r.offset}`).toBe(r.messageId);
  }
}

beforeAll(async () => {
  platform = await startTestPlatform('hardening');
  for (const [name, partitions] of [['in', 2], ['out', 3], ['out2', 2]] as const) {
    expect((await call('POST', '/topics', { name, partitions })).status).toBe(201);
  }
  expect((await call('POST', '/topics/in/events', { events: [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }] })).status).toBe(200);
});

afterAll(async () => {
  await platform?.stop();
});

describe('POST /transactions naming a topic twice', () => {
  it('never acknowledges an output it did not write: one message ID on two partitions is appended once', async () => {
    const m = await member('tx-dup-id', 'in');
    const res = await call('POST', '/transactions', {
      produce: [
        { topic: 'out', events: [{ partition: 0, value: 'first', messageId: 'same-id' }] },
        { topic: 'out', events: [{ partition: 1, value: 'second', messageId: 'same-id' }] },
      ],
      commit: { group: 'tx-dup-id', memberId: m.memberId, generation: m.generation, offsets: [{ topic: 'in', partition: 0, offset: 1 }, { topic: 'in', partition: 1, offset: 1 }] },
    });
    expect(res.status).toBe(200);
    const [a, b] = res.body.produced.map((p: { results: { partition: number; offset: number; messageId: string; duplicate: boolean }[] }) => p.results[0]);
    // The first occurrence is written; the second is a duplicate *of that write*, and says where it is.
    expect(a).toMatchObject({ partition: 0, messageId: 'same-id', duplicate: false });
    expect(b).toEqual({ ...a, duplicate: true });
    await expectEveryResultStored('out', [a, b]);
    expect((await fetchAll('out', 0)).map((e) => e.value)).toEqual(['first']);
    expect(await fetchAll('out', 1)).toEqual([]);
    expect((await committed('tx-dup-id', 'in')).map((p) => p.committedOffset)).toEqual([1, 1]);
  });

  it('appends the events of two entries for the same topic and partition, in request order, gapless', async () => {
    const res = await call('POST', '/transactions', {
      produce: [
        { topic: 'out2', events: [{ partition: 0, value: 'x', messageId: 'tp-1' }] },
        { topic: 'out2', events: [{ partition: 0, value: 'y', messageId: 'tp-2' }, { partition: 1, value: 'z', messageId: 'tp-3' }] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.produced.map((p: { topic: string; results: { offset: number }[] }) => [p.topic, p.results.map((r) => r.offset)])).toEqual([
      ['out2', [0]],
      ['out2', [1, 0]],
    ]);
    expect((await fetchAll('out2', 0)).map((e) => e.value)).toEqual(['x', 'y']);
    expect((await fetchAll('out2', 1)).map((e) => e.value)).toEqual(['z']);
  });
});

describe('the same partition twice is a 400 InvalidRequest naming it, and commits nothing', () => {
  it('in an offset commit', async () => {
    const m = await member('dup-commit', 'in');
    const res = await call('POST', '/groups/dup-commit/offsets', {
      memberId: m.memberId,
      generation: m.generation,
      offsets: [{ topic: 'in', partition: 0, offset: 1 }, { topic: 'in', partition: 0, offset: 0 }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'InvalidRequest' });
    expect(res.body.error.message).toContain('in/0');
    expect((await committed('dup-commit', 'in')).map((p) => p.committedOffset)).toEqual([null, null]);
  });

  it("in a transaction's commit", async () => {
    const m = await member('dup-tx-commit', 'in');
    const res = await call('POST', '/transactions', {
      produce: [{ topic: 'out', events: [{ value: 1, messageId: 'dup-tx-commit-1' }] }],
      commit: { group: 'dup-tx-commit', memberId: m.memberId, generation: m.generation, offsets: [{ topic: 'in', partition: 1, offset: 1 }, { topic: 'in', partition: 1, offset: 1 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(res.body.error.message).toContain('in/1');
  });

  it('in a seek', async () => {
    const res = await call('POST', '/groups/dup-seek/seek', { topic: 'in', partitions: [1, 0, 1], to: 'earliest' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(res.body.error.message).toContain('partition 1');
    expect((await call('GET', '/groups/dup-seek')).status).toBe(404);
  });
});

describe('unbounded requests are refused before any work', () => {
  it(`refuses a transaction of more than ${REQUEST_LIMITS.maxTransactionTopics} produce entries`, async () => {
    const produce = Array.from({ length: 5000 }, (_, i) => ({ topic: 'out', events: [{ value: i }] }));
    const res = await call('POST', '/transactions', { produce });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });

  it('refuses a seek naming a partition 100,000 times', async () => {
    const res = await call('POST', '/groups/huge-seek/seek', { topic: 'in', partitions: Array.from({ length: 100_000 }, () => 0), to: 'earliest' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });

  it(`refuses more than ${EVENT_LIMITS.maxEventsPerRequest} events across a transaction's entries with 413 RequestTooLarge`, async () => {
    const produce = [0, 1].map((p) => ({ topic: 'out', events: Array.from({ length: 300 }, (_, i) => ({ partition: p, value: i })) }));
    const res = await call('POST', '/transactions', { produce });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'RequestTooLarge', limit: 'maxEventsPerRequest' });
  });
});

describe("the client's mistakes are 400s, not retriable 500s", () => {
  it.each([
    ['produce', '/topics/out/events', { events: [{ value: deep(2000) }] }],
    ['a transaction', '/transactions', { produce: [{ topic: 'out', events: [{ value: deep(2000) }] }] }],
    ['produce, just over the limit', '/topics/out/events', { events: [{ value: deep(EVENT_LIMITS.maxValueDepth + 1) }] }],
  ])('refuses a value nested too deep in %s', async (_, path, body) => {
    const res = await call('POST', path, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(res.body.error.message).toContain(`${EVENT_LIMITS.maxValueDepth}`);
  });

  it(`accepts a value nested exactly ${EVENT_LIMITS.maxValueDepth} levels deep and returns it unchanged`, async () => {
    const value = deep(EVENT_LIMITS.maxValueDepth);
    const res = await call('POST', '/topics/out/events', { events: [{ partition: 2, value }] });
    expect(res.status).toBe(200);
    const stored = await fetchAll('out', 2);
    expect(stored.at(-1)!.value).toEqual(value);
  });

  it.each([
    ['a 400-digit offset', '/topics/out/partitions/0/events?offset=' + '9'.repeat(400)],
    ['a 400-digit timestamp', '/topics/out/partitions/0/events?timestamp=' + '9'.repeat(400)],
    ['a 400-digit partition', '/topics/out/partitions/' + '9'.repeat(400) + '/events'],
    ['an offset past 2^53', '/topics/out/partitions/0/events?offset=9007199254740993'],
  ])('answers %s with 400, not 416 with "offset": null', async (_, path) => {
    const res = await call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });

  it.each([['null'], ['{}'], ['{"produce":[]}']])('answers a %s body to /transactions with 400', async (body) => {
    const res = await call('POST', '/transactions', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });
});
