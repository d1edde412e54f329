/**
 * Crash tests for the three delivery guarantees, against DynamoDB Local. Consumers in a group read
 * a topic of 2,000 events; at random points one of them "crashes" (stops calling, without leaving),
 * its session times out, the group rebalances and a fresh consumer joins. What was processed is
 * counted against ground truth:
 *   at-most-once  (commit, then process):          may lose, never repeats
 *   at-least-once (process, then commit):          never loses, may repeat
 *   exactly-once  (process + commit in one transaction, outputs to another topic): neither
 * The session clock is driven by the test (no sleeping for timeouts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedMemberError, RebalanceInProgressError } from '../../api/errors';
import type { FetchedEvent } from '../../api/events';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { TransactionService } from '../../lambda/core/transactions/transaction-service';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const EVENTS = 2000;
const PARTITIONS = 4;
const CONSUMERS = 3;
const SESSION_TIMEOUT_MS = 2000;
/** Each consumer call advances the group clock this much, so a silent member expires after ~7 rounds. */
const TICK_MS = 100;

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let log: LogService;

/** Deterministic randomness, so a failure can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function createTopic(name: string, partitions: number): Promise<TopicConfig> {
  const config: TopicConfig = {
    name,
    topicId: `${name}-${Date.now()}`,
    partitions,
    retentionMs: -1,
    dedupeWindowMs: 86_400_000,
    createdAt: new Date().toISOString(),
  };
  await topics.createTopic(config);
  return config;
}

type Guarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';

interface Outcome {
  processed: number[];
  crashes: number;
  generations: number;
}

/**
 * Runs consumers until the group has committed every input offset (or, for at-most-once, until
 * nothing is left to read), crashing one at a random point now and then.
 */
async function runGroup(guarantee: Guarantee, input: string, output: string, seed: number): Promise<Outcome> {
  const random = mulberry32(seed);
  let clock = Date.UTC(2026, 0, 1);
  const now = () => clock;
  const groupStore = new DynamoDbGroupStore(clients.doc, resources.tables.groups);
  const groups = new GroupService({ groups: groupStore, topics, log, now, sleep: async () => {} });
  const transactions = new TransactionService(log, groups, groupStore);
  const group = `${guarantee}-${seed}`;
  const processed: number[] = [];
  let crashes = 0;

  const join = async () => (await groups.join(group, { topics: [input], sessionTimeoutMs: SESSION_TIMEOUT_MS, offsetReset: 'earliest' })).memberId;
  let members = await Promise.all(Array.from({ length: CONSUMERS }, join));
  const dead = new Set<string>();

  const crash = (member: string) => {
    crashes++;
    dead.add(member);
  };

  for (let round = 0; round < 2000; round++) {
    let progress = false;
    for (const member of members) {
      if (dead.has(member)) continue;
      clock += TICK_MS;
      let batch: { generation: number; records: readonly FetchedEvent[] };
      try {
        batch = await groups.records(group, member, { maxRecords: 40, commit: guarantee === 'at-most-once' });
      } catch (err) {
        if (err instanceof FencedMemberError || err instanceof RebalanceInProgressError) continue;
        throw err;
      }
      if (batch.records.length === 0) continue;
      progress = true;
      const roll = random();

      if (guarantee === 'at-most-once') {
        // Committed already (by the records call); crash before processing: those events are lost.
        if (roll < 0.15) {
          crash(member);
          continue;
        }
        processed.push(...batch.records.map((r) => r.value as number));
      } else if (guarantee === 'at-least-once') {
        processed.push(...batch.records.map((r) => r.value as number));
        // Processed, crash before committing: the next owner processes them again.
        if (roll < 0.15) {
          crash(member);
          continue;
        }
        await commitOwned(groups, group, member, batch.generation, batch.records);
      } else {
        // Crash before the transaction: nothing was written, the next owner redoes it.
        if (roll < 0.1) {
          crash(member);
          continue;
        }
        try {
          await transactions.run({
            produce: [
              {
                topic: output,
                events: batch.records.map((r) => ({ key: r.key, value: r.value, messageId: `${r.topic}-${r.partition}-${r.offset}` })),
              },
            ],
            commit: { group, memberId: member, generation: batch.generation, offsets: nextOffsets(batch.records) },
          });
        } catch (err) {
          if (!(err instanceof FencedMemberError || err instanceof RebalanceInProgressError)) throw err;
          continue; // a zombie's transaction changed nothing
        }
        // Crash after the transaction: everything it did is committed; nothing to undo or redo.
        if (roll > 0.9) crash(member);
      }
    }
    // Replace crashed consumers: the group rebalances again when they join.
    if (dead.size > 0 && random() < 0.5) {
      members = [...members.filter((m) => !dead.has(m)), await join()];
      dead.clear();
    }
    if (members.every((m) => dead.has(m))) {
      members = [await join()];
      dead.clear();
    }
    if (!progress && (await fullyCommitted(groups, group, input, guarantee))) break;
  }

  const generations = (await groups.describe(group)).generation;
  if (guarantee === 'exactly-once') {
    processed.length = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = 0;
      for (;;) {
        const page = await log.fetch(output, p, { offset, limit: 1000 });
        processed.push(...page.events.map((e) => e.value as number));
        if (page.nextOffset >= page.highWatermark) break;
        offset = page.nextOffset;
      }
    }
  }
  return { processed, crashes, generations };
}

