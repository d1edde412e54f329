/**
 * Stateful nodes: aggregations (plain, time-windowed, session-windowed), tables and joins. All state
 * goes through `StateAccess`; every entry that belongs to a window carries `expiresAt`, and every read
 * ignores entries whose window has closed by stream time, so results never depend on when the
 * runtime actually deletes expired entries.
 */
import { DEAD_LETTER_METRIC, deadLetterRecord, deadLetterTopic, type StateAccess } from '../topology';
import { BufferedContext } from './buffered-context';
import { StreamRecordError } from './errors';
import { Graph, Invocation, Node, type Rec } from './graph';
import { afterAscii, checkTimestamp, keyPrefix, pad } from './keys';
import type { Serde } from './serde';
import type { JoinWindows, SessionWindows, TimeWindows } from './windows';

/** Metric names (ProcessorContext.count). */
export const METRICS = {
  /** A record too late for every window it belongs to (stream time past window end + grace). */
  lateDropped: 'lateDropped',
  /** A record without a key reaching an operation that needs one (aggregations, joins, tables). */
  nullKeyDropped: 'nullKeyDropped',
  /** A record with a null value reaching an aggregation (Kafka skips these too). */
  nullValueDropped: 'nullValueDropped',
} as const;

/** How an aggregation folds values. */
export interface Aggregation {
  /** The accumulator before the first value; `undefined` for reduce (the first value is the accumulator). */
  initial(): unknown;
  add(accumulator: unknown, value: unknown, key: string): unknown;
  /** Combines two sessions' accumulators (session windows only). */
  merge?(left: unknown, right: unknown, key: string): unknown;
}

function checked(result: unknown, what: string): unknown {
  if (result === undefined) throw new StreamRecordError(`${what} returned undefined; state values must be JSON`);
  return result;
}

/** Aggregations and joins need a key; aggregations also skip null values (as Kafka does). */
function keyOf(record: Rec, inv: Invocation, dropNullValue: boolean): string | undefined {
  if (record.key === null) {
    inv.ctx.count(METRICS.nullKeyDropped);
    return undefined;
  }
  if (dropNullValue && record.value === null) {
    inv.ctx.count(METRICS.nullValueDropped);
    return undefined;
  }
  return record.key;
}

/** A KTable's materialized state, as a join reads it. */
export interface TableState {
  readonly node: Node;
  readonly store: string;
  readonly windowed: boolean;
  lookup(state: StateAccess, key: string): Promise<unknown>;
}

/** The value of a windowed aggregation's output record: the group key, the window and the aggregate. */
export interface Windowed<V> {
  readonly key: string;
  readonly window: { readonly start: number; readonly end: number };
  readonly value: V;
}

/** Latest value per key of a topic; a null value deletes the key. */
export class TableSourceNode extends Node implements TableState {
  readonly windowed = false;

  constructor(
    graph: Graph,
    private readonly topic: string,
    readonly store: string,
    private readonly serde: Serde<unknown> | undefined,
  ) {
    super(graph, 'table-source', [], false);
  }

  get node(): Node {
    return this;
  }

  override get sourceTopic(): string {
    return this.topic;
  }

  override get stores(): readonly string[] {
    return [this.store];
  }

  override copartition(): ReadonlySet<string>[] {
    return [new Set([this.topic])];
  }

  async lookup(state: StateAccess, key: string): Promise<unknown> {
    // The store keeps the topic's JSON, so a serde runs on read (state is JSON either way).
    const raw = await state.get<unknown>(this.store, key);
    return raw === undefined || !this.serde ? raw : this.serde.deserialize(raw);
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    const key = keyOf(record, inv, false);
    if (key === undefined) return;
    if (record.value === null) inv.ctx.state.delete(this.store, key);
    else inv.ctx.state.put(this.store, key, record.value);
    const value = record.value === null || !this.serde ? record.value : this.serde.deserialize(record.value);
    await this.forward({ ...record, value }, inv);
  }

  override detail(): string {
    return `topic: ${this.topic}, store: ${this.store}`;
  }
}

/** count / reduce / aggregate per key, forever. Forwards each new aggregate. */
export class AggregateNode extends Node implements TableState {
  readonly windowed = false;

  constructor(
    graph: Graph,
    kind: string,
    parent: Node,
    readonly store: string,
    private readonly aggregation: Aggregation,
  ) {
    super(graph, kind, [parent], false);
  }

  get node(): Node {
    return this;
  }

  override get stores(): readonly string[] {
    return [this.store];
  }

