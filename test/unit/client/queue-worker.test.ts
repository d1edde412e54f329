/**
 * QueueWorker's scheduling against a scripted queue: what the local SQS server cannot show (it
 * answers at most one message per group per receive, where SQS answers several), and the exact
 * calls it makes. Against the real platform: test/integration/queue-client.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { QueueNotFoundError } from '../../../api/errors';
import type { QueueMessage, ReceiptResult } from '../../../api/queues';
import { waitFor } from '../../../local/support';
import { QueueWorker, type QueueWorkerOptions, type WorkerQueue } from '../../../client';

function message(id: string, groupId: string, receiveCount = 1): QueueMessage {
  return { messageId: id, groupId, body: { id }, receiptHandle: `rh-${id}`, receiveCount, sentAt: 0, sequenceNumber: '1' };
}

type Call =
  | { readonly op: 'ack'; readonly handles: string[] }
  | { readonly op: 'nack'; readonly handles: string[]; readonly delayMs: number | undefined }
  | { readonly op: 'extend'; readonly handles: string[]; readonly ms: number };

/** Answers `batches` one receive at a time, then long-polls until aborted; records every call. */
class ScriptedQueue implements WorkerQueue {
  readonly name = 'jobs';
  readonly calls: Call[] = [];
  receives = 0;
  lastSignal: AbortSignal | undefined;
  constructor(private readonly batches: (QueueMessage[] | Error)[]) {}

