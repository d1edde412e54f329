/**
 * What an idle consumer-group member sends (issue 12, consumers that wait cheaply): after a long
 * poll comes back empty, quick records calls with no server wait, spaced by a backoff up to
 * `idlePollMs`, standing in for heartbeats; the first records answer with records brings long
 * polls back. And a heartbeat writes the member's own small item, not the membership item.
 * Real group service on DynamoDB Local, served in-process (test/support/in-process-sluice.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluiceClient } from '../../client';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';

let sluice: InProcessSluice;

beforeAll(async () => {
  sluice = await startInProcessSluice('consumer-idle');
});

afterAll(async () => {
  await sluice?.close();
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('An idle consumer', () => {
  it('polls quickly with backoff instead of holding long polls, sends no heartbeats meanwhile, and wakes on new records', async () => {
    await sluice.createTopic('idle-orders', 2);
    /** The records calls' server waits, in order. */
    const waits: number[] = [];
    const heartbeats: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.pathname.endsWith('/records')) waits.push(Number(url.searchParams.get('waitMs') ?? 0));
      if (url.pathname.endsWith('/heartbeat')) heartbeats.push(url.pathname);
      return sluice.fetch(input, init);
    };
    const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', fetch });
    // Heartbeats every 1000 ms; idle polls at most every 600 ms.
    const consumer = client.consumer({ groupId: 'idle-billing', sessionTimeoutMs: 20_000, heartbeatIntervalMs: 1000, waitMs: 5000, idlePollMs: 600, offsetReset: 'earliest' });
    consumer.subscribe({ topic: 'idle-orders' });
    const seen: string[] = [];
    const waiting = sluice.whenWaiting();
    const running = consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });

    await waiting; // the first call is a long poll
    sluice.advance(5000); // ...that ends empty
    // Then quick calls (no server wait) at 250, 500, 600, 600... ms: over 3 s, several; no heartbeat,
    // though 3 heartbeat intervals pass: the records calls keep the session.
    await until(() => waits.length >= 6).catch((err: unknown) => {
      throw new Error(`${String(err)}: waits ${JSON.stringify(waits)}, trace ${JSON.stringify(sluice.trace)}`);
    });
    expect(waits[0]).toBe(5000);
    expect(waits.slice(1)).toEqual(waits.slice(1).map(() => 0));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(heartbeats).toEqual([]);
    expect(sluice.trace.filter((t) => t.startsWith('heartbeat'))).toEqual([]);

    await sluice.append('idle-orders', 1, 'hello');
    await until(() => seen.length === 1, 3000); // within about idlePollMs
    expect(seen).toEqual(['hello']);
    // Records came: the next call is a long poll again.
    await until(() => waits.at(-1) === 5000);

    await consumer.disconnect();
    await running;
  });

  it('records a heartbeat in the member’s own item: the membership item is not rewritten', async () => {
    await sluice.createTopic('hb-orders', 4);
    const { memberId } = await sluice.groups.join('hb-group', { topics: ['hb-orders'], sessionTimeoutMs: 10_000 });
    const before = await sluice.groupStore.getGroup('hb-group');
    sluice.advance(7000);
    await sluice.groups.heartbeat('hb-group', memberId);
    const after = await sluice.groupStore.getGroup('hb-group');
    // Same version (no membership write), the member's time moved (read from its heartbeat item).
    expect(after!.version).toBe(before!.version);
    expect(after!.members[memberId]!.lastSeenMs).toBe(before!.members[memberId]!.lastSeenMs + 7000);
    // 7 s later again (14 s after joining, past the 10 s session counted from the join): still a member.
    sluice.advance(7000);
    const beat = await sluice.groups.heartbeat('hb-group', memberId);
    expect(beat.assignments.map((a) => a.partition)).toEqual([0, 1, 2, 3]);
    // Silent past its session: removed, and its heartbeat item with it.
    sluice.advance(10_001);
    await expect(sluice.groups.heartbeat('hb-group', memberId)).rejects.toMatchObject({ code: 'FencedMember' });
    expect((await sluice.groupStore.getGroup('hb-group'))!.members).toEqual({});
  });
});