  override copartition(topicsOf: (node: Node) => ReadonlySet<string>): ReadonlySet<string>[] {
    return [topicsOf(this.parents[0]!)];
  }

  lookup(state: StateAccess, key: string): Promise<unknown> {
    return state.get<unknown>(this.store, key);
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    const key = keyOf(record, inv, true);
    if (key === undefined) return;
    const previous = await inv.ctx.state.get<unknown>(this.store, key);
    const accumulator = previous === undefined ? this.aggregation.initial() : previous;
    const next = checked(this.aggregation.add(accumulator, record.value, key), this.name);
    inv.ctx.state.put(this.store, key, next);
    await this.forward({ ...record, key, value: next }, inv);
  }

  override detail(): string {
    return `store: ${this.store}`;
  }
}

/**
 * What the windowed aggregations share: one parent (co-partitioned with it), one store keyed by
 * key and window, and no lookup by key alone.
 */
abstract class WindowedAggregateNode<W> extends Node implements TableState {
  readonly windowed = true;

  constructor(
    graph: Graph,
    kind: string,
    parent: Node,
    readonly store: string,
    protected readonly windows: W,
    protected readonly aggregation: Aggregation,
  ) {
    super(graph, kind, [parent], false);
  }

  get node(): Node {
    return this;
  }

  override get stores(): readonly string[] {
    return [this.store];
  }

  override copartition(topicsOf: (node: Node) => ReadonlySet<string>): ReadonlySet<string>[] {
    return [topicsOf(this.parents[0]!)];
  }

  lookup(): Promise<unknown> {
    throw new Error('a windowed table cannot be looked up by key');
  }
}

/**
 * count / reduce / aggregate per key and time window (tumbling or hopping). State key: key prefix +
 * padded window start. Forwards `Windowed` values, one per open window the record falls in.
 */
export class TimeWindowAggregateNode extends WindowedAggregateNode<TimeWindows> {
  async receive(record: Rec, inv: Invocation): Promise<void> {
    const key = keyOf(record, inv, true);
    if (key === undefined) return;
    checkTimestamp(record.timestamp, this.name);
    const { state, streamTime } = inv.ctx;
    const open = this.windows.windowsFor(record.timestamp).filter((w) => streamTime < w.end + this.windows.graceMs);
    if (open.length === 0) {
      inv.ctx.count(METRICS.lateDropped);
      return;
    }
    for (const window of open) {
      const stateKey = keyPrefix(key) + pad(window.start);
      const previous = await state.get<unknown>(this.store, stateKey);
      const accumulator = previous === undefined ? this.aggregation.initial() : previous;
      const next = checked(this.aggregation.add(accumulator, record.value, key), this.name);
      state.put(this.store, stateKey, next, { expiresAt: window.end + this.windows.graceMs });
      const value: Windowed<unknown> = { key, window: { start: window.start, end: window.end }, value: next };
      await this.forward({ ...record, key, value }, inv);
    }
  }

  override detail(): string {
    return `${this.windows.toString()}, store: ${this.store}`;
  }
}

interface SessionEntry {
  readonly start: number;
  readonly end: number;
  readonly aggregate: unknown;
}

/**
 * count / reduce / aggregate per key and session. State key: key prefix + padded end + padded start,
 * so the sessions a record can touch (end >= ts - gap) are one range read. A session is open while
 * stream time <= end + gap + grace; closed sessions are ignored (never merged, never updated).
 * Sessions merged into a larger one are forwarded with value null (tombstones), then the merged one.
 */
export class SessionAggregateNode extends WindowedAggregateNode<SessionWindows> {
  async receive(record: Rec, inv: Invocation): Promise<void> {
    const key = keyOf(record, inv, true);
    if (key === undefined) return;
    checkTimestamp(record.timestamp, this.name);
    const { state, streamTime } = inv.ctx;
    const gap = this.windows.inactivityGapMs;
    const closeAfter = gap + this.windows.graceMs;
    const ts = record.timestamp;
    const prefix = keyPrefix(key);
    const touching = (await state.range<SessionEntry>(this.store, prefix, prefix + pad(ts - gap)))
      .filter(({ value: s }) => s.start <= ts + gap && streamTime <= s.end + closeAfter)
      .map(({ key: stateKey, value }) => ({ stateKey, ...value }));
    if (touching.length === 0 && streamTime > ts + closeAfter) {
      inv.ctx.count(METRICS.lateDropped);
      return;
    }
    const merge = this.aggregation.merge;
    if (!merge) throw new Error(`${this.name}: session aggregation without a merger`);
    let start = ts;
    let end = ts;
    let accumulator = this.aggregation.initial();
    for (const session of touching) {
      start = Math.min(start, session.start);
      end = Math.max(end, session.end);
      accumulator = checked(merge(accumulator, session.aggregate, key), `${this.name} merger`);
    }
    accumulator = checked(this.aggregation.add(accumulator, record.value, key), this.name);
    const mergedKey = prefix + pad(end) + pad(start);
    for (const session of touching) {
      if (session.stateKey === mergedKey) continue;
      state.delete(this.store, session.stateKey);
      const tombstone: Windowed<null> = { key, window: { start: session.start, end: session.end }, value: null };
      await this.forward({ ...record, key, value: tombstone }, inv);
    }
    const entry: SessionEntry = { start, end, aggregate: accumulator };
    state.put(this.store, mergedKey, entry, { expiresAt: end + closeAfter });
    const value: Windowed<unknown> = { key, window: { start, end }, value: accumulator };
    await this.forward({ ...record, key, value }, inv);
  }