function nextOffsets(records: readonly FetchedEvent[]) {
  const next = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const r of records) next.set(`${r.topic}#${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  return [...next.values()];
}

/** Commits what it processed; after a rebalance, only for partitions it still owns. */
async function commitOwned(groups: GroupService, group: string, member: string, generation: number, records: readonly FetchedEvent[]) {
  try {
    await groups.commit(group, { memberId: member, generation, offsets: nextOffsets(records) });
  } catch (err) {
    if (err instanceof FencedMemberError) return;
    if (!(err instanceof RebalanceInProgressError)) throw err;
    const beat = await groups.heartbeat(group, member).catch(() => undefined);
    if (!beat) return;
    const owned = nextOffsets(records).filter((o) => beat.assignments.some((a) => a.topic === o.topic && a.partition === o.partition));
    if (owned.length > 0) await groups.commit(group, { memberId: member, generation: beat.generation, offsets: owned }).catch(() => undefined);
  }
}

async function fullyCommitted(groups: GroupService, group: string, input: string, guarantee: Guarantee): Promise<boolean> {
  const described = await groups.describe(group);
  const partitions = described.partitions.filter((p) => p.topic === input);
  if (guarantee === 'at-most-once') return partitions.every((p) => p.lag === 0);
  return partitions.length === PARTITIONS && partitions.every((p) => p.committedOffset === p.highWatermark);
}

function count(processed: number[]) {
  const seen = new Map<number, number>();
  for (const v of processed) seen.set(v, (seen.get(v) ?? 0) + 1);
  let lost = 0;
  for (let v = 0; v < EVENTS; v++) if (!seen.has(v)) lost++;
  const repeated = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
  return { lost, repeated, distinct: seen.size };
}

beforeAll(async () => {
  resources = await provisionIsolated('guarantees');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  log = new LogService({
    topics,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
  });
  await createTopic('input', PARTITIONS);
  for (let i = 0; i < EVENTS; i += 40) {
    await log.produce('input', Array.from({ length: 40 }, (_, j) => ({ key: `k${(i + j) % 97}`, value: i + j })));
  }
}, 120_000);

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('delivery guarantees under consumer crashes and rebalances', () => {
  it('at-most-once loses events but never repeats one', async () => {
    const outcome = await runGroup('at-most-once', 'input', '', 11);
    const c = count(outcome.processed);
    console.info(`at-most-once: ${EVENTS} events, ${outcome.crashes} crashes, ${outcome.generations} generations → lost ${c.lost}, repeated ${c.repeated}`);
    expect(c.repeated).toBe(0);
    expect(outcome.crashes).toBeGreaterThan(3);
    expect(c.lost).toBeGreaterThan(0);
    expect(c.distinct + c.lost).toBe(EVENTS);
  }, 120_000);

  it('at-least-once repeats events but never loses one', async () => {
    const outcome = await runGroup('at-least-once', 'input', '', 22);
    const c = count(outcome.processed);
    console.info(`at-least-once: ${EVENTS} events, ${outcome.crashes} crashes, ${outcome.generations} generations → lost ${c.lost}, repeated ${c.repeated}`);
    expect(c.lost).toBe(0);
    expect(outcome.crashes).toBeGreaterThan(3);
    expect(c.repeated).toBeGreaterThan(0);
  }, 120_000);

  it('exactly-once (read-process-write) neither loses nor repeats', async () => {
    await createTopic('output', PARTITIONS);
    const outcome = await runGroup('exactly-once', 'input', 'output', 33);
    const c = count(outcome.processed);
    console.info(`exactly-once: ${EVENTS} events, ${outcome.crashes} crashes, ${outcome.generations} generations → lost ${c.lost}, repeated ${c.repeated}`);
    expect(outcome.crashes).toBeGreaterThan(3);
    expect(c.lost).toBe(0);
    expect(c.repeated).toBe(0);
  }, 120_000);
});
