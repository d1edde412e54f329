import { describe, expect, it } from 'vitest';
import type { GroupDescription } from '../../../api/groups';
import { EXIT_CODES, isInterruptible, type CliIo } from '../../../cli/main';
import { fakeFetch, TOPIC_DESCRIPTION } from '../client/fake-fetch';
import { sluice } from './run-cli';

describe('Command: sluice consume', () => {
  // Runs against the real group service: test/integration/cli-consume.test.ts.
  it.each([
    [['consume', 'orders', '--guarantee', 'at-most-once'], 'error: --guarantee needs --group'],
    [['consume', 'orders', '--group', 'g', '--from-time', '-5m'], 'error: --from and --from-time read without a group'],
    [['consume', 'orders', '--from', '-5', '--from-beginning'], 'error: give one of --from-beginning, --from and --from-time'],
    [['consume', 'orders', '--from-time', 'yesterday'], 'error: --from-time must be epoch ms, an ISO 8601 date-time'],
    [['consume', 'orders', '-f', '%p %x'], 'error: --format: unknown format sequence "%x"'],
    [['consume', 'orders', '--group', 'g', '--client-id', 'has space'], 'error: --client-id:'],
    [['consume', '--group', 'g'], 'error: missing <topic>'],
    [['consume', 'orders', '--group', 'no spaces'], 'error: --group must be'],
    [['consume', 'orders', '--group', 'g', '--guarantee', 'exactly-once'], 'error: --guarantee must be "at-least-once" or "at-most-once"'],
    [['consume', 'orders', '--group', 'g', '--max-messages', '0'], 'error: --max-messages must be an integer of at least 1'],
    [['consume', 'orders', '--group', 'g', '--session-timeout-ms', '999'], 'error: --session-timeout-ms must be an integer of at least 1000'],
    [['consume', 'orders', '--group', 'g', '--session-timeout-ms', '1800001'], 'error: --session-timeout-ms must be at most 1800000'],
  ])('%j is a usage error (exit 2, nothing sent)', async (argv, message) => {
    const { fetch, requests } = fakeFetch();
    const result = await sluice(argv, fetch);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(requests).toHaveLength(0);
  });
});

const DESCRIPTION: GroupDescription = {
  group: 'billing',
  generation: 7,
  members: [
    {
      memberId: 'm-1',
      clientId: null,
      host: null,
      topics: ['orders'],
      sessionTimeoutMs: 45_000,
      lastHeartbeat: '2026-01-01T00:00:00.000Z',
      assignments: [
        { topic: 'orders', partition: 0 },
        { topic: 'orders', partition: 1 },
      ],
    },
  ],
  partitions: [
    { topic: 'orders', partition: 0, owner: 'm-1', committedOffset: 10, highWatermark: 12, lag: 2 },
    { topic: 'orders', partition: 1, owner: 'm-1', committedOffset: null, highWatermark: 5, lag: 5 },
    { topic: 'payments', partition: 0, owner: null, committedOffset: 3, highWatermark: 3, lag: 0 },
  ],
};