  override detail(): string {
    return `${this.windows.toString()}, store: ${this.store}`;
  }
}

/** Stream-table join: each stream record looks up the table's current value for its key. */
export class StreamTableJoinNode extends Node {
  constructor(
    graph: Graph,
    kind: string,
    parent: Node,
    private readonly table: TableState,
    private readonly joiner: (value: unknown, row: unknown, key: string | null) => unknown,
    private readonly outer: boolean,
  ) {
    super(graph, kind, [parent], false);
  }

  override get coLocated(): readonly Node[] {
    return [this.table.node];
  }

  override copartition(topicsOf: (node: Node) => ReadonlySet<string>): ReadonlySet<string>[] {
    return [new Set([...topicsOf(this.parents[0]!), ...topicsOf(this.table.node)])];
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    if (record.key === null) {
      // As in Kafka: an inner join cannot match a keyless record; a left join still emits it.
      if (!this.outer) {
        inv.ctx.count(METRICS.nullKeyDropped);
        return;
      }
      await this.forward({ ...record, value: this.joiner(record.value, null, null) }, inv);
      return;
    }
    const row = await this.table.lookup(inv.ctx.state, record.key);
    if (row === undefined && !this.outer) return;
    await this.forward({ ...record, value: this.joiner(record.value, row ?? null, record.key) }, inv);
  }

  override detail(): string {
    return `table store: ${this.table.store}`;
  }
}

/** One buffered record of a stream-stream join side. */
interface BufferedRecord {
  readonly timestamp: number;
  readonly value: unknown;
  readonly uid: string;
  /** Left side of a left join: whether some right record joined it (then no (l, null) is due). */
  readonly matched?: boolean;
}

/** A left record of a left join not yet matched: emitted as (l, null) when its window closes. */
interface PendingRecord {
  readonly key: string;
  readonly timestamp: number;
  readonly value: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** Where the left record came from, for the dead-letter record if its (l, null) emission fails. */
  readonly source?: { readonly topic: string; readonly partition: number; readonly offset: number };
}

/** What both sides of one stream-stream join share. */
export interface StreamJoinSpec {
  readonly windows: JoinWindows;
  readonly joiner: (left: unknown, right: unknown, key: string) => unknown;
  readonly outer: boolean;
  readonly leftStore: string;
  readonly rightStore: string;
  /** Left join only: unmatched left records by time (padded ts | key prefix + uid), for punctuation. */
  readonly pendingStore: string | undefined;
  readonly leftParent: Node;
  readonly rightParent: Node;
}

/**
 * One side of a stream-stream join. Each record is buffered (key prefix + padded ts | uid, expiring at
 * ts + difference + grace) and joined with the other side's buffered records within the time
 * difference whose own window is still open. A record arriving when its own window has closed is
 * late: dropped and counted. So a pair joins exactly when |l.ts - r.ts| <= difference and the
 * earlier-arriving one's window is still open when the later one arrives; once a left record's
 * window closes no right record can join it any more, and a left join emits it as (l, null).
 */
export class StreamJoinSideNode extends Node {
  constructor(
    graph: Graph,
    kind: string,
    private readonly side: 'left' | 'right',
    private readonly spec: StreamJoinSpec,
  ) {
    super(graph, kind, [side === 'left' ? spec.leftParent : spec.rightParent], false);
    if (side === 'left' && spec.outer) this.punctuate = (inv) => this.emitUnmatched(inv);
  }

