/**
 * `sluice queues ...` against a scripted service: arguments, requests and output. Against the real
 * platform, as a new user: test/e2e/queues.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { QueueDescription, QueueMessage } from '../../../api/queues';
import { formatBody } from '../../../cli/commands/queues';
import { EXIT_CODES } from '../../../cli/main';
import { fakeFetch, routedFetch, type RecordedRequest } from '../client/fake-fetch';
import { sluice } from './run-cli';

const ENDPOINT = 'http://127.0.0.1:4545';
const path = (r: RecordedRequest) => `${r.method} ${r.url.slice(ENDPOINT.length)}`;
const body = (r: RecordedRequest) => JSON.parse(r.body!);

const DESCRIPTION: QueueDescription = {
  name: 'jobs',
  origin: 'api',
  visibilityTimeoutMs: 30_000,
  maxReceiveCount: 5,
  retentionMs: 4 * 24 * 3600_000,
  deliveryDelayMs: 0,
  createdAt: Date.UTC(2026, 0, 1),
  messages: { visible: 3, inFlight: 1, delayed: 0 },
  deadLetters: { visible: 2 },
  oldestMessageAgeMs: null,
};

const MESSAGE: QueueMessage = {
  messageId: 'welcome-1',
  groupId: 'customer-1',
  body: { to: 'a@example.com' },
  receiptHandle: 'rh-1',
  receiveCount: 2,
  sentAt: Date.UTC(2026, 0, 1, 12),
  sequenceNumber: '18889',
};

/** Answers sends with `sent` (or `duplicate` for IDs starting with "dup"). */
function sendService() {
  return routedFetch((request) => {
    const { messages } = body(request) as { messages: { messageId: string; groupId?: string }[] };
    const results = messages.map((m) => ({
      messageId: m.messageId,
      groupId: m.groupId ?? m.messageId,
      status: m.messageId.startsWith('dup') ? 'duplicate' : 'sent',
      sequenceNumber: '1',
    }));
    return { status: 200, body: { results } };
  });
}

