/**
 * A fake Sluice group service behind `routedFetch`, for Consumer tests: one topic, members with a
 * simple round-robin assignment and a generation that goes up on every membership change,
 * positions per member and generation, fenced commits and transactions, seek. A records call with
 * nothing to answer waits (a long poll) until events are appended, the group changes, or the
 * request is aborted. Every call is written to `trace`, where tests add their handler's steps, so
 * the order of commits and processing can be asserted.
 */
import type { FetchedEvent } from '../../../api/events';
import type { TransactionRequest } from '../../../api/groups';
import { routedFetch, type RecordedRequest, type Reply } from './fake-fetch';

export const GROUP = 'billing';

/** The fields of the request bodies the fake reads. */
interface RequestBody {
  readonly memberId: string;
  readonly generation: number;
  readonly offsets: readonly { readonly partition: number; readonly offset: number }[];
  readonly partitions: readonly number[];
  readonly to: { readonly offset: number } | string;
}
export const TOPIC_NAME = 'orders';

export function fakeGroup(options: { readonly partitions?: number } = {}) {
  const partitions = options.partitions ?? 2;
  const log: FetchedEvent[][] = Array.from({ length: partitions }, () => []);
  const members = new Set<string>();
  let generation = 0;
  let owners = new Map<number, string>();
  const committed = new Map<number, number>();
  const positions = new Map<string, number>();
  const trace: string[] = [];
  const transactions: TransactionRequest[] = [];
  const interceptors: { readonly method: string; readonly suffix: string; readonly reply: Reply }[] = [];
  let waiters: (() => void)[] = [];
  let idle: (() => void)[] = [];

  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  };
  const rebalance = () => {
    generation++;
    const ids = [...members].sort();
    owners = new Map(ids.length === 0 ? [] : Array.from({ length: partitions }, (_, p) => [p, ids[p % ids.length]!]));
    wake();
  };
  const owned = (memberId: string) => [...owners].filter(([, m]) => m === memberId).map(([p]) => p);
  const membership = (memberId: string) => ({
    memberId,
    generation,
    assignments: owned(memberId).map((partition) => ({ topic: TOPIC_NAME, partition, committedOffset: committed.get(partition) ?? null })),
  });
  const positionKey = (memberId: string, p: number) => `${memberId}#${generation}#${p}`;
  const error = (status: number, code: string): Reply => ({ status, body: { error: { code, message: code } } });
  /** The fence of a commit: generation first, then membership and ownership (as the service checks). */
  const fence = (body: { memberId: string; generation: number; offsets: readonly { partition: number }[] }): Reply | undefined => {
    if (!members.has(body.memberId)) return error(409, 'FencedMember');
    if (body.generation !== generation) return error(409, 'RebalanceInProgress');
    if (body.offsets.some((o) => owners.get(o.partition) !== body.memberId)) return error(409, 'FencedMember');
    return undefined;
  };

  async function records(memberId: string, query: URLSearchParams, signal: AbortSignal | undefined): Promise<Reply> {
    for (;;) {
      if (!members.has(memberId)) return error(409, 'FencedMember');
      const max = Number(query.get('maxRecords') ?? 500);
      const found: FetchedEvent[] = [];
      const moved = new Map<number, number>();
      for (const p of owned(memberId)) {
        const start = positions.get(positionKey(memberId, p)) ?? committed.get(p) ?? 0;
        const page = log[p]!.slice(start, start + max - found.length);
        found.push(...page);
        moved.set(p, start + page.length);
      }
      for (const [p, offset] of moved) positions.set(positionKey(memberId, p), offset);
      if (found.length > 0 || query.get('waitMs') === '0') {
        const commit = query.get('commit') === 'true';
        if (commit) for (const [p, offset] of moved) committed.set(p, offset);
        trace.push(commit ? 'records+commit' : 'records');
        return { status: 200, body: { memberId, generation, records: found } };
      }
      const notify = idle;
      idle = [];
      for (const resolve of notify) resolve();
      await new Promise<void>((resolve, reject) => {
        waiters.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
  }

  const { fetch, requests } = routedFetch(async (request: RecordedRequest, _index, signal) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    const at = interceptors.findIndex((i) => i.method === request.method && url.pathname.endsWith(i.suffix));
    if (at >= 0) {
      const { method, suffix, reply } = interceptors.splice(at, 1)[0]!;
      trace.push(`${method} ${suffix} -> ${reply instanceof Error ? reply.message : reply.status}`);
      return reply;
    }
    const body = (request.body === undefined ? {} : JSON.parse(request.body)) as RequestBody;
    const [, , , , memberId, action] = url.pathname.split('/');
    if (route === `POST /groups/${GROUP}/members`) {
      const id = body.memberId;
      trace.push(`join ${id}`);
      if (!members.has(id)) {
        members.add(id);
        rebalance();
      }
      return { status: 200, body: membership(id) };
    }
    if (action === 'heartbeat') {
      if (!members.has(memberId!)) return error(409, 'FencedMember');
      trace.push('heartbeat');
      return { status: 200, body: { ...membership(memberId!), rebalanced: body.generation !== generation } };
    }
    if (action === 'records') return records(memberId!, url.searchParams, signal);
    if (request.method === 'DELETE') {
      if (!members.delete(memberId!)) return error(409, 'FencedMember');
      trace.push(`leave ${memberId}`);
      rebalance();
      return { status: 204 };
    }
    if (route === `POST /groups/${GROUP}/offsets`) {
      const refused = fence(body);
      if (refused) return refused;
      for (const o of body.offsets) committed.set(o.partition, o.offset);
      trace.push(`commit ${body.offsets.map((o) => `${o.partition}=${o.offset}`).join(',')}`);
      return { status: 204 };
    }
    if (route === `POST /groups/${GROUP}/seek`) {
      const { partitions: ps, to } = body;
      for (const p of ps) {
        const offset = typeof to === 'string' ? 0 : to.offset;
        committed.set(p, offset);
        for (const key of [...positions.keys()]) if (key.endsWith(`#${p}`)) positions.delete(key);
      }
      trace.push(`seek ${ps.join(',')}=${JSON.stringify(to)}`);
      return { status: 200, body: { offsets: ps.map((partition) => ({ topic: TOPIC_NAME, partition, offset: committed.get(partition) })) } };
    }
    if (route === 'POST /transactions') {
      const tx = body as unknown as TransactionRequest;
      const refused = tx.commit && fence(tx.commit);
      if (refused) return refused;
      transactions.push(tx);
      for (const o of tx.commit?.offsets ?? []) committed.set(o.partition, o.offset);
      trace.push(`transaction ${tx.commit?.offsets.map((o) => `${o.partition}=${o.offset}`).join(',')}`);
      return { status: 200, body: { produced: [], committed: tx.commit !== undefined } };
    }
    return error(404, 'NotFound');
  });

  return {
    fetch,
    requests,
    trace,
    transactions,
    committed,
    get generation() {
      return generation;
    },
    owned,
    /** Resolves the next time a records call has nothing to answer and waits (the consumer is idle). */
    whenWaiting(): Promise<void> {
      return new Promise((resolve) => idle.push(resolve));
    },
    /** Appends events with values `values` to partition `p`. */
    append(p: number, ...values: unknown[]) {
      for (const value of values) {
        const offset = log[p]!.length;
        log[p]!.push({ topic: TOPIC_NAME, partition: p, offset, key: null, value, headers: {}, timestamp: 1_764_072_000_000 + offset, messageId: `m-${p}-${offset}` });
      }
      wake();
    },
    /** Another member joins (a rebalance). */
    join(memberId: string) {
      members.add(memberId);
      rebalance();
    },
    /** The member's session times out (a rebalance); its next call is fenced. */
    expire(memberId: string) {
      members.delete(memberId);
      rebalance();
    },
    /** The next `method` request whose path ends with `suffix` (e.g. "/offsets", "/records") gets `reply`. */
    intercept(method: string, suffix: string, reply: Reply) {
      interceptors.push({ method, suffix, reply });
    },
    /** Events as a producer would send them, for comparing outputs. */
    events(p: number): readonly FetchedEvent[] {
      return log[p]!;
    },
  };
}

export type FakeGroup = ReturnType<typeof fakeGroup>;