  override get stores(): readonly string[] {
    const own = this.side === 'left' ? [this.spec.leftStore] : [this.spec.rightStore];
    return this.side === 'left' && this.spec.pendingStore !== undefined ? [...own, this.spec.pendingStore] : own;
  }

  override copartition(topicsOf: (node: Node) => ReadonlySet<string>): ReadonlySet<string>[] {
    return [new Set([...topicsOf(this.spec.leftParent), ...topicsOf(this.spec.rightParent)])];
  }

  private get closeAfter(): number {
    return this.spec.windows.timeDifferenceMs + this.spec.windows.graceMs;
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    const key = keyOf(record, inv, false);
    if (key === undefined) return;
    checkTimestamp(record.timestamp, this.name);
    const { state, streamTime } = inv.ctx;
    const ts = record.timestamp;
    if (streamTime > ts + this.closeAfter) {
      inv.ctx.count(METRICS.lateDropped);
      return;
    }
    const { spec } = this;
    const difference = spec.windows.timeDifferenceMs;
    const uid = inv.uid(this);
    const prefix = keyPrefix(key);
    const otherStore = this.side === 'left' ? spec.rightStore : spec.leftStore;
    const ownStore = this.side === 'left' ? spec.leftStore : spec.rightStore;
    const others = (
      await state.range<BufferedRecord>(otherStore, prefix, prefix + pad(ts - difference), afterAscii(prefix + pad(ts + difference)))
    ).filter(({ value: other }) => streamTime <= other.timestamp + this.closeAfter);

    const markMatched = this.side === 'right' && spec.outer;
    for (const { key: otherKey, value: other } of others) {
      const joined =
        this.side === 'left' ? spec.joiner(record.value, other.value, key) : spec.joiner(other.value, record.value, key);
      if (markMatched && !other.matched) {
        state.put(spec.leftStore, otherKey, { ...other, matched: true }, { expiresAt: other.timestamp + this.closeAfter });
        state.delete(spec.pendingStore!, pendingKey(other.timestamp, prefix, other.uid));
      }
      await this.forward({ key, value: joined, timestamp: Math.max(ts, other.timestamp), headers: record.headers }, inv);
    }

    const bufferKey = `${prefix}${pad(ts)}|${uid}`;
    const own: BufferedRecord = { timestamp: ts, value: record.value, uid };
    const leftOuter = this.side === 'left' && spec.outer;
    state.put(ownStore, bufferKey, leftOuter ? { ...own, matched: others.length > 0 } : own, { expiresAt: ts + this.closeAfter });
    if (leftOuter && others.length === 0) {
      const source = inv.source && { topic: inv.source.topic, partition: inv.source.partition, offset: inv.source.offset };
      const pending: PendingRecord = { key, timestamp: ts, value: record.value, headers: record.headers, ...(source ? { source } : {}) };
      // No expiresAt: it must live until the punctuation that emits it.
      state.put(spec.pendingStore!, pendingKey(ts, prefix, uid), pending);
    }
  }

  /** Emits (l, null) for each unmatched left record whose window has closed (ts + difference + grace < stream time). */
  private async emitUnmatched(inv: Invocation): Promise<void> {
    const last = inv.ctx.streamTime - this.closeAfter - 1;
    if (last < 0) return;
    const store = this.spec.pendingStore!;
    const due = await inv.ctx.state.range<PendingRecord>(store, '', undefined, afterAscii(pad(last)));
    for (const { key: stateKey, value: pending } of due) {
      // Removed even if the emission fails, so a failing record is dead-lettered once, not retried forever.
      inv.ctx.state.delete(store, stateKey);
      const buffered = new BufferedContext(inv.ctx);
      try {
        const joined = this.spec.joiner(pending.value, null, pending.key);
        await this.forward({ key: pending.key, value: joined, timestamp: pending.timestamp, headers: pending.headers }, inv.withContext(buffered));
        buffered.commit();
      } catch (error) {
        const source = pending.source ?? { topic: this.name, partition: -1, offset: -1 };
        const record = { ...source, key: pending.key, value: pending.value, timestamp: pending.timestamp, headers: pending.headers };
        inv.ctx.emit(deadLetterTopic(this.graph.applicationId), deadLetterRecord(record, error));
        inv.ctx.count(DEAD_LETTER_METRIC);
      }
    }
  }

  override detail(): string {
    return `${this.side} side, ${this.spec.windows.toString()}${this.spec.outer ? ', left join' : ''}, stores: ${this.stores.join(', ')}`;
  }
}

function pendingKey(timestamp: number, prefix: string, uid: string): string {
  return `${pad(timestamp)}|${prefix}${uid}`;
}
