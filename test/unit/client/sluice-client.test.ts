import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Consumer,
  EventTooLargeError,
  FencedMemberError,
  RebalanceInProgressError,
  InternalError,
  InvalidRequestError,
  KeyTooLargeError,
  MethodNotAllowedError,
  OffsetOutOfRangeError,
  PartitionNotFoundError,
  Producer,
  RequestTooLargeError,
  TooManyHeadersError,
  RouteNotFoundError,
  SluiceClient,
  ThrottledError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
  UnknownApiError,
  type SluiceClientOptions,
} from '../../../client';
import { fakeFetch, noWait, routedFetch, TOPIC, TOPIC_DESCRIPTION, type Reply } from './fake-fetch';

const ENDPOINT = 'http://127.0.0.1:4545';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FETCHED = {
  events: [
    { topic: 'orders', partition: 2, offset: 7, key: 'k', value: { total: 1 }, headers: {}, timestamp: 1_764_072_000_000, messageId: 'm-7' },
  ],
  nextOffset: 8,
  highWatermark: 8,
  logStartOffset: 0,
};

function clientWith(replies: Reply[], options: SluiceClientOptions = {}) {
  const { fetch, requests } = fakeFetch(...replies);
  const client = new SluiceClient({ endpoint: ENDPOINT, fetch, retry: { retries: 0 }, ...options });
  return { client, requests };
}

