/**
 * `sluice consume` against the real group protocol: the CLI in-process, its client talking to the
 * groups handler over GroupService on DynamoDB Local (test/support/in-process-sluice.ts). A run
 * ends with Ctrl-C (an abort) once the consumer is idle: a records call found nothing and waits.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EXIT_CODES } from '../../cli/main';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';
import { sluice as runCli } from '../unit/cli/run-cli';

let server: InProcessSluice;
let n = 0;

beforeAll(async () => {
  server = await startInProcessSluice('cli-consume');
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  // GroupService starts each records call at a random partition; pinned, so partition 0 comes first.
  vi.spyOn(Math, 'random').mockReturnValue(0);
  server.trace.length = 0;
  return () => vi.restoreAllMocks();
});

/** A fresh topic (2 partitions) and group name. */
async function fresh() {
  n++;
  const topic = `orders-${n}`;
  await server.createTopic(topic, 2);
  return { topic, group: `billing-${n}` };
}

/** Every request the CLI sent, with its body. */
function recording() {
  const requests: { method: string; url: string; body: string | undefined }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push({ method: init?.method ?? 'GET', url: String(input), body: init?.body === undefined || init.body === null ? undefined : String(init.body) });
    return server.fetch(input, init);
  };
  return { fetch, requests };
}

/** `sluice consume <topic> --group <group> ...`; Ctrl-C once everything is read. */
async function consume(topic: string, group: string, argv: string[] = []) {
  const { fetch, requests } = recording();
  const controller = new AbortController();
  void server.whenWaiting().then(() => controller.abort());
  const result = await runCli(['consume', topic, '--group', group, ...argv], fetch, { signal: controller.signal });
  const joins = requests.filter((r) => r.url.endsWith('/members')).map((r) => JSON.parse(r.body!) as Record<string, unknown>);
  return { ...result, joins, requests };
}

const committed = async (group: string, partition: number) =>
  (await server.groups.describe(group)).partitions.find((p) => p.partition === partition)?.committedOffset ?? null;

describe('Command: sluice consume', () => {
  it('prints "<topic>/<partition>/<offset> <key> <value>" lines, commits after printing, and leaves on Ctrl-C (exit 0)', async () => {
    const { topic, group } = await fresh();
    await server.append(topic, 0, { n: 1 }, 'plain');
    await server.append(topic, 1, 42);
    const { code, stdout, stderr } = await consume(topic, group, ['--from-beginning']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${topic}/0/0 - {"n":1}\n${topic}/0/1 - plain\n${topic}/1/0 - 42\n`);
    expect(stderr).toBe(`assigned: ${topic}/0, ${topic}/1\n`);
    expect(server.trace.slice(1)).toEqual(['records', 'commit 0=2', 'commit 1=1', expect.stringMatching(/^leave /)]);
    expect((await server.groups.describe(group)).members).toEqual([]);
  });

  it('prints one event object per line with --json', async () => {
    const { topic, group } = await fresh();
    await server.append(topic, 0, 'a');
    const { stdout } = await consume(topic, group, ['--json', '--from-beginning']);
    const stored = (await server.log.fetch(topic, 0, { offset: 0 })).events;
    expect(stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([...stored]);
  });

  it('says on stderr when the assignment changes', async () => {
    const { topic, group } = await fresh();
    const { fetch } = recording();
    const controller = new AbortController();
    void server
      .whenWaiting()
      .then(async () => {
        // Another member takes partition 1; the consumer learns it when its commit is refused.
        await server.groups.join(group, { topics: [topic], memberId: 'other', sessionTimeoutMs: 10_000 });
        const learnt = server.whenTraced('heartbeat');
        await server.append(topic, 0, 'a');
        await learnt;
        await server.whenWaiting();
      })
      .then(() => controller.abort());
    const { code, stderr } = await runCli(['consume', topic, '--group', group], fetch, { signal: controller.signal });
    expect(code).toBe(0);
    expect(stderr).toBe(`assigned: ${topic}/0, ${topic}/1\nassigned: ${topic}/0\n`);
  });

  it('joins with the flags: --from-beginning, --session-timeout-ms; --guarantee at-most-once commits with the read', async () => {
    const { topic, group } = await fresh();
    await server.append(topic, 0, 'a');
    const { joins, stdout } = await consume(topic, group, ['--from-beginning', '--session-timeout-ms', '3000', '--guarantee', 'at-most-once']);
    expect(joins[0]).toMatchObject({ topics: [topic], sessionTimeoutMs: 3000, offsetReset: 'earliest' });
    expect(server.trace).toContain('records+commit');
    expect(stdout).toBe(`${topic}/0/0 - a\n`);
    expect(await committed(group, 0)).toBe(1);
  });

  it('starts at new events by default (offsetReset latest)', async () => {
    const { topic, group } = await fresh();
    await server.append(topic, 0, 'old');
    const { joins, stdout } = await consume(topic, group);
    expect(joins[0]).toMatchObject({ offsetReset: 'latest', sessionTimeoutMs: 45_000 });
    expect(stdout).toBe(''); // the event from before it joined is not printed
  });

  it('stops after --max-messages, committing what it printed, and never reads past it', async () => {
    const { topic, group } = await fresh();
    await server.append(topic, 0, 'a', 'b', 'c');
    const { fetch, requests } = recording();
    const { code, stdout } = await runCli(['consume', topic, '--group', group, '--max-messages', '2', '--from-beginning'], fetch);
    expect(code).toBe(0);
    expect(stdout).toBe(`${topic}/0/0 - a\n${topic}/0/1 - b\n`);
    expect(await committed(group, 0)).toBe(2);
    expect(new URL(requests.find((r) => r.url.includes('/records'))!.url).searchParams.get('maxRecords')).toBe('2');
    expect(server.trace.at(-1)).toMatch(/^leave /);
  });

  it('exits 1 with the API error when the topic does not exist', async () => {
    const { fetch } = recording();
    const { code, stderr } = await runCli(['consume', 'no-such-topic', '--group', 'billing'], fetch);
    expect(code).toBe(EXIT_CODES.apiError);
    expect(stderr).toBe('error: TopicNotFound: Topic "no-such-topic" does not exist\n');
  });
});
