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
