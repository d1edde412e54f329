/** The queue methods of SluiceClient and its Queue handle: the requests they send, against a scripted fetch. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, MessageTooLargeError, QueueBusyError, QueueNotFoundError, SluiceClient } from '../../../client';
import { fakeFetch, noWait, routedFetch, type Reply } from './fake-fetch';

const ENDPOINT = 'http://127.0.0.1:4545';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function clientWith(...replies: Reply[]) {
  const { fetch, requests } = fakeFetch(...replies);
  const client = new SluiceClient({ endpoint: ENDPOINT, fetch, retry: { ...noWait().retry, retries: 2 } });
  return { client, requests, bodies: () => requests.map((r) => (r.body === undefined ? undefined : JSON.parse(r.body))) };
}

const ok = (results: unknown) => ({ status: 200, body: { results } });

describe('SluiceClient: queues', () => {
  it('admin methods call their routes', async () => {
    const description = { name: 'jobs' };
    const { client, requests, bodies } = clientWith(
      { status: 201, body: description },
      { status: 200, body: { queues: [] } },
      { status: 200, body: description },
      { status: 200, body: { moved: 1, remaining: 0 } },
      { status: 200, body: { target: 'dead-letters' } },
      { status: 204 },
    );
    expect(await client.createQueue({ name: 'jobs', maxReceiveCount: 3 })).toEqual(description);
    expect(await client.listQueues()).toEqual({ queues: [] });
    expect(await client.describeQueue('jobs')).toEqual(description);
    expect(await client.redriveQueue('jobs', { maxMessages: 5 })).toEqual({ moved: 1, remaining: 0 });
    expect(await client.purgeQueue('jobs', { target: 'dead-letters' })).toEqual({ target: 'dead-letters' });
    await client.deleteQueue('jobs');
    expect(requests.map((r) => `${r.method} ${r.url.slice(ENDPOINT.length)}`)).toEqual([
      'POST /queues',
      'GET /queues',
      'GET /queues/jobs',
      'POST /queues/jobs/redrive',
      'POST /queues/jobs/purge',
      'DELETE /queues/jobs',
    ]);
    expect(bodies()).toEqual([{ name: 'jobs', maxReceiveCount: 3 }, undefined, undefined, { maxMessages: 5 }, { target: 'dead-letters' }, undefined]);
  });

  it.each(['', 'a.b', '..', 'x'.repeat(49), 'with space'])('refuses the queue name %j without a request', async (name) => {
    const { client, requests } = clientWith();
    expect(() => client.queue(name)).toThrow(InvalidRequestError);
    await expect(client.describeQueue(name)).rejects.toMatchObject({ code: 'InvalidRequest', details: { issues: expect.arrayContaining([expect.objectContaining({ path: 'path.queue' })]) } });
    expect(requests).toHaveLength(0);
  });

  it('turns queue errors into their classes; QueueBusy is retried', async () => {
    const busy = { status: 409, body: { error: { code: 'QueueBusy', message: 'deleted recently' } } };
    const { client, requests } = clientWith(busy, { status: 201, body: { name: 'jobs' } }, { status: 404, body: { error: { code: 'QueueNotFound', message: 'gone' } } });
    expect(await client.createQueue({ name: 'jobs' })).toEqual({ name: 'jobs' });
    expect(requests).toHaveLength(2);
    await expect(client.describeQueue('jobs')).rejects.toBeInstanceOf(QueueNotFoundError);
    expect(new QueueBusyError('x').retriable).toBe(true);
  });
});

describe('Class: Queue', () => {
  it('send gives every message without an ID a UUID before the first attempt, so a retry carries the same IDs', async () => {
    const results = [
      { messageId: 'm-1', groupId: 'g', status: 'sent', sequenceNumber: '1' },
      { messageId: 'x', groupId: 'x', status: 'duplicate', sequenceNumber: '2' },
    ];
    const { client, bodies } = clientWith({ status: 500, body: { error: { code: 'InternalError', message: 'blip' } } }, ok(results));
    const messages = [{ body: { n: 1 }, groupId: 'g' }, { body: 'two', messageId: 'x' }];
    expect(await client.queue('jobs').send(messages)).toEqual(results);
    const [first, second] = bodies();
    expect(first.messages[0].messageId).toMatch(UUID);
    expect(first.messages[1]).toEqual({ body: 'two', messageId: 'x' });
    expect(second).toEqual(first);
    expect(messages[0]).toEqual({ body: { n: 1 }, groupId: 'g' }); // not modified
  });

  it('send of nothing makes no request; a 413 is MessageTooLargeError', async () => {
    const { client, requests } = clientWith({ status: 413, body: { error: { code: 'MessageTooLarge', message: 'too big', index: 0, max: 1048576, actual: 2000000 } } });
    expect(await client.queue('jobs').send([])).toEqual([]);
    expect(requests).toHaveLength(0);
    await expect(client.queue('jobs').send([{ body: 'x'.repeat(10) }])).rejects.toMatchObject({ constructor: MessageTooLargeError, details: { index: 0 } });
  });

  it('receive sends its options and gives a long poll its wait on top of the timeout', async () => {
    const message = { messageId: 'm', groupId: 'g', body: 1, receiptHandle: 'rh', receiveCount: 1, sentAt: 1, sequenceNumber: '1' };
    const { client, bodies } = clientWith({ status: 200, body: { messages: [message] } });
    expect(await client.queue('jobs').receive({ maxMessages: 2, waitMs: 20_000, visibilityTimeoutMs: 5000 })).toEqual([message]);
    expect(bodies()).toEqual([{ maxMessages: 2, waitMs: 20_000, visibilityTimeoutMs: 5000 }]);

    // The attempt is allowed 10 s + 20 s: a fetch that answers after 10.5 s is not cut short.
    const slow = routedFetch((_r, _i, signal) =>
      new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => resolve({ status: 200, body: { messages: [] } }), 50);
        signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)));
      }),
    );
    const tight = new SluiceClient({ endpoint: ENDPOINT, fetch: slow.fetch, timeoutMs: 10, retry: { isRetriable: () => false } });
    expect(await tight.queue('jobs').receive({ waitMs: 1000 })).toEqual([]);
    await expect(tight.queue('jobs').receive()).rejects.toMatchObject({ code: 'ConnectionError' });
  });

  it('receive rejects with the reason of an aborted signal, without retrying', async () => {
    const hanging = routedFetch((_r, _i, signal) => new Promise<Reply>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))));
    const client = new SluiceClient({ endpoint: ENDPOINT, fetch: hanging.fetch });
    const controller = new AbortController();
    const receiving = client.queue('jobs').receive({ waitMs: 20_000, signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(receiving).rejects.toThrow('stopped');
    expect(hanging.requests).toHaveLength(1);
  });

  it('ack, nack and extend take handles or messages, in requests of at most 100, results in order', async () => {
    const handles = Array.from({ length: 150 }, (_, i) => `rh-${i}`);
    const answer = (body: string | undefined) =>
      ok((JSON.parse(body!) as { receiptHandles: string[] }).receiptHandles.map((receiptHandle) => ({ receiptHandle, status: 'ok' })));
    const routed = routedFetch((request) => answer(request.body));
    const queue = new SluiceClient({ endpoint: ENDPOINT, fetch: routed.fetch }).queue('jobs');

    const acked = await queue.ack(handles.map((receiptHandle) => ({ receiptHandle })));
    expect(acked.map((r) => r.receiptHandle)).toEqual(handles);
    await queue.nack(['rh-a'], { delayMs: 1500 });
    await queue.nack(['rh-b']);
    await queue.extend(['rh-c'], 60_000);
    expect(await queue.ack([])).toEqual([]);

    const sent = routed.requests.map((r) => ({ path: r.url.slice(ENDPOINT.length), body: JSON.parse(r.body!) }));
    expect(sent.map((s) => [s.path, s.body.receiptHandles.length])).toEqual([
      ['/queues/jobs/ack', 100],
      ['/queues/jobs/ack', 50],
      ['/queues/jobs/nack', 1],
      ['/queues/jobs/nack', 1],
      ['/queues/jobs/extend', 1],
    ]);
    expect(sent.slice(2).map((s) => s.body)).toEqual([
      { receiptHandles: ['rh-a'], delayMs: 1500 },
      { receiptHandles: ['rh-b'] },
      { receiptHandles: ['rh-c'], visibilityTimeoutMs: 60_000 },
    ]);
  });
});