describe('Command: sluice groups', () => {
  it('list: a table of names, "No groups." when there are none, the API response with --json', async () => {
    const some = await sluice(['groups', 'list'], fakeFetch({ status: 200, body: { groups: ['audit', 'billing'] } }).fetch);
    const none = await sluice(['groups', 'list'], fakeFetch({ status: 200, body: { groups: [] } }).fetch);
    const json = await sluice(['groups', 'list', '--json'], fakeFetch({ status: 200, body: { groups: ['audit'] } }).fetch);
    expect(some.stdout).toBe('GROUP\naudit\nbilling\n');
    expect(none.stdout).toBe('No groups.\n');
    expect(JSON.parse(json.stdout)).toEqual({ groups: ['audit'] });
  });

  it('describe: the group, its partitions and its members', async () => {
    const { fetch, requests } = fakeFetch({ status: 200, body: DESCRIPTION });
    const { code, stdout } = await sluice(['groups', 'describe', 'billing'], fetch);
    expect(code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:4545/groups/billing' });
    expect(stdout).toBe(
      [
        'Group:       billing',
        'Generation:  7',
        'Members:     1',
        '',
        'TOPIC     PARTITION  OWNER  COMMITTED  HIGH-WATERMARK  LAG',
        'orders            0  m-1           10              12    2',
        'orders            1  m-1            -               5    -',
        'payments          0  -              3               3    0',
        '"-": nothing committed yet. A member starts there at the earliest retained event',
        'or at new events only, as its offset reset says (consume --from-beginning).',
        '',
        'MEMBER  CLIENT-ID  HOST  TOPICS  SESSION-TIMEOUT  LAST-HEARTBEAT            PARTITIONS',
        'm-1     -          -     orders            45000  2026-01-01T00:00:00.000Z  orders/0, orders/1',
        '',
      ].join('\n'),
    );
  });

  it('describe --json prints the API response; an unknown group exits 1', async () => {
    const json = await sluice(['groups', 'describe', 'billing', '--json'], fakeFetch({ status: 200, body: DESCRIPTION }).fetch);
    expect(JSON.parse(json.stdout)).toEqual(DESCRIPTION);
    const missing = await sluice(
      ['groups', 'describe', 'nope'],
      fakeFetch({ status: 404, body: { error: { code: 'GroupNotFound', message: 'Group "nope" does not exist' } } }).fetch,
    );
    expect(missing.code).toBe(EXIT_CODES.apiError);
    expect(missing.stderr).toBe('error: GroupNotFound: Group "nope" does not exist\n');
  });

  it.each([
    [['--to-earliest'], { topic: 'orders', to: 'earliest' }],
    [['--to-latest', '--partition', '1'], { topic: 'orders', partitions: [1], to: 'latest' }],
    [['--to-offset', '5', '--partition', '0'], { topic: 'orders', partitions: [0], to: { offset: 5 } }],
    [['--to-timestamp', '1764072000000'], { topic: 'orders', to: { timestamp: 1764072000000 } }],
  ])('reset-offsets %j --execute POSTs the seek %j to a group that exists and prints the offsets', async (flags, body) => {
    const offsets = [{ topic: 'orders', partition: 0, offset: 5 }];
    const { fetch, requests } = fakeFetch({ status: 200, body: DESCRIPTION }, { status: 200, body: { offsets } });
    const { code, stdout } = await sluice(['groups', 'reset-offsets', 'billing', '--topic', 'orders', ...flags, '--execute'], fetch);
    expect(code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:4545/groups/billing' });
    expect(requests[1]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:4545/groups/billing/seek', body: JSON.stringify(body) });
    expect(stdout).toBe('TOPIC   PARTITION  OFFSET\norders          0       5\n');
  });

  it('reset-offsets without --execute prints the plan and sends no seek (a dry run)', async () => {
    const { fetch, requests } = fakeFetch({ status: 200, body: DESCRIPTION }, { status: 200, body: TOPIC_DESCRIPTION });
    const { code, stdout, stderr } = await sluice(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-earliest'], fetch);
    expect(code).toBe(0);
    expect(requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(stdout).toBe(
      [
        'TOPIC   PARTITION  CURRENT-OFFSET  NEW-OFFSET',
        'orders          0              10           0',
        'orders          1               -           5',
        'orders          2               -           0',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('Dry run: nothing changed. Add --execute to reset the offsets of group "billing".\n');
  });

  it('reset-offsets refuses a group that does not exist (exit 1, no seek) unless --allow-new', async () => {
    const notFound = { status: 404, body: { error: { code: 'GroupNotFound', message: 'Group "biling" does not exist' } } };
    const refused = fakeFetch(notFound);
    const result = await sluice(['groups', 'reset-offsets', 'biling', '--topic', 'orders', '--to-earliest', '--execute'], refused.fetch);
    expect(result.code).toBe(EXIT_CODES.apiError);
    expect(result.stderr).toBe(
      'error: GroupNotFound: Group "biling" does not exist; check the name, or give --allow-new to create it with these offsets\n',
    );
    expect(refused.requests).toHaveLength(1);

    const offsets = [{ topic: 'orders', partition: 0, offset: 0 }];
    const allowed = fakeFetch(notFound, { status: 200, body: { offsets } });
    const created = await sluice(['groups', 'reset-offsets', 'biling', '--topic', 'orders', '--partition', '0', '--to-earliest', '--execute', '--allow-new'], allowed.fetch);
    expect(created.code).toBe(0);
    expect(allowed.requests[1]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:4545/groups/biling/seek' });
  });

  it.each([
    [['groups', 'reset-offsets', 'billing', '--topic', 'orders'], 'error: give exactly one of --to-earliest'],
    [['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-earliest', '--to-offset', '3'], 'error: give exactly one of'],
    [['groups', 'reset-offsets', 'billing', '--to-latest'], 'error: missing --topic'],
    [['groups', 'reset-offsets', 'billing', '--topic', 'o', '--to-offset=-1'], 'error: --to-offset must be an integer of at least 0'],
    [['groups', 'describe'], 'error: missing <group>'],
    [['groups', 'list', '--topic', 'x'], 'error: unknown option "--topic" for "sluice groups list"'],
  ])('%j is a usage error (exit 2, nothing sent)', async (argv, message) => {
    const { fetch, requests } = fakeFetch();
    const result = await sluice(argv, fetch);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(requests).toHaveLength(0);
  });

  it('lists the group commands and consume in the main help', async () => {
    const { stdout } = await sluice(['--help'], fakeFetch().fetch);
    for (const words of ['consume <topic>', 'groups list', 'groups describe <group>', 'groups reset-offsets <group>']) {
      expect(stdout).toContain(words);
    }
    const help = await sluice(['consume', '--help'], fakeFetch().fetch);
    expect(help.stdout).toContain('Usage: sluice consume <topic>... [options]');
    expect(help.stdout).toMatch(/\n {6}--from-beginning +Start at the earliest/);
  });
});

describe('Function: isInterruptible', () => {
  it.each([
    [['consume', 'orders', '--group', 'g'], true],
    [['fetch', 'orders', '--partition', '0', '--follow'], true],
    [['consume', 'orders', '--group', 'g', '--help'], false],
    [['topics', 'list'], false],
    [['produce', 'orders'], false],
    [['--bogus'], false],
  ])('%j → %s', (argv, expected) => {
    expect(isInterruptible(argv)).toBe(expected);
  });
});
