/**
 * `sluice groups reset-offsets` and `groups describe` against the real group service on DynamoDB
 * Local (the CLI in-process, test/support/in-process-sluice.ts): a dry run by default, `--execute`
 * to apply, unknown groups refused unless `--allow-new`, and "-" for the lag of partitions with
 * nothing committed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroupNotFoundError } from '../../api/errors';
import { EXIT_CODES } from '../../cli/main';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';
import { sluice } from '../unit/cli/run-cli';

let server: InProcessSluice;
let n = 0;

beforeAll(async () => {
  server = await startInProcessSluice('cli-groups');
});

afterAll(async () => {
  await server?.close();
});

/** A topic of 2 partitions: 3 events on partition 0 (timestamps 1000, 2000, 3000), none on 1. */
async function freshTopic(): Promise<string> {
  n++;
  const topic = `orders-${String(n).padStart(2, "0")}`;
  await server.createTopic(topic, 2);
  await server.log.produce(topic, [1000, 2000, 3000].map((timestamp) => ({ partition: 0, value: timestamp, timestamp })));
  return topic;
}

const committed = async (group: string) =>
  (await server.groups.describe(group)).partitions.map((p) => [p.topic, p.partition, p.committedOffset] as const);

const resetOffsets = (group: string, topic: string, ...flags: string[]) =>
  sluice(['groups', 'reset-offsets', group, '--topic', topic, ...flags], server.fetch);

describe('Command: sluice groups reset-offsets', () => {
  it('refuses a group that does not exist, and does not create it', async () => {
    const topic = await freshTopic();
    for (const flags of [['--to-earliest'], ['--to-earliest', '--execute']]) {
      const { code, stdout, stderr } = await resetOffsets('billnig', topic, ...flags);
      expect(code).toBe(EXIT_CODES.apiError);
      expect(stdout).toBe('');
      expect(stderr).toBe('error: GroupNotFound: Group "billnig" does not exist; check the name, or give --allow-new to create it with these offsets\n');
    }
    await expect(server.groups.describe('billnig')).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(await server.groups.listGroups()).not.toContain('billnig');
  });

  it('prints the plan and changes nothing without --execute; applies it with --execute', async () => {
    const topic = await freshTopic();
    const group = `billing-${n}`;
    await server.groups.seek(group, { topic, partitions: [0], to: 'latest' });

    const dryRun = await resetOffsets(group, topic, '--to-earliest');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toBe(
      ['TOPIC      PARTITION  CURRENT-OFFSET  NEW-OFFSET', `${topic}          0               3           0`, `${topic}          1               -           0`, ''].join('\n'),
    );
    expect(dryRun.stderr).toBe(`Dry run: nothing changed. Add --execute to reset the offsets of group "${group}".\n`);
    expect(await committed(group)).toEqual([
      [topic, 0, 3],
      [topic, 1, null],
    ]);

    const executed = await resetOffsets(group, topic, '--to-earliest', '--execute');
    expect(executed.code).toBe(0);
    expect(executed.stdout).toBe(['TOPIC      PARTITION  OFFSET', `${topic}          0       0`, `${topic}          1       0`, ''].join('\n'));
    expect(await committed(group)).toEqual([
      [topic, 0, 0],
      [topic, 1, 0],
    ]);
  });

  it.each([[['--to-timestamp', '1500']], [['--to-timestamp', '9999']], [['--to-latest']], [['--to-offset', '2', '--partition', '0']]])(
    'plans %j as the service then applies it',
    async (flags) => {
    const topic = await freshTopic();
    const group = `audit-${n}`;
    await server.groups.seek(group, { topic, to: 'earliest' });
    const plan = JSON.parse((await resetOffsets(group, topic, ...flags, '--json')).stdout) as { dryRun: boolean; offsets: { offset: number }[] };
    const applied = JSON.parse((await resetOffsets(group, topic, ...flags, '--json', '--execute')).stdout) as { offsets: { offset: number }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.offsets.map((o) => o.offset)).toEqual(applied.offsets.map((o) => o.offset));
    },
  );

  it('refuses, as the service would, an offset outside the partition in a dry run too', async () => {
    const topic = await freshTopic();
    const group = `late-${n}`;
    await server.groups.seek(group, { topic, to: 'earliest' });
    const { code, stderr } = await resetOffsets(group, topic, '--to-offset', '4', '--partition', '0');
    expect(code).toBe(EXIT_CODES.apiError);
    expect(stderr).toBe(`error: OffsetOutOfRange: Offset 4 is outside ${topic}/0\n`);
  });

  it('--by-duration PT10M shows a dry run of the first offsets of the last 10 minutes; --execute applies it', async () => {
    n++;
    const topic = `rec-${String(n).padStart(5, '0')}`; // as wide as freshTopic's names
    await server.createTopic(topic, 2);
    const now = Date.now();
    const hour = 3_600_000;
    await server.log.produce(topic, [now - 3 * hour, now - 2 * hour, now - 60_000].map((timestamp) => ({ partition: 0, value: timestamp, timestamp })));
    const group = `rewind-${n}`;
    await server.groups.seek(group, { topic, to: 'latest' });

    const dryRun = await resetOffsets(group, topic, '--by-duration', 'PT10M');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toBe(
      ['TOPIC      PARTITION  CURRENT-OFFSET  NEW-OFFSET', `${topic}          0               3           2`, `${topic}          1               0           0`, ''].join('\n'),
    );
    expect(dryRun.stderr).toMatch(/^Dry run: nothing changed/);
    expect(await committed(group)).toEqual([
      [topic, 0, 3],
      [topic, 1, 0],
    ]);
    expect((await resetOffsets(group, topic, '--by-duration', 'PT10M', '--execute')).code).toBe(0);
    expect(await committed(group)).toEqual([
      [topic, 0, 2],
      [topic, 1, 0],
    ]);
    // The same in the other spellings: a compact duration, and the date-time itself.
    const datetime = new Date(now - 150 * 60_000).toISOString();
    const plans = await Promise.all(
      [['--by-duration', '10m'], ['--by-duration', '-10m'], ['--to-datetime', datetime]].map(async (flags) => {
        const { stdout } = await resetOffsets(group, topic, ...flags, '--json');
        return (JSON.parse(stdout) as { offsets: { offset: number }[] }).offsets.map((o) => o.offset);
      }),
    );
    expect(plans).toEqual([[2, 0], [2, 0], [1, 0]]);
  });

  it('--shift-by moves committed offsets, stops at the ends of the log, and needs a committed offset', async () => {
    const topic = await freshTopic();
    const group = `shift-${n}`;
    await server.groups.seek(group, { topic, partitions: [0], to: 'latest' });
    const refused = await resetOffsets(group, topic, '--shift-by', '-2');
    expect(refused.code).toBe(EXIT_CODES.usage);
    expect(refused.stderr).toMatch(new RegExp(`^error: --shift-by moves committed offsets, and nothing is committed on ${topic}/1`));

    const back = await resetOffsets(group, topic, '--shift-by', '-2', '--partition', '0', '--execute');
    expect(back.code).toBe(0);
    expect(await committed(group)).toEqual([
      [topic, 0, 1],
      [topic, 1, null],
    ]);
    const clamped = await resetOffsets(group, topic, '--shift-by=-10', '--partition', '0', '--json');
    expect((JSON.parse(clamped.stdout) as { offsets: { offset: number }[] }).offsets[0]!.offset).toBe(0);
    await resetOffsets(group, topic, '--shift-by', '+99', '--partition', '0', '--execute');
    expect(await committed(group)).toEqual([
      [topic, 0, 3],
      [topic, 1, null],
    ]);
  });

  it.each([
    [['--by-duration', 'ten minutes'], 'error: --by-duration must be a duration such as PT10M'],
    [['--to-datetime', 'yesterday'], 'error: --to-datetime must be an ISO 8601 date-time'],
    [['--to-earliest', '--by-duration', 'PT1M'], 'error: give exactly one of --to-earliest'],
  ])('%j is a usage error', async (flags, message) => {
    const topic = await freshTopic();
    const { code, stderr } = await resetOffsets('any', topic, ...flags);
    expect(code).toBe(EXIT_CODES.usage);
    expect(stderr.startsWith(message)).toBe(true);
  });

  it('creates a new group with --allow-new', async () => {
    const topic = await freshTopic();
    const group = `fresh-${n}`;
    const { code } = await resetOffsets(group, topic, '--to-latest', '--execute', '--allow-new');
    expect(code).toBe(0);
    expect(await committed(group)).toEqual([
      [topic, 0, 3],
      [topic, 1, 0],
    ]);
  });
});