describe('Class: SluiceClient', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe('Constructor', () => {
    it('uses SLUICE_ENDPOINT, else the local platform', () => {
      vi.stubEnv('SLUICE_ENDPOINT', 'http://127.0.0.1:9999/');
      expect(new SluiceClient().endpoint).toBe('http://127.0.0.1:9999');
      vi.stubEnv('SLUICE_ENDPOINT', '');
      expect(new SluiceClient().endpoint).toBe('http://127.0.0.1:4545');
    });

    it.each(['not a url', 'ftp://example.com', 'http://example.com/?stage=prod'])('rejects the endpoint %j', (endpoint) => {
      expect(() => new SluiceClient({ endpoint })).toThrow(TypeError);
    });
  });

  describe('Method: createTopic', () => {
    it('POSTs the request as JSON and returns the created config', async () => {
      const { client, requests } = clientWith([{ status: 201, body: TOPIC }]);
      await expect(client.createTopic({ name: 'orders', partitions: 3, retentionMs: -1 })).resolves.toEqual(TOPIC);
      expect(requests).toEqual([
        {
          method: 'POST',
          url: `${ENDPOINT}/topics`,
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: '{"name":"orders","partitions":3,"retentionMs":-1}',
        },
      ]);
    });
  });

  describe('Method: listTopics', () => {
    it('GETs /topics and returns the response as is', async () => {
      const { client, requests } = clientWith([{ status: 200, body: { topics: [TOPIC] } }]);
      await expect(client.listTopics()).resolves.toEqual({ topics: [TOPIC] });
      expect(requests[0]).toMatchObject({ method: 'GET', url: `${ENDPOINT}/topics`, body: undefined });
    });
  });

  describe('Method: describeTopic', () => {
    it('GETs /topics/{topic}', async () => {
      const { client, requests } = clientWith([{ status: 200, body: TOPIC_DESCRIPTION }]);
      await expect(client.describeTopic('orders')).resolves.toEqual(TOPIC_DESCRIPTION);
      expect(requests[0]).toMatchObject({ method: 'GET', url: `${ENDPOINT}/topics/orders` });
    });

    it.each(['.', '..', 'a/b', ''])('rejects the name %j without a request, as the server would', async (name) => {
      const { client, requests } = clientWith([]);
      const err = await client.describeTopic(name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidRequestError);
      const issues = (err as InvalidRequestError).details.issues as { path: string }[];
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.map((i) => i.path)).toEqual(issues.map(() => 'path.topic'));
      expect(requests).toHaveLength(0);
    });
  });

  describe('Method: deleteTopic', () => {
    it('DELETEs /topics/{topic} and resolves to nothing on 204', async () => {
      const { client, requests } = clientWith([{ status: 204 }]);
      await expect(client.deleteTopic('orders')).resolves.toBeUndefined();
      expect(requests[0]).toMatchObject({ method: 'DELETE', url: `${ENDPOINT}/topics/orders` });
    });
  });

  describe('Method: updateTopic', () => {
    it('PATCHes /topics/{topic} with the changes and returns the new config', async () => {
      const updated = { ...TOPIC, retentionMs: 3_600_000 };
      const { client, requests } = clientWith([{ status: 200, body: updated }]);
      await expect(client.updateTopic('orders', { retentionMs: 3_600_000 })).resolves.toEqual(updated);
      expect(requests[0]).toMatchObject({ method: 'PATCH', url: `${ENDPOINT}/topics/orders`, body: '{"retentionMs":3600000}' });
    });
  });

  describe('Method: produce', () => {
    const results = [
      { partition: 1, offset: 4, messageId: 'x', duplicate: false },
      { partition: 1, offset: 5, messageId: 'mine', duplicate: false },
    ];

    it('POSTs the events with a message ID for each, and returns the results in order', async () => {
      const { client, requests } = clientWith([{ status: 200, body: { results } }]);
      const events = [{ key: 'k', value: { total: 1 } }, { value: 'two', messageId: 'mine' }];
      await expect(client.produce('orders', events)).resolves.toEqual(results);
      expect(requests[0]).toMatchObject({ method: 'POST', url: `${ENDPOINT}/topics/orders/events` });
      const sent = JSON.parse(requests[0]!.body!) as { events: { messageId: string }[] };
      expect(sent.events).toEqual([
        { key: 'k', value: { total: 1 }, messageId: expect.stringMatching(UUID) },
        { value: 'two', messageId: 'mine' },
      ]);
      expect(events[0]).toEqual({ key: 'k', value: { total: 1 } }); // not modified
    });

    it('assigns message IDs before the first attempt, so a retry sends the same ones', async () => {
      const { retry } = noWait();
      const { client, requests } = clientWith(
        [{ status: 500, body: { error: { code: 'InternalError', message: 'boom' } } }, new TypeError('fetch failed'), { status: 200, body: { results } }],
        { retry },
      );
      await client.produce('orders', [{ value: 1 }, { value: 2 }]);
      expect(requests).toHaveLength(3);
      expect(requests[1]!.body).toBe(requests[0]!.body);
      expect(requests[2]!.body).toBe(requests[0]!.body);
      const ids = (JSON.parse(requests[0]!.body!) as { events: { messageId: string }[] }).events.map((e) => e.messageId);
      expect(ids).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
      expect(ids[0]).not.toBe(ids[1]);
    });

    it('gives each call new message IDs', async () => {
      const { client, requests } = clientWith([
        { status: 200, body: { results } },
        { status: 200, body: { results } },
      ]);
      await client.produce('orders', [{ value: 1 }]);
      await client.produce('orders', [{ value: 1 }]);
      expect(requests[0]!.body).not.toBe(requests[1]!.body);
    });
  });

  describe('Method: fetch', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('GETs the partition with the options as query parameters', async () => {
      const { client, requests } = clientWith([{ status: 200, body: FETCHED }]);
      await expect(client.fetch('orders', 2, { offset: 7, limit: 10, waitMs: 500 })).resolves.toEqual(FETCHED);
      expect(requests[0]).toMatchObject({
        method: 'GET',
        url: `${ENDPOINT}/topics/orders/partitions/2/events?offset=7&limit=10&waitMs=500`,
        body: undefined,
      });
    });

    it('leaves unset options out of the query', async () => {
      const { client, requests } = clientWith([
        { status: 200, body: FETCHED },
        { status: 200, body: FETCHED },
      ]);
      await client.fetch('orders', 0);
      await client.fetch('orders', 0, { timestamp: 1_764_072_000_000 });
      expect(requests.map((r) => r.url)).toEqual([
        `${ENDPOINT}/topics/orders/partitions/0/events`,
        `${ENDPOINT}/topics/orders/partitions/0/events?timestamp=1764072000000`,
      ]);
    });

    it('gives a long poll its waitMs on top of the HTTP timeout', async () => {
      const timeout = vi.spyOn(AbortSignal, 'timeout');
      const { client } = clientWith([
        { status: 200, body: FETCHED },
        { status: 200, body: FETCHED },
      ]);
      await client.fetch('orders', 0, { offset: 'latest', waitMs: 20_000 });
      await client.fetch('orders', 0);
      expect(timeout.mock.calls).toEqual([[30_000], [10_000]]);
    });

    it.each([-1, 1.5, Number.NaN])('rejects the partition %s without a request', async (partition) => {
      const { client, requests } = clientWith([]);
      const err = await client.fetch('orders', partition).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as InvalidRequestError).details.issues).toEqual([{ path: 'path.partition', message: 'must be a non-negative integer' }]);
      expect(requests).toHaveLength(0);
    });

    it('rejects OffsetOutOfRange with the bounds in its details', async () => {
      const body = { error: { code: 'OffsetOutOfRange', message: 'out of range', offset: 99, logStartOffset: 3, highWatermark: 12 } };
      const { client } = clientWith([{ status: 416, body }]);
      const err = await client.fetch('orders', 0, { offset: 99 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OffsetOutOfRangeError);
      expect((err as OffsetOutOfRangeError).details).toEqual({ offset: 99, logStartOffset: 3, highWatermark: 12 });
    });
  });

  describe('Method: producer', () => {
    it('creates a Producer on this client', () => {
      const { client } = clientWith([]);
      expect(client.producer({ lingerMs: 0 })).toBeInstanceOf(Producer);
    });
  });

  describe('Consumer group methods', () => {
    const membership = { memberId: 'm-1', generation: 3, assignments: [{ topic: 'orders', partition: 0, committedOffset: 12 }] };

    it('joinGroup POSTs the request, with a random memberId when it has none (so a retry rejoins the same member)', async () => {
      const { retry } = noWait();
      const { client, requests } = clientWith(
        [{ status: 500, body: { error: { code: 'InternalError', message: 'lost' } } }, { status: 200, body: membership }],
        { retry },
      );
      await expect(client.joinGroup('billing', { topics: ['orders'], offsetReset: 'earliest' })).resolves.toEqual(membership);
      expect(requests[0]).toMatchObject({ method: 'POST', url: `${ENDPOINT}/groups/billing/members` });
      const sent = JSON.parse(requests[0]!.body!) as { memberId: string };
      expect(sent).toEqual({ topics: ['orders'], offsetReset: 'earliest', memberId: expect.stringMatching(UUID) });
      expect(requests[1]!.body).toBe(requests[0]!.body);
    });

    it('joinGroup keeps a given memberId', async () => {
      const { client, requests } = clientWith([{ status: 200, body: membership }]);
      await client.joinGroup('billing', { topics: ['orders'], memberId: 'm-1', sessionTimeoutMs: 3000 });
      expect(requests[0]!.body).toBe('{"topics":["orders"],"memberId":"m-1","sessionTimeoutMs":3000}');
    });

    it('heartbeat POSTs the generation the member knows', async () => {
      const { client, requests } = clientWith([
        { status: 200, body: { ...membership, rebalanced: true } },
        { status: 200, body: { ...membership, rebalanced: false } },
      ]);
      await expect(client.heartbeat('billing', 'm-1', 2)).resolves.toMatchObject({ rebalanced: true });
      await client.heartbeat('billing', 'm-1');
      expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
        ['POST', `${ENDPOINT}/groups/billing/members/m-1/heartbeat`, '{"generation":2}'],
        ['POST', `${ENDPOINT}/groups/billing/members/m-1/heartbeat`, '{}'],
      ]);
    });

    it('heartbeat rejects FencedMember as FencedMemberError', async () => {
      const { client } = clientWith([{ status: 409, body: { error: { code: 'FencedMember', message: 'rejoin', group: 'billing' } } }]);
      await expect(client.heartbeat('billing', 'm-1', 2)).rejects.toBeInstanceOf(FencedMemberError);
    });

    it('leaveGroup DELETEs the member; listGroups and describeGroup GET', async () => {
      const description = { group: 'billing', generation: 3, members: [], partitions: [] };
      const { client, requests } = clientWith([
        { status: 204 },
        { status: 200, body: { groups: ['billing'] } },
        { status: 200, body: description },
      ]);
      await expect(client.leaveGroup('billing', 'm-1')).resolves.toBeUndefined();
      await expect(client.listGroups()).resolves.toEqual({ groups: ['billing'] });
      await expect(client.describeGroup('billing')).resolves.toEqual(description);
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        `DELETE ${ENDPOINT}/groups/billing/members/m-1`,
        `GET ${ENDPOINT}/groups`,
        `GET ${ENDPOINT}/groups/billing`,
      ]);
    });

    it('records GETs with the options as query parameters and waitMs on top of the HTTP timeout', async () => {
      const timeout = vi.spyOn(AbortSignal, 'timeout');
      const response = { memberId: 'm-1', generation: 3, records: FETCHED.events };
      const { client, requests } = clientWith([{ status: 200, body: response }]);
      await expect(client.records('billing', 'm-1', { maxRecords: 10, waitMs: 2000, commit: true })).resolves.toEqual(response);
      expect(requests[0]!.url).toBe(`${ENDPOINT}/groups/billing/members/m-1/records?maxRecords=10&waitMs=2000&commit=true`);
      expect(timeout.mock.calls).toEqual([[12_000]]);
      timeout.mockRestore();
    });

    it('records is never retried: a retry would skip the records of a lost response', async () => {
      const { client, requests } = clientWith([{ status: 500, body: { error: { code: 'InternalError', message: 'timed out' } } }], {
        retry: noWait().retry,
      });
      await expect(client.records('billing', 'm-1')).rejects.toBeInstanceOf(InternalError);
      expect(requests).toHaveLength(1);
    });

    it('records rejects with the abort reason when its signal is aborted', async () => {
      const controller = new AbortController();
      const { fetch } = routedFetch((_request, _index, signal) => new Promise<Reply>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))));
      const client = new SluiceClient({ endpoint: ENDPOINT, fetch, retry: noWait().retry });
      const pending = client.records('billing', 'm-1', { waitMs: 5000, signal: controller.signal });
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    });

    it('commitOffsets and seek POST their requests', async () => {
      const { client, requests } = clientWith([{ status: 204 }, { status: 200, body: { offsets: [{ topic: 'orders', partition: 1, offset: 0 }] } }]);
      const commit = { memberId: 'm-1', generation: 3, offsets: [{ topic: 'orders', partition: 0, offset: 13 }] };
      await client.commitOffsets('billing', commit);
      await expect(client.seek('billing', { topic: 'orders', partitions: [1], to: 'earliest' })).resolves.toEqual({
        offsets: [{ topic: 'orders', partition: 1, offset: 0 }],
      });
      expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
        ['POST', `${ENDPOINT}/groups/billing/offsets`, JSON.stringify(commit)],
        ['POST', `${ENDPOINT}/groups/billing/seek`, '{"topic":"orders","partitions":[1],"to":"earliest"}'],
      ]);
    });

    it.each([
      ['FencedMember', FencedMemberError],
      ['RebalanceInProgress', RebalanceInProgressError],
    ] as const)('commitOffsets rejects 409 %s with its typed error, without a retry', async (code, ErrorClass) => {
      const { client, requests } = clientWith([{ status: 409, body: { error: { code, message: code } } }], { retry: noWait().retry });
      await expect(client.commitOffsets('billing', { memberId: 'm', generation: 1, offsets: [] })).rejects.toBeInstanceOf(ErrorClass);
      expect(requests).toHaveLength(1);
    });

    it('transaction POSTs outputs and commit, giving outputs without an ID a random one kept across retries', async () => {
      const { retry } = noWait();
      const answer = { produced: [{ topic: 'copies', results: [] }], committed: true };
      const { client, requests } = clientWith([new TypeError('fetch failed'), { status: 200, body: answer }], { retry });
      const commit = { group: 'billing', memberId: 'm-1', generation: 3, offsets: [{ topic: 'orders', partition: 0, offset: 13 }] };
      await expect(
        client.transaction({ produce: [{ topic: 'copies', events: [{ value: 1 }, { value: 2, messageId: 'mine' }] }], commit }),
      ).resolves.toEqual(answer);
      const sent = JSON.parse(requests[0]!.body!) as { produce: { events: { messageId: string }[] }[]; commit: unknown };
      expect(sent.produce[0]!.events).toEqual([
        { value: 1, messageId: expect.stringMatching(UUID) },
        { value: 2, messageId: 'mine' },
      ]);
      expect(sent.commit).toEqual(commit);
      expect(requests[1]!.body).toBe(requests[0]!.body);
    });

    it.each([
      ['group', (c: SluiceClient) => c.describeGroup('..'), 'path.group'],
      ['group', (c: SluiceClient) => c.listGroups().then(() => c.joinGroup('a b', { topics: ['t'] })), 'path.group'],
      ['member', (c: SluiceClient) => c.heartbeat('billing', '.'), 'path.memberId'],
    ] as const)('rejects a bad %s name without a request', async (_, call, path) => {
      const { client, requests } = clientWith([{ status: 200, body: { groups: [] } }]);
      const err = await call(client).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as InvalidRequestError).details.issues).toEqual([expect.objectContaining({ path })]);
      expect(requests.filter((r) => r.url.includes('/groups/'))).toHaveLength(0);
    });

    it('consumer() creates a Consumer on this client', () => {
      const { client } = clientWith([]);
      expect(client.consumer({ groupId: 'billing' })).toBeInstanceOf(Consumer);
    });
  });

  describe('Errors', () => {
    it.each([
      [400, 'InvalidRequest', InvalidRequestError],
      [404, 'TopicNotFound', TopicNotFoundError],
      [409, 'TopicAlreadyExists', TopicAlreadyExistsError],
      [404, 'PartitionNotFound', PartitionNotFoundError],
      [416, 'OffsetOutOfRange', OffsetOutOfRangeError],
      [413, 'EventTooLarge', EventTooLargeError],
      [413, 'RequestTooLarge', RequestTooLargeError],
      [400, 'TooManyHeaders', TooManyHeadersError],
      [400, 'KeyTooLarge', KeyTooLargeError],
      [404, 'NotFound', RouteNotFoundError],
      [405, 'MethodNotAllowed', MethodNotAllowedError],
      [429, 'Throttled', ThrottledError],
      [500, 'InternalError', InternalError],
    ] as const)('maps %i %s to its typed error', async (status, code, ErrorClass) => {
      const { client } = clientWith([{ status, body: { error: { code, message: `a ${code}` } } }]);
      const err = await client.listTopics().catch((e: unknown) => e);
      const cause = (err as Error).cause ?? err; // retriable ones arrive inside RetriesExceededError
      expect(cause).toBeInstanceOf(ErrorClass);
      expect(cause).toMatchObject({ code, status, message: `a ${code}` });
    });

    it('keeps the details of the error body', async () => {
      const issues = [{ path: 'body.partitions', message: 'Too big' }];
      const { client } = clientWith([
        { status: 400, body: { error: { code: 'InvalidRequest', message: 'Invalid request', issues } } },
      ]);
      const err = await client.createTopic({ name: 'x', partitions: 5000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as InvalidRequestError).details).toEqual({ issues });
      expect((err as InvalidRequestError).retriable).toBe(false);
    });

    it('does not retry a non-retriable error', async () => {
      const { client, requests } = clientWith(
        [{ status: 404, body: { error: { code: 'TopicNotFound', message: 'no such topic' } } }],
        { retry: { sleep: async () => {} } },
      );
      await expect(client.describeTopic('gone')).rejects.toBeInstanceOf(TopicNotFoundError);
      expect(requests).toHaveLength(1);
    });

    it("maps API Gateway's own 403 body to UnknownApiError with the status and body", async () => {
      const { client } = clientWith([{ status: 403, body: { message: 'Forbidden' } }]);
      const err = await client.listTopics().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownApiError);
      expect((err as UnknownApiError).details).toEqual({ status: 403, body: { message: 'Forbidden' } });
    });

    it('reports a 2xx that is not JSON', async () => {
      const { client } = clientWith([{ status: 200, body: '<html>proxy login</html>' }]);
      const err = await client.listTopics().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownApiError);
      expect((err as Error).message).toMatch(/not JSON/);
    });
  });
});
