import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { SluiceApi } from '../../../cli/command';
import { EXIT_CODES, run, type CliIo } from '../../../cli/main';
import { SluiceClient, type SluiceClientOptions } from '../../../client';
import { connectionRefused, fakeFetch, noWait, TOPIC, TOPIC_DESCRIPTION, type Reply } from '../client/fake-fetch';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

function output() {
  let text = '';
  return { writer: { write: (chunk: string) => (text += chunk) }, text: () => text };
}

/** Runs the CLI against a real SluiceClient whose fetch answers with `replies`. */
async function sluice(argv: string[], replies: Reply[] = [], env: CliIo['env'] = {}) {
  const stdout = output();
  const stderr = output();
  const { fetch, requests } = fakeFetch(...replies);
  const clientOptions: SluiceClientOptions[] = [];
  const createClient = (options: SluiceClientOptions) => {
    clientOptions.push(options);
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }; // used for remote endpoints only
    return new SluiceClient({ ...options, fetch, credentials, retry: { ...noWait().retry, retries: 1 } });
  };
  const code = await run(argv, { stdout: stdout.writer, stderr: stderr.writer, env, createClient });
  return { code, stdout: stdout.text(), stderr: stderr.text(), requests, clientOptions };
}

/** Runs the CLI against a fake API that records calls. */
async function sluiceWithFake(argv: string[]) {
  const api = {
    createTopic: vi.fn<SluiceApi['createTopic']>(async () => TOPIC),
    listTopics: vi.fn<SluiceApi['listTopics']>(async () => ({ topics: [TOPIC] })),
    describeTopic: vi.fn<SluiceApi['describeTopic']>(async () => TOPIC_DESCRIPTION),
    deleteTopic: vi.fn<SluiceApi['deleteTopic']>(async () => undefined),
    updateTopic: vi.fn<SluiceApi['updateTopic']>(async () => TOPIC),
    fetch: vi.fn<SluiceApi['fetch']>(async () => ({ events: [], nextOffset: 0, highWatermark: 0, logStartOffset: 0 })),
    producer: vi.fn<SluiceApi['producer']>(() => {
      throw new Error('not used');
    }),
    consumer: vi.fn<SluiceApi['consumer']>(() => {
      throw new Error('not used');
    }),
    listGroups: vi.fn<SluiceApi['listGroups']>(async () => ({ groups: [] })),
    describeGroup: vi.fn<SluiceApi['describeGroup']>(async () => {
      throw new Error('not used');
    }),
    deleteGroup: vi.fn<SluiceApi['deleteGroup']>(async () => {
      throw new Error('not used');
    }),
    seek: vi.fn<SluiceApi['seek']>(async () => ({ offsets: [] })),
    createAcls: vi.fn<SluiceApi['createAcls']>(async () => ({ acls: [] })),
    listAcls: vi.fn<SluiceApi['listAcls']>(async () => ({ acls: [] })),
    deleteAcls: vi.fn<SluiceApi['deleteAcls']>(async () => ({ deleted: [] })),
    createSubscription: vi.fn<SluiceApi['createSubscription']>(async () => {
      throw new Error('not used');
    }),
    listSubscriptions: vi.fn<SluiceApi['listSubscriptions']>(async () => []),
    describeSubscription: vi.fn<SluiceApi['describeSubscription']>(async () => {
      throw new Error('not used');
    }),
    deleteSubscription: vi.fn<SluiceApi['deleteSubscription']>(async () => {}),
    seekSubscription: vi.fn<SluiceApi['seekSubscription']>(async () => {
      throw new Error('not used');
    }),
    deadLetters: vi.fn<SluiceApi['deadLetters']>(async () => {
      throw new Error('not used');
    }),
    redriveDeadLetters: vi.fn<SluiceApi['redriveDeadLetters']>(async () => {
      throw new Error('not used');
    }),
    ...unusedQueueMethods(),
    listProcessors: vi.fn<SluiceApi['listProcessors']>(async () => ({ processors: [] })),
    describeProcessor: vi.fn<SluiceApi['describeProcessor']>(async () => {
      throw new Error('not used');
    }),
  };
  const stdout = output();
  const stderr = output();
  const code = await run(argv, { stdout: stdout.writer, stderr: stderr.writer, env: {}, createClient: () => api });
  return { code, stdout: stdout.text(), stderr: stderr.text(), api };
}

