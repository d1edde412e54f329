import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  InternalError,
  RetriesExceededError,
  SluiceClient,
  ThrottledError,
  TopicAlreadyExistsError,
} from '../../../client';
import { connectionRefused, fakeFetch, noWait, TOPIC, type Reply } from './fake-fetch';

const ENDPOINT = 'http://127.0.0.1:4545';
const throttled: Reply = { status: 429, body: { error: { code: 'Throttled', message: 'slow down' } } };
const internal: Reply = { status: 500, body: { error: { code: 'InternalError', message: 'boom' } } };

function clientWith(replies: Reply[], retries = 5) {
  const { fetch, requests } = fakeFetch(...replies);
  const { retry, delays } = noWait();
  const client = new SluiceClient({ endpoint: ENDPOINT, fetch, retry: { ...retry, retries } });
  return { client, requests, delays };
}

describe('Class: SluiceClient (retries)', () => {
  it('retries 429 and 500 with the same request, then returns the answer', async () => {
    // GIVEN
    const { client, requests, delays } = clientWith([throttled, internal, { status: 201, body: TOPIC }]);
    // WHEN
    const topic = await client.createTopic({ name: 'orders', partitions: 3 });
    // THEN
    expect(topic).toEqual(TOPIC);
    expect(requests).toHaveLength(3);
    for (const request of requests) expect(request).toEqual(requests[0]);
    expect(requests[0]).toMatchObject({ method: 'POST', url: `${ENDPOINT}/topics`, body: '{"name":"orders","partitions":3}' });
    expect(delays).toEqual([125, 250]); // full jitter (random 0.5) over 250 ms, then 500 ms
  });

  it('retries a connection failure', async () => {
    const { client, requests } = clientWith([connectionRefused(), { status: 200, body: { topics: [] } }]);
    await expect(client.listTopics()).resolves.toEqual({ topics: [] });
    expect(requests).toHaveLength(2);
  });

  it('gives up with RetriesExceededError carrying the count and the last error', async () => {
    const { client, requests, delays } = clientWith([throttled, internal, throttled], 2);
    const err = await client.listTopics().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExceededError);
    expect((err as RetriesExceededError).attempts).toBe(3);
    expect((err as RetriesExceededError).cause).toBeInstanceOf(ThrottledError);
    expect(requests).toHaveLength(3);
    expect(delays).toHaveLength(2);
  });

  it('gives up on an unreachable endpoint with a ConnectionError naming it', async () => {
    const { client } = clientWith([connectionRefused(), connectionRefused()], 1);
    const err = await client.listTopics().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExceededError);
    const cause = (err as RetriesExceededError).cause as ConnectionError;
    expect(cause).toBeInstanceOf(ConnectionError);
    expect(cause.message).toBe('Cannot reach http://127.0.0.1:4545: ECONNREFUSED');
    expect(cause.details).toEqual({ endpoint: 'http://127.0.0.1:4545' });
  });

  it('turns a timeout into a retriable ConnectionError', async () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const { fetch } = fakeFetch(timeout);
    const client = new SluiceClient({ endpoint: ENDPOINT, fetch, timeoutMs: 250, retry: { retries: 0 } });
    const err = await client.listTopics().catch((e: unknown) => e);
    const cause = (err as RetriesExceededError).cause as ConnectionError;
    expect(cause).toBeInstanceOf(ConnectionError);
    expect(cause.message).toBe('Cannot reach http://127.0.0.1:4545: no response within 250 ms');
  });

  it('answers TopicAlreadyExists when a create is retried after it succeeded (documented)', async () => {
    // The first response is lost (500 after the write); the retry finds the topic.
    const exists: Reply = { status: 409, body: { error: { code: 'TopicAlreadyExists', message: 'exists' } } };
    const { client } = clientWith([internal, exists]);
    await expect(client.createTopic({ name: 'orders' })).rejects.toBeInstanceOf(TopicAlreadyExistsError);
  });

  it('does not retry with retries: 0', async () => {
    const { client, requests } = clientWith([internal], 0);
    const err = await client.listTopics().catch((e: unknown) => e);
    expect((err as RetriesExceededError).cause).toBeInstanceOf(InternalError);
    expect(requests).toHaveLength(1);
  });
});
