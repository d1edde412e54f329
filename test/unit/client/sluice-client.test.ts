import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  RouteNotFoundError,
  SluiceClient,
  ThrottledError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
  UnknownApiError,
  type SluiceClientOptions,
} from '../../../client';
import { fakeFetch, TOPIC, TOPIC_DESCRIPTION, type Reply } from './fake-fetch';

const ENDPOINT = 'http://127.0.0.1:4545';

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

  describe('Errors', () => {
    it.each([
      [400, 'InvalidRequest', InvalidRequestError],
      [404, 'TopicNotFound', TopicNotFoundError],
      [409, 'TopicAlreadyExists', TopicAlreadyExistsError],
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