describe('Command: sluice groups describe', () => {
  it('shows "-" as the lag of a partition with nothing committed, with a note', async () => {
    const topic = await freshTopic();
    const group = `lagging-${n}`;
    await server.groups.seek(group, { topic, partitions: [1], to: 'earliest' });
    const { code, stdout } = await sluice(['groups', 'describe', group], server.fetch);
    expect(code).toBe(0);
    expect(stdout).toContain(
      [
        'TOPIC      PARTITION  OWNER  COMMITTED  HIGH-WATERMARK  LAG',
        `${topic}          0  -              -               3    -`,
        `${topic}          1  -              0               0    0`,
        '"-": nothing committed yet. A member starts there at the earliest retained event',
        'or at new events only, as its offset reset says (consume --from-beginning).',
      ].join('\n'),
    );
  });
});

describe('Command: sluice groups delete', () => {
  it('deletes a group without members; refuses one with members (exit 1) and an unknown one', async () => {
    const topic = await freshTopic();
    const group = `gone-${n}`;
    await server.groups.seek(group, { topic, to: 'earliest' });
    const deleted = await sluice(['groups', 'delete', group], server.fetch);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Deleted group "${group}".\n`);
    await expect(server.groups.describe(group)).rejects.toBeInstanceOf(GroupNotFoundError);
    const again = await sluice(['groups', 'delete', group], server.fetch);
    expect(again.code).toBe(EXIT_CODES.apiError);
    expect(again.stderr).toMatch(/^error: GroupNotFound: /);

    const busy = `busy-${n}`;
    await server.groups.join(busy, { topics: [topic], clientId: 'billing-1' });
    const refused = await sluice(['groups', 'delete', busy], server.fetch);
    expect(refused.code).toBe(EXIT_CODES.apiError);
    expect(refused.stderr).toMatch(/^error: GroupNotEmpty: /);
    expect((await server.groups.describe(busy)).members).toHaveLength(1);
  });
});

describe('Command: sluice groups describe, members', () => {
  it('shows each member with its client ID and host', async () => {
    const topic = await freshTopic();
    const group = `members-${n}`;
    await server.groups.join(group, { topics: [topic], clientId: 'billing-7' });
    const { code, stdout } = await sluice(['groups', 'describe', group], server.fetch);
    expect(code).toBe(0);
    expect(stdout).toMatch(/MEMBER +CLIENT-ID +HOST +TOPICS/);
    expect(stdout).toMatch(new RegExp(`\\n\\S+ +billing-7 +\\S+ +${topic} `));
  });
});