  async receive(options: { signal?: AbortSignal } = {}): Promise<QueueMessage[]> {
    this.receives++;
    this.lastSignal = options.signal;
    const next = this.batches.shift();
    if (next instanceof Error) throw next;
    if (next) return next;
    return new Promise((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
  }

  async ack(receipts: readonly (string | { receiptHandle: string })[]): Promise<ReceiptResult[]> {
    return this.#record({ op: 'ack', handles: handles(receipts) });
  }

  async nack(receipts: readonly (string | { receiptHandle: string })[], options: { delayMs?: number } = {}): Promise<ReceiptResult[]> {
    return this.#record({ op: 'nack', handles: handles(receipts), delayMs: options.delayMs });
  }

  async extend(receipts: readonly (string | { receiptHandle: string })[], ms: number): Promise<ReceiptResult[]> {
    return this.#record({ op: 'extend', handles: handles(receipts), ms });
  }

  of(op: Call['op']): Call[] {
    return this.calls.filter((c) => c.op === op);
  }

  #record(call: Call): ReceiptResult[] {
    this.calls.push(call);
    return call.handles.map((receiptHandle) => ({ receiptHandle, status: 'ok' }));
  }
}

function handles(receipts: readonly (string | { receiptHandle: string })[]): string[] {
  return receipts.map((r) => (typeof r === 'string' ? r : r.receiptHandle));
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const FAST: QueueWorkerOptions = { waitMs: 0, visibilityTimeoutMs: 60_000, extendIntervalMs: 30_000 };

describe('Class: QueueWorker', () => {
  it("runs a group's messages one after the other, in order, and different groups at the same time", async () => {
    const queue = new ScriptedQueue([[message('a1', 'a'), message('b1', 'b'), message('a2', 'a'), message('b2', 'b')]]);
    const worker = new QueueWorker(queue, FAST);
    const log: string[] = [];
    const release = new Map(['a1', 'a2', 'b1', 'b2'].map((id) => [id, deferred()]));
    const running = worker.run({
      eachMessage: async ({ queue: name, message: m }) => {
        expect(name).toBe('jobs');
        log.push(`start ${m.messageId}`);
        await release.get(m.messageId)!.promise;
        log.push(`end ${m.messageId}`);
      },
    });

    await waitFor(async () => log.length === 2 || undefined, { timeoutMs: 2000, what: 'both groups to start' });
    expect(log).toEqual(['start a1', 'start b1']); // a2 waits for a1, b2 for b1
    release.get('a2')!.resolve(); // finishing a2 early changes nothing: it has not started
    release.get('a1')!.resolve();
    await waitFor(async () => log.includes('end a2') || undefined, { timeoutMs: 2000, what: 'a2 to run after a1' });
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log).not.toContain('start b2');
    release.get('b1')!.resolve();
    release.get('b2')!.resolve();
    await waitFor(async () => queue.of('ack').length === 4 || undefined, { timeoutMs: 2000, what: 'all four acks' });
    // Each message acked on its own, right after its handler, a1 before a2.
    const acked = queue.of('ack').flatMap((c) => c.handles);
    expect(acked.indexOf('rh-a1')).toBeLessThan(acked.indexOf('rh-a2'));
    expect(acked.indexOf('rh-b1')).toBeLessThan(acked.indexOf('rh-b2'));
    expect(queue.of('nack')).toEqual([]);
    await worker.stop();
    await expect(running).resolves.toBeUndefined();
  });

  it('nacks a failed message with a backoff grown by its receive count, holds back the rest of its group with it, and goes on with other groups', async () => {
    const queue = new ScriptedQueue([[message('a1', 'a', 3), message('b1', 'b'), message('a2', 'a', 3)], [message('c1', 'c', 1)]]);
    const warnings: { message: string; details: Record<string, unknown> }[] = [];
    const worker = new QueueWorker(queue, {
      ...FAST,
      backoff: { initialDelayMs: 1000, multiplier: 2, maxDelayMs: 60_000, random: () => 1 },
      logger: { warn: (m, details) => void warnings.push({ message: m, details: { ...details } }) },
    });
    const ran: string[] = [];
    const running = worker.run({
      eachMessage: async ({ message: m }) => {
        ran.push(m.messageId);
        if (m.groupId !== 'b') throw new Error(`boom ${m.messageId}`);
      },
    });
    await waitFor(async () => queue.of('nack').length === 2 || undefined, { timeoutMs: 2000, what: 'two nacks' });
    await worker.stop();
    await running;

    expect(ran).toEqual(['a1', 'b1', 'c1']); // a2 never ran: a1 failed ahead of it
    // receiveCount 3: min(60000, 1000 × 2^2) with random() = 1; receiveCount 1: 1000.
    expect(queue.of('nack')).toEqual([
      { op: 'nack', handles: ['rh-a1', 'rh-a2'], delayMs: 4000 },
      { op: 'nack', handles: ['rh-c1'], delayMs: 1000 },
    ]);
    expect(queue.of('ack')).toEqual([{ op: 'ack', handles: ['rh-b1'] }]);
    expect(warnings[0]).toMatchObject({ message: 'handler failed: message nacked', details: { messageId: 'a1', receiveCount: 3, delayMs: 4000 } });
    expect((warnings[0]!.details.error as Error).message).toBe('boom a1');
  });

  it('extends the visibility of every held message, those waiting behind their group too, and no longer once resolved', async () => {
    const queue = new ScriptedQueue([[message('a1', 'a'), message('a2', 'a')]]);
    const worker = new QueueWorker(queue, { waitMs: 0, visibilityTimeoutMs: 5000, extendIntervalMs: 20 });
    const running = worker.run({
      eachMessage: async ({ message: m }) => {
        // Each handler outlasts two extension intervals.
        const seen = queue.of('extend').length;
        await waitFor(async () => queue.of('extend').length >= seen + 2 || undefined, { timeoutMs: 2000, what: 'two extensions' });
        void m;
      },
    });
    await waitFor(async () => queue.of('ack').length === 2 || undefined, { timeoutMs: 4000, what: 'both acks' });
    await worker.stop();
    await running;

    const calls = queue.calls;
    const firstAck = calls.findIndex((c) => c.op === 'ack');
    const before = calls.slice(0, firstAck).filter((c) => c.op === 'extend');
    const after = calls.slice(firstAck + 1).filter((c) => c.op === 'extend');
    expect(before.length).toBeGreaterThanOrEqual(2);
    for (const c of before) expect(c).toEqual({ op: 'extend', handles: ['rh-a1', 'rh-a2'], ms: 5000 });
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (const c of after) expect(c).toEqual({ op: 'extend', handles: ['rh-a2'], ms: 5000 });
    // None after the batch was resolved.
    const lastAck = calls.findLastIndex((c) => c.op === 'ack');
    expect(calls.slice(lastAck + 1).filter((c) => c.op === 'extend')).toEqual([]);
  });

  it('stop() abandons a waiting long poll at once', async () => {
    const queue = new ScriptedQueue([]);
    const worker = new QueueWorker(queue, { waitMs: 20_000 });
    const running = worker.run({ eachMessage: async () => undefined });
    await waitFor(async () => queue.receives === 1 || undefined, { timeoutMs: 2000, what: 'the long poll' });
    const started = Date.now();
    await worker.stop();
    await expect(running).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
    expect(queue.lastSignal?.aborted).toBe(true);
    expect(queue.receives).toBe(1);
  });

  it('stop() while a handler runs: it finishes and is acked, the messages not started are made visible at once, and no new poll starts', async () => {
    const queue = new ScriptedQueue([[message('a1', 'a'), message('a2', 'a'), message('b1', 'b')], [message('x', 'x')]]);
    const worker = new QueueWorker(queue, FAST);
    const gate = deferred();
    const ran: string[] = [];
    const running = worker.run({
      eachMessage: async ({ message: m }) => {
        ran.push(m.messageId);
        if (m.messageId === 'a1') await gate.promise;
      },
    });
    await waitFor(async () => (ran.includes('a1') && queue.of('ack').length === 1) || undefined, { timeoutMs: 2000, what: 'a1 to run and b1 to be acked' });
    const stopped = worker.stop();
    gate.resolve();
    await stopped;
    await running;

    expect(ran).toEqual(['a1', 'b1']);
    expect(queue.of('ack')).toEqual([
      { op: 'ack', handles: ['rh-b1'] },
      { op: 'ack', handles: ['rh-a1'] },
    ]);
    expect(queue.of('nack')).toEqual([{ op: 'nack', handles: ['rh-a2'], delayMs: 0 }]);
    expect(queue.receives).toBe(1);
  });

  it('run() rejects when a receive fails for good, not when a handler fails', async () => {
    const gone = new QueueNotFoundError('Queue "jobs" does not exist');
    const worker = new QueueWorker(new ScriptedQueue([[message('a1', 'a')], gone]), FAST);
    await expect(worker.run({ eachMessage: async () => Promise.reject(new Error('handler')) })).rejects.toBe(gone);
    await expect(worker.run({ eachMessage: async () => undefined })).rejects.toThrow('run() was already called');
  });

  it('reports an ack the queue refuses and goes on', async () => {
    const queue = new ScriptedQueue([[message('a1', 'a')], [message('a2', 'a')]]);
    queue.ack = async (receipts) =>
      handles(receipts).map((receiptHandle) => ({ receiptHandle, status: 'failed', error: { code: 'ReceiptHandleIsInvalid', message: 'expired' } }));
    const warnings: string[] = [];
    const worker = new QueueWorker(queue, { ...FAST, logger: { warn: (m, d) => void warnings.push(`${m} ${d.receiptHandle}`) } });
    const ran: string[] = [];
    const running = worker.run({ eachMessage: async ({ message: m }) => void ran.push(m.messageId) });
    await waitFor(async () => ran.length === 2 || undefined, { timeoutMs: 2000, what: 'both messages' });
    await worker.stop();
    await running;
    expect(warnings.slice(0, 1)).toEqual(['ack failed rh-a1']);
  });

  it('refuses options that break their rules, naming each', () => {
    const queue = new ScriptedQueue([]);
    expect(() => new QueueWorker(queue, { maxMessages: 11, waitMs: 20_001, visibilityTimeoutMs: 999 })).toThrow(
      /maxMessages must be an integer from 1 to 10; waitMs must be an integer from 0 to 20000; visibilityTimeoutMs must be an integer from 1000/,
    );
    expect(() => new QueueWorker(queue, { visibilityTimeoutMs: 3000, extendIntervalMs: 3000 })).toThrow('extendIntervalMs must be above 0 and below visibilityTimeoutMs');
    expect(() => new QueueWorker(queue, { backoff: { multiplier: 0.5 } })).toThrow('backoff.multiplier');
    expect(() => new QueueWorker(queue)).not.toThrow();
  });
});
