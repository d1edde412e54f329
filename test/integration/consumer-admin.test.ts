/**
 * Topic growth and group administration through the client, against the local platform (the
 * template twin: real handlers and their caches, DynamoDB Local): running consumers get a grown
 * topic's new partitions and read what is produced to them, a Producer made before the growth
 * moves keys to the new count, members show their client ID and host, and a group is deleted once
 * its consumers have stopped (refused while they run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupNotEmptyError, GroupNotFoundError, PartitionNotFoundError } from '../../api/errors';
import type { FetchedEvent } from '../../api/events';
import { partitionForKey } from '../../api/partitioner';
import { SluiceClient, type Consumer, type ConsumerOptions, type TopicPartition } from '../../client';
import { defaultClientId } from '../../client/consumer-options';
import { LAYOUT_CACHE_MS } from '../../lambda/core/groups/group-service';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
let sluice: SluiceClient;
const started: Consumer[] = [];

const FAST: Omit<ConsumerOptions, 'groupId'> = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 200,
  waitMs: 200,
  idlePollMs: 200,
  offsetReset: 'earliest',
  retry: { initialDelayMs: 10, maxDelayMs: 50 },
};

const until = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false) =>
  waitFor(async () => probe(), { timeoutMs: 30_000, intervalMs: 50, what });

function start(groupId: string, topic: string, options: Partial<ConsumerOptions> = {}) {
  const consumer = sluice.consumer({ groupId, ...FAST, ...options });
  started.push(consumer);
  consumer.subscribe({ topics: [topic] });
  const state = { consumer, seen: [] as FetchedEvent[], assigned: [] as readonly TopicPartition[], done: Promise.resolve() };
  state.done = consumer.run({
    eachMessage: async ({ message }) => void state.seen.push(message),
    onAssignment: (assignments) => (state.assigned = assignments),
  });
  return state;
}

beforeAll(async () => {
  platform = await startTestPlatform('consumer-admin');
  sluice = new SluiceClient({ endpoint: platform.endpoint });
});

afterAll(async () => {
  await Promise.all(started.map((c) => c.disconnect().catch(() => undefined)));
  await platform?.stop();
});

describe('growing a topic under running consumers and a producer', () => {
  // Generous: the reassignment may wait out LAYOUT_CACHE_MS, and the machine is shared with other test runs.
  it('members get the new partitions and read them; the producer places keys by the new count', { timeout: LAYOUT_CACHE_MS + 90_000 }, async () => {
    await sluice.createTopic({ name: 'grow', partitions: 2 });
    const a = start('grow-group', 'grow', { clientId: 'worker-a' });
    const b = start('grow-group', 'grow');
    await until('a 1/1 split', () => a.assigned.length === 1 && b.assigned.length === 1);

    // Members show their client ID (b's the default) and the host they called from.
    const before = await sluice.describeGroup('grow-group');
    expect(before.members.map((m) => m.clientId).sort()).toEqual([defaultClientId(), 'worker-a'].sort());
    for (const m of before.members) expect(m.host).toMatch(/^(127\.0\.0\.1|::1)$/);

    const producer = sluice.producer({ metadataMaxAgeMs: 0, lingerMs: 0 });
    await producer.send({ topic: 'grow', messages: [{ key: 'warm-up', value: 0 }] });
    // With the default metadata age (5 minutes), only a message naming a new partition makes it ask.
    const early = sluice.producer({ lingerMs: 0 });
    await early.send({ topic: 'grow', messages: [{ key: 'warm-up', value: 0 }] });

    expect((await sluice.updateTopic('grow', { partitions: 4 })).partitions).toBe(4);

    // Both members end up with two partitions each, the four of them, under one new generation.
    // Within LAYOUT_CACHE_MS of the groups function's last read of the count, plus a poll.
    await waitFor(async () => a.assigned.length === 2 && b.assigned.length === 2, {
      timeoutMs: LAYOUT_CACHE_MS + 30_000,
      intervalMs: 50,
      what: 'a 2/2 split of 4 partitions',
    });
    expect([...a.assigned, ...b.assigned].map((tp) => tp.partition).sort()).toEqual([0, 1, 2, 3]);

    // A key that moves to a new partition: the producer (made before the growth) follows within its metadata age.
    const key = Array.from({ length: 100 }, (_, i) => `key-${i}`).find((k) => partitionForKey(k, 4) >= 2 && partitionForKey(k, 2) !== partitionForKey(k, 4))!;
    const moved = await until('the producer to place the key by 4 partitions', async () => {
      const [result] = await producer.send({ topic: 'grow', messages: [{ key, value: 'moved' }] });
      return result!.partition === partitionForKey(key, 4) ? result : undefined;
    });
    await producer.disconnect();
    const explicit = await until('a send naming new partition 3 through the producer made before the growth', async () => {
      try {
        return (await early.send({ topic: 'grow', messages: [{ partition: 3, value: 'explicit' }] }))[0];
      } catch (err) {
        // The service's own config cache may briefly predate the growth.
        if (err instanceof PartitionNotFoundError) return undefined;
        throw err;
      }
    });
    expect(explicit.partition).toBe(3);
    await early.disconnect();

    // Produce to each new partition; the service's own config cache may briefly predate the growth.
    for (const partition of [2, 3]) {
      await until(`a produce to partition ${partition}`, async () => {
        try {
          return await sluice.produce('grow', [{ partition, value: `p${partition}` }]);
        } catch (err) {
          if (err instanceof PartitionNotFoundError) return undefined;
          throw err;
        }
      });
    }
    await until('the members to read the new partitions', () => {
      const seen = [...a.seen, ...b.seen].map((e) => [e.partition, e.value]);
      return [2, 3].every((p) => seen.some(([q, v]) => q === p && v === `p${p}`)) && seen.some(([q, v]) => q === moved.partition && v === 'moved');
    });

    // The group cannot be deleted while its members run; once they stop, it can.
    await expect(sluice.deleteGroup('grow-group')).rejects.toBeInstanceOf(GroupNotEmptyError);
    await Promise.all([a.consumer.disconnect(), b.consumer.disconnect()]);
    await Promise.all([a.done, b.done]);
    await sluice.deleteGroup('grow-group');
    await expect(sluice.describeGroup('grow-group')).rejects.toBeInstanceOf(GroupNotFoundError);
    expect((await sluice.listGroups()).groups).not.toContain('grow-group');
    await expect(sluice.deleteGroup('grow-group')).rejects.toBeInstanceOf(GroupNotFoundError);
  });

  it('refuses an invalid clientId before joining', () => {
    expect(() => sluice.consumer({ groupId: 'g', clientId: 'has space' })).toThrow(/clientId must be 1-128 printable ASCII characters without spaces/);
    expect(() => sluice.consumer({ groupId: 'g', clientId: 'x'.repeat(129) })).toThrow(TypeError);
  });
});