/** The queue commands run against a fake fetch in test/unit/cli/queues.test.ts. */
function unusedQueueMethods(): Pick<SluiceApi, 'queue' | 'createQueue' | 'listQueues' | 'describeQueue' | 'deleteQueue' | 'redriveQueue' | 'purgeQueue'> {
  const unused = () => {
    throw new Error('not used');
  };
  return {
    queue: vi.fn(unused),
    createQueue: vi.fn(unused),
    listQueues: vi.fn(unused),
    describeQueue: vi.fn(unused),
    deleteQueue: vi.fn(unused),
    redriveQueue: vi.fn(unused),
    purgeQueue: vi.fn(unused),
  };
}

const notFound: Reply = { status: 404, body: { error: { code: 'TopicNotFound', message: 'Topic "gone" does not exist' } } };

describe('Function: run (sluice CLI)', () => {
  describe('help and version', () => {
    it.each([[['--help']], [['-h']], [['topics', '--help']], [['topics', 'create', '-h']], [['topics', 'list', 'extra', '--help']]])(
      '%j prints usage and exits 0 without a request',
      async (argv) => {
        const result = await sluice(argv);
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^Usage: sluice/);
        expect(result.requests).toHaveLength(0);
      },
    );

    it('documents the exit codes and every command in the main help', async () => {
      const { stdout } = await sluice(['--help']);
      for (const words of ['topics create <name>', 'topics list', 'topics describe <name>', 'topics delete <name>']) {
        expect(stdout).toContain(words);
      }
      expect(stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {5}.*\n {2}2 .*\n {2}3 /);
    });

    it("lists a command's own flags in its help", async () => {
      const { stdout } = await sluice(['topics', 'create', '--help']);
      expect(stdout).toContain('Usage: sluice topics create <name> [options]');
      expect(stdout).toMatch(/\n {6}--partitions N +Number of partitions/);
      expect(stdout).toContain('(default: 7d)');
    });

    it('prints the package version', async () => {
      const { code, stdout } = await sluice(['--version']);
      expect(code).toBe(0);
      expect(stdout).toBe(`${VERSION}\n`);
    });
  });

  describe('usage errors (exit 2, nothing sent)', () => {
    it.each([
      [[], 'error: missing command'],
      [['nope'], 'error: unknown command "nope"'],
      [['topics'], 'error: missing topics command'],
      [['topics', 'rename', 'a'], 'error: unknown command "topics rename"'],
      [['topics', 'create'], 'error: missing <name>'],
      [['topics', 'describe', 'a', 'b'], 'error: unexpected argument "b"'],
      [['topics', 'create', 'a', '--partitions', 'three'], 'error: --partitions must be an integer, got "three"'],
      [['topics', 'create', 'a', '--partitions', '1.5'], 'error: --partitions must be an integer, got "1.5"'],
      [['topics', 'create', 'a', '--retention-ms', '7d'], 'error: --retention-ms must be an integer or "forever", got "7d"'],
      [['topics', 'create', 'a', '--partitions'], 'error: --partitions needs a value (--partitions <N>)'],
      [['topics', 'list', '--partitions', '3'], 'error: unknown option "--partitions" for "sluice topics list"'],
      [['topics', 'list', '--bogus'], 'error: unknown option "--bogus" for "sluice topics list"\n'],
      [['tpoics', 'list'], 'error: unknown command "tpoics" (did you mean "topics"?)'],
      [['topics', 'crate', 'a'], 'error: unknown command "topics crate" (did you mean "topics create"?)'],
      [['topics', 'create', 'a', '--partiton', '3'], 'error: unknown option "--partiton" for "sluice topics create" (did you mean "--partitions"?)'],
      [['topics', 'list', '--json=yes'], 'error: --json takes no value, got "--json=yes"'],
      [['--endpoint', 'ftp://x', 'topics', 'list'], 'error: --endpoint: Invalid Sluice endpoint "ftp://x"'],
    ])('%j', async (argv, message) => {
      const result = await sluice(argv);
      expect(result.code).toBe(EXIT_CODES.usage);
      expect(result.stderr.startsWith(message)).toBe(true);
      expect(result.stderr).toMatch(/\nUsage: sluice .*\nRun 'sluice.* --help' for details\.\n$/);
      expect(result.stdout).toBe('');
      expect(result.requests).toHaveLength(0);
    });

    it('points at the help of the command that was misused', async () => {
      const { stderr } = await sluice(['--endpoint', 'http://x', 'topics', 'create', 'a', '--partitions=x']);
      expect(stderr).toContain('Usage: sluice topics create <name> [options]\n');
      expect(stderr).toContain("Run 'sluice topics create --help' for details.");
    });
  });

  describe('arguments and options', () => {
    it('sends create flags as integers, leaving out the unset ones', async () => {
      const { code, api } = await sluiceWithFake(['topics', 'create', 'orders', '--partitions', '3', '--retention-ms=-1']);
      expect(code).toBe(0);
      expect(api.createTopic).toHaveBeenCalledTimes(1);
      expect(JSON.stringify(api.createTopic.mock.calls[0]?.[0])).toBe('{"name":"orders","partitions":3,"retentionMs":-1}');
    });

    it('accepts "forever" for --retention-ms and 0 for --dedupe-window-ms', async () => {
      const { api } = await sluiceWithFake(['topics', 'create', 'audit', '--retention-ms', 'forever', '--dedupe-window-ms', '0']);
      expect(api.createTopic).toHaveBeenCalledWith(expect.objectContaining({ name: 'audit', retentionMs: -1, dedupeWindowMs: 0 }));
    });

    it('takes global flags before or after the command', async () => {
      const before = await sluice(['--endpoint', 'http://127.0.0.1:7000', 'topics', 'list'], [{ status: 200, body: { topics: [] } }]);
      const after = await sluice(['topics', 'list', '--endpoint=http://127.0.0.1:7001'], [{ status: 200, body: { topics: [] } }]);
      expect(before.requests[0]?.url).toBe('http://127.0.0.1:7000/topics');
      expect(after.requests[0]?.url).toBe('http://127.0.0.1:7001/topics');
    });

    it('uses SLUICE_ENDPOINT when --endpoint is absent, else the local platform', async () => {
      const fromEnv = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [] } }], {
        SLUICE_ENDPOINT: 'http://localhost:5000',
      });
      const byDefault = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [] } }]);
      expect(fromEnv.requests[0]?.url).toBe('http://localhost:5000/topics');
      expect(byDefault.requests[0]?.url).toBe('http://127.0.0.1:4545/topics');
    });

    it('passes the region from its environment to the client', async () => {
      const { clientOptions } = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [] } }], {
        AWS_REGION: 'eu-central-1',
      });
      expect(clientOptions[0]).toMatchObject({ endpoint: 'http://127.0.0.1:4545', region: 'eu-central-1' });
    });

    it('gives one-shot commands a short retry budget and long-running ones the default', async () => {
      const oneShot = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [] } }]);
      expect(oneShot.clientOptions[0]!.retry).toEqual({ retries: 3, initialDelayMs: 250, maxDelayMs: 1000 });
    });

    it('reads a topic name that starts with a dash after --', async () => {
      const { api } = await sluiceWithFake(['topics', 'describe', '--', '-odd']);
      expect(api.describeTopic).toHaveBeenCalledWith('-odd');
    });
  });

  describe('human output', () => {
    it('lists topics as a table', async () => {
      const { code, stdout } = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [TOPIC] } }]);
      expect(code).toBe(0);
      expect(stdout).toBe('NAME    PARTITIONS  RETENTION  DEDUPE-WINDOW\norders           3  7d         24h\n');
    });

    it('says so when there are no topics', async () => {
      const { stdout } = await sluice(['topics', 'list'], [{ status: 200, body: { topics: [] } }]);
      expect(stdout).toBe('No topics.\n');
    });

    it('describes a topic: config lines, then the partition table', async () => {
      const { code, stdout, requests } = await sluice(['topics', 'describe', 'orders'], [{ status: 200, body: TOPIC_DESCRIPTION }]);
      expect(code).toBe(0);
      expect(requests[0]).toMatchObject({ method: 'GET', url: 'http://127.0.0.1:4545/topics/orders' });
      expect(stdout).toBe(
        [
          'Name:           orders',
          `Topic ID:       ${TOPIC.topicId}`,
          'Partitions:     3',
          'Retention:      7d',
          'Dedupe window:  24h',
          'Created:        2025-11-25T12:00:00.000Z',
          '',
          'PARTITION  LOG-START  HIGH-WATERMARK',
          '        0          0              12',
          '        1          5            1040',
          '        2          0               0',
          '',
        ].join('\n'),
      );
    });

    it('confirms create and delete', async () => {
      const created = await sluice(['topics', 'create', 'orders', '--partitions', '3'], [{ status: 201, body: TOPIC }]);
      const deleted = await sluice(['topics', 'delete', 'orders'], [{ status: 204 }]);
      expect(created.stdout).toBe('Created topic "orders": 3 partitions, retention 7d, dedupe window 24h.\n');
      expect(deleted.stdout).toBe('Deleted topic "orders".\n');
      expect(deleted.requests[0]).toMatchObject({ method: 'DELETE', url: 'http://127.0.0.1:4545/topics/orders' });
    });
  });

  describe('--json output', () => {
    it.each([
      [['topics', 'list', '--json'], { status: 200, body: { topics: [TOPIC] } }],
      [['--json', 'topics', 'describe', 'orders'], { status: 200, body: TOPIC_DESCRIPTION }],
      [['topics', 'create', 'orders', '--json'], { status: 201, body: TOPIC }],
    ] as const)('%j prints the API response', async (argv, reply) => {
      const { code, stdout } = await sluice([...argv], [reply]);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(reply.body);
    });

    it('prints nothing for delete (the API answers 204)', async () => {
      const { code, stdout } = await sluice(['topics', 'delete', 'orders', '--json'], [{ status: 204 }]);
      expect(code).toBe(0);
      expect(stdout).toBe('');
    });
  });

  describe('API errors (exit 1)', () => {
    it('prints "error: <Code>: <message>" on stderr', async () => {
      const { code, stdout, stderr } = await sluice(['topics', 'describe', 'gone'], [notFound]);
      expect(code).toBe(EXIT_CODES.apiError);
      expect(stderr).toBe('error: TopicNotFound: Topic "gone" does not exist\n');
      expect(stdout).toBe('');
    });

    it('prints the error body as JSON on stderr with --json', async () => {
      const { code, stderr } = await sluice(['topics', 'describe', 'gone', '--json'], [notFound]);
      expect(code).toBe(EXIT_CODES.apiError);
      expect(JSON.parse(stderr)).toEqual(notFound.body);
    });

    it('shows the message of an API Gateway error without a Sluice body', async () => {
      const { code, stderr } = await sluice(['topics', 'list'], [{ status: 403, body: { message: 'Forbidden' } }]);
      expect(code).toBe(EXIT_CODES.apiError);
      expect(stderr).toBe('error: UnknownError: HTTP 403 without a Sluice error body: Forbidden\n');
    });

    it('reports retries running out on throttling as an API error', async () => {
      const throttled: Reply = { status: 429, body: { error: { code: 'Throttled', message: 'slow down' } } };
      const { code, stderr } = await sluice(['topics', 'list', '--json'], [throttled, throttled]);
      expect(code).toBe(EXIT_CODES.apiError);
      expect(JSON.parse(stderr)).toEqual({
        error: {
          code: 'RetriesExceeded',
          message: 'Gave up after 2 attempts: slow down',
          attempts: 2,
          cause: { error: { code: 'Throttled', message: 'slow down' } },
        },
      });
    });
  });

  describe('other failures (exit 1)', () => {
    it('says that requests are signed when no AWS credentials are found', async () => {
      const stderr = output();
      const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
      const api = { listTopics: async () => Promise.reject(noCredentials) } as unknown as SluiceApi;
      const argv = ['--endpoint', 'https://sluice.example.com', 'topics', 'list'];
      const code = await run(argv, { stdout: output().writer, stderr: stderr.writer, env: {}, createClient: () => api });
      expect(code).toBe(EXIT_CODES.apiError);
      expect(stderr.text()).toBe(
        'error: CredentialsProviderError: Could not load credentials from any providers\n' +
          'Requests to https://sluice.example.com are signed (SigV4): configure AWS credentials (AWS_PROFILE, ...).\n',
      );
    });
  });

  describe('connection errors (exit 3)', () => {
    it('names the endpoint and suggests npm start for the local platform', async () => {
      const { code, stderr } = await sluice(['topics', 'list'], [connectionRefused(), connectionRefused()]);
      expect(code).toBe(EXIT_CODES.connection);
      expect(stderr).toContain('Cannot reach http://127.0.0.1:4545: ECONNREFUSED');
      expect(stderr).toContain('Start it with `npm start`.');
    });

    it('does not suggest npm start for a remote endpoint', async () => {
      const endpoint = 'https://sluice.example.com';
      const { code, stderr } = await sluice(['--endpoint', endpoint, 'topics', 'list'], [connectionRefused(), connectionRefused()]);
      expect(code).toBe(EXIT_CODES.connection);
      expect(stderr).toContain(`Cannot reach ${endpoint}`);
      expect(stderr).not.toContain('npm start');
    });

    it('prints a ConnectionError body with --json', async () => {
      const { code, stderr } = await sluice(['--json', 'topics', 'list'], [connectionRefused(), connectionRefused()]);
      expect(code).toBe(EXIT_CODES.connection);
      const body = JSON.parse(stderr) as { error: { code: string; cause: { error: { code: string; endpoint: string } } } };
      expect(body.error.code).toBe('RetriesExceeded');
      expect(body.error.cause.error).toMatchObject({ code: 'ConnectionError', endpoint: 'http://127.0.0.1:4545' });
    });
  });
});