describe('Command: sluice queues', () => {
  it.each([
    [['queues', 'send'], 'error: missing <queue>'],
    [['queues', 'send', 'jobs', 'a', 'b'], 'error: unexpected argument "b"'],
    [['queues', 'ack', 'jobs'], 'error: missing <receipt-handle>'],
    [['queues', 'receive', 'jobs', '--max-messages', '0'], 'error: --max-messages must be an integer of at least 1'],
    [['queues', 'receive', 'jobs', '--wait-ms', 'soon'], 'error: --wait-ms must be an integer'],
    [['queues', 'nack', 'jobs', 'rh', '--delay-ms', '-5'], 'error: --delay-ms must be an integer of at least 0, got "-5"'],
    [['queues', 'create', 'jobs', '--partitions', '3'], 'error: unknown option "--partitions" for "sluice queues create"'],
    [['queues', 'frobnicate'], 'error: unknown command "queues frobnicate"'],
  ])('%j is a usage error (exit 2, nothing sent)', async (argv, message) => {
    const { fetch, requests } = fakeFetch();
    const result = await sluice(argv, fetch);
    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr.startsWith(message)).toBe(true);
    expect(requests).toHaveLength(0);
  });

  it('help shows optional and repeated arguments', async () => {
    const { fetch } = fakeFetch();
    expect((await sluice(['queues', 'send', '--help'], fetch)).stdout).toContain('Usage: sluice queues send <queue> [<body>] [options]');
    expect((await sluice(['queues', 'ack', '--help'], fetch)).stdout).toContain('Usage: sluice queues ack <queue> <receipt-handle>...');
    const main = (await sluice(['--help'], fetch)).stdout;
    for (const words of ['queues create <name>', 'queues send <queue> [<body>]', 'queues receive <queue>', 'queues ack <queue> <receipt-handle>...', 'queues redrive <name>']) {
      expect(main).toContain(words);
    }
  });

  it('create sends only the flags given and prints the queue', async () => {
    const { fetch, requests } = fakeFetch({ status: 201, body: DESCRIPTION });
    const { code, stdout } = await sluice(['queues', 'create', 'jobs', '--max-receive-count', '5', '--visibility-timeout-ms', '30000'], fetch);
    expect(code).toBe(0);
    expect(requests.map(path)).toEqual(['POST /queues']);
    expect(body(requests[0]!)).toEqual({ name: 'jobs', visibilityTimeoutMs: 30_000, maxReceiveCount: 5 });
    expect(stdout).toBe('Created queue "jobs": visibility timeout 30s, max receive count 5, retention 4d.\n');
  });

  it('list prints a table, "No queues." when there are none', async () => {
    const some = await sluice(['queues', 'list'], fakeFetch({ status: 200, body: { queues: [{ name: 'jobs', origin: 'api' }, { name: 'payments', origin: 'stack' }] } }).fetch);
    expect(some.stdout).toBe('NAME      ORIGIN\njobs      api\npayments  stack\n');
    expect((await sluice(['queues', 'list'], fakeFetch({ status: 200, body: { queues: [] } }).fetch)).stdout).toBe('No queues.\n');
  });

  it('describe prints the configuration and the counts', async () => {
    const { stdout } = await sluice(['queues', 'describe', 'jobs'], fakeFetch({ status: 200, body: DESCRIPTION }).fetch);
    expect(stdout).toBe(
      [
        'Name:                jobs',
        'Origin:              api',
        'Visibility timeout:  30s',
        'Max receive count:   5',
        'Retention:           4d',
        'Delivery delay:      0s',
        'Created:             2026-01-01T00:00:00.000Z',
        'Visible:             3',
        'In flight:           1',
        'Delayed:             0',
        'Dead letters:        2',
        'Oldest message:      unknown',
        '',
      ].join('\n'),
    );
  });

  it('send: the body argument, JSON when it parses, with --id and --group; prints "<id> <status>"', async () => {
    const service = sendService();
    const { code, stdout } = await sluice(['queues', 'send', 'jobs', '{"to":"a@example.com"}', '--id', 'dup-1', '--group', 'customer-1'], service.fetch);
    expect(code).toBe(0);
    expect(service.requests.map(path)).toEqual(['POST /queues/jobs/messages']);
    expect(body(service.requests[0]!)).toEqual({ messages: [{ body: { to: 'a@example.com' }, groupId: 'customer-1', messageId: 'dup-1' }] });
    expect(stdout).toBe('dup-1 duplicate\n');
  });

  it('send: one message per stdin line (empty ones skipped), "<ID>-<N>" with --id, strings with --raw', async () => {
    const service = sendService();
    const { stdout } = await sluice(['queues', 'send', 'jobs', '--id', 'batch7'], service.fetch, { stdin: 'plain text\n{"n":1}\n\n42\n' });
    expect(body(service.requests[0]!).messages).toEqual([
      { body: 'plain text', messageId: 'batch7-1' },
      { body: { n: 1 }, messageId: 'batch7-2' },
      { body: 42, messageId: 'batch7-3' },
    ]);
    expect(stdout).toBe('batch7-1 sent\nbatch7-2 sent\nbatch7-3 sent\n');

    const raw = sendService();
    const json = await sluice(['queues', 'send', 'jobs', '--raw', '--json'], raw.fetch, { stdin: '{"n":1}\n' });
    const [sent] = body(raw.requests[0]!).messages;
    expect(sent).toEqual({ body: '{"n":1}', messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(JSON.parse(json.stdout)).toEqual({ messageId: sent.messageId, groupId: sent.messageId, status: 'sent', sequenceNumber: '1' });
  });

  it('send: stdin in requests of at most 100 messages', async () => {
    const service = sendService();
    const input = Array.from({ length: 250 }, (_, i) => `line ${i}`).join('\n');
    const { stdout } = await sluice(['queues', 'send', 'jobs'], service.fetch, { stdin: input });
    expect(service.requests.map((r) => body(r).messages.length)).toEqual([100, 100, 50]);
    expect(stdout.trim().split('\n')).toHaveLength(250);
  });

  it('receive prints each message with its receipt handle; --ack acks them', async () => {
    const { fetch, requests } = fakeFetch(
      { status: 200, body: { messages: [MESSAGE, { ...MESSAGE, messageId: 'm2', body: '42', receiptHandle: 'rh-2' }] } },
      { status: 200, body: { results: [{ receiptHandle: 'rh-1', status: 'ok' }, { receiptHandle: 'rh-2', status: 'ok' }] } },
    );
    const { code, stdout } = await sluice(['queues', 'receive', 'jobs', '--max-messages', '2', '--wait-ms', '1000', '--ack'], fetch);
    expect(code).toBe(0);
    expect(requests.map(path)).toEqual(['POST /queues/jobs/receive', 'POST /queues/jobs/ack']);
    expect(body(requests[0]!)).toEqual({ maxMessages: 2, waitMs: 1000 });
    expect(body(requests[1]!)).toEqual({ receiptHandles: ['rh-1', 'rh-2'] });
    expect(stdout).toBe(
      [
        'Message ID:      welcome-1',
        'Group:           customer-1',
        'Receive count:   2',
        'Sent:            2026-01-01T12:00:00.000Z',
        'Receipt handle:  rh-1',
        'Body:            {"to":"a@example.com"}',
        '',
        'Message ID:      m2',
        'Group:           customer-1',
        'Receive count:   2',
        'Sent:            2026-01-01T12:00:00.000Z',
        'Receipt handle:  rh-2',
        'Body:            "42"',
        '',
        'Acked 2 messages.',
        '',
      ].join('\n'),
    );
  });

  it('receive: "No messages." when none came; --json prints one message per line', async () => {
    expect((await sluice(['queues', 'receive', 'jobs'], fakeFetch({ status: 200, body: { messages: [] } }).fetch)).stdout).toBe('No messages.\n');
    const json = await sluice(['queues', 'receive', 'jobs', '--json'], fakeFetch({ status: 200, body: { messages: [MESSAGE] } }).fetch);
    expect(json.stdout).toBe(`${JSON.stringify(MESSAGE)}\n`);
  });

  it('ack and nack take receipt handles; a handle that failed exits 1 naming it', async () => {
    const { fetch, requests } = fakeFetch(
      { status: 200, body: { results: [{ receiptHandle: 'rh-1', status: 'ok' }, { receiptHandle: 'rh-2', status: 'failed', error: { code: 'ReceiptHandleIsInvalid', message: 'expired' } }] } },
      { status: 200, body: { results: [{ receiptHandle: 'rh-3', status: 'ok' }] } },
    );
    const acked = await sluice(['queues', 'ack', 'jobs', 'rh-1', 'rh-2'], fetch);
    expect(acked.code).toBe(EXIT_CODES.apiError);
    expect(acked.stdout).toBe('Acked 1 message.\n');
    expect(acked.stderr).toBe('error: ReceiptFailed: 1 of 2 failed to ack:\nrh-2: ReceiptHandleIsInvalid: expired\n');
    const nacked = await sluice(['queues', 'nack', 'jobs', 'rh-3', '--delay-ms', '5000'], fetch);
    expect(nacked.code).toBe(0);
    expect(nacked.stdout).toBe('Nacked 1 message.\n');
    expect(requests.map(path)).toEqual(['POST /queues/jobs/ack', 'POST /queues/jobs/nack']);
    expect(body(requests[1]!)).toEqual({ receiptHandles: ['rh-3'], delayMs: 5000 });
  });

  it('redrive, purge and delete', async () => {
    const { fetch, requests } = fakeFetch(
      { status: 200, body: { moved: 1, remaining: 0 } },
      { status: 200, body: { target: 'dead-letters' } },
      { status: 204 },
      { status: 404, body: { error: { code: 'QueueNotFound', message: 'Queue "jobs" does not exist' } } },
    );
    expect((await sluice(['queues', 'redrive', 'jobs'], fetch)).stdout).toBe('Moved 1 dead letter back to "jobs"; about 0 left.\n');
    expect((await sluice(['queues', 'purge', 'jobs', '--dead-letters'], fetch)).stdout).toBe('Purged the dead letters of "jobs".\n');
    expect((await sluice(['queues', 'delete', 'jobs'], fetch)).stdout).toBe('Deleted queue "jobs".\n');
    const gone = await sluice(['queues', 'delete', 'jobs'], fetch);
    expect(gone.code).toBe(EXIT_CODES.apiError);
    expect(gone.stderr).toBe('error: QueueNotFound: Queue "jobs" does not exist\n');
    expect(requests.map(path)).toEqual(['POST /queues/jobs/redrive', 'POST /queues/jobs/purge', 'DELETE /queues/jobs', 'DELETE /queues/jobs']);
    expect(body(requests[0]!)).toEqual({});
    expect(body(requests[1]!)).toEqual({ target: 'dead-letters' });
  });
});

describe('Function: formatBody', () => {
  it.each([
    ['hello world', 'hello world'],
    ['42', '"42"'],
    ['', '""'],
    ['two\nlines', '"two\\nlines"'],
    [{ a: [1, null] }, '{"a":[1,null]}'],
    [7, '7'],
    [null, 'null'],
  ])('%j → %s', (value, text) => {
    expect(formatBody(value)).toBe(text);
  });
});
