/**
 * The typed, chainable DSL: KStream, KGroupedStream, windowed grouped streams and KTable. Each call
 * adds a node to the application's graph (./graph.ts); nothing runs until the runtime or the
 * TopologyTestDriver feeds the compiled topology. Callbacks take the value first, then the key.
 */
import { TopologyError } from './errors';
import { Graph, Node, type Rec } from './graph';
import { toKey } from './keys';
import { BranchNode, SinkNode, SourceNode, StatelessNode } from './nodes';
import type { Serde } from './serde';
import {
  AggregateNode,
  SessionAggregateNode,
  StreamJoinSideNode,
  StreamTableJoinNode,
  TimeWindowAggregateNode,
  type Aggregation,
  type StreamJoinSpec,
  type TableState,
  type Windowed,
} from './stateful';
import { JoinWindows, SessionWindows, TimeWindows } from './windows';
import { checkTopicName } from './validation';

/** A record key inside a stream: Sluice keys are strings, and a record may have none. */
export type Key = string | null;
/** What a key-producing callback may return: a non-string is turned into its JSON text. */
export type KeyInput = string | number | boolean | null;

export interface KeyValue<V> {
  readonly key: KeyInput;
  readonly value: V;
}

export interface StreamOptions<V> {
  /** How the topic's JSON values map to `V` (default: the JSON as is). */
  readonly serde?: Serde<V>;
}

export interface GroupedOptions<V> {
  /** The serde of the repartition topic, if grouping needs one (default: JSON as is). */
  readonly serde?: Serde<V>;
}

export interface StoreOptions {
  /** The state store's name (default: derived from the operation's position in the topology). Give one to keep state across topology changes. */
  readonly name?: string;
}

/** Cuts the graph with a repartition topic after `node`, whose records then land on partitions by their new key. */
function repartition(graph: Graph, node: Node, partitionsLike: string, serde: Serde<unknown> | undefined): Node {
  const topic = graph.nextRepartitionTopic(partitionsLike);
  new SinkNode(graph, node, topic, serde, 'repartition-sink');
  return new SourceNode(graph, topic, serde, 'repartition-source');
}

function storeName(graph: Graph, kind: string, options: StoreOptions | undefined): string {
  if (options?.name !== undefined) {
    if (!/^[a-zA-Z0-9._-]{1,128}$/.test(options.name)) {
      throw new TopologyError(`store name '${options.name}' must be 1-128 of ASCII letters, digits, ".", "_" and "-"`);
    }
    return graph.store(options.name);
  }
  // The id the next node gets: stable for the same code.
  return graph.store(`${kind}-${graph.nodes.length}`);
}

export class KStream<V> {
  /** @internal Made by StreamsBuilder.stream() and the DSL's operations. */
  constructor(
    /** @internal */ readonly graph: Graph,
    /** @internal */ readonly node: Node,
  ) {}

  private stateless<V2>(kind: string, keyChanged: boolean, step: (record: Rec) => Iterable<Rec>): KStream<V2> {
    return new KStream<V2>(this.graph, new StatelessNode(this.graph, kind, [this.node], keyChanged || this.node.keyChanged, step));
  }

  private sameApplication(other: { readonly graph: Graph }, what: string): void {
    if (other.graph !== this.graph) {
      throw new TopologyError(
        `${what} belongs to application '${other.graph.applicationId}', not '${this.graph.applicationId}'; build both sides with the same streams() builder`,
      );
    }
  }

  /** Keeps the records for which `predicate` holds. */
  filter<S extends V>(predicate: (value: V, key: Key) => value is S): KStream<S>;
  filter(predicate: (value: V, key: Key) => boolean): KStream<V>;
  filter(predicate: (value: V, key: Key) => boolean): KStream<V> {
    return this.stateless('filter', false, (r) => (predicate(r.value as V, r.key) ? [r] : []));
  }

  /** Drops the records for which `predicate` holds. */
  filterNot(predicate: (value: V, key: Key) => boolean): KStream<V> {
    return this.stateless('filterNot', false, (r) => (predicate(r.value as V, r.key) ? [] : [r]));
  }

  /** A new key and value per record. Changes keys: a later stateful operation repartitions. */
  map<V2>(mapper: (value: V, key: Key) => KeyValue<V2>): KStream<V2> {
    return this.stateless('map', true, (r) => {
      const out = mapper(r.value as V, r.key);
      return [{ ...r, key: toKey(out.key, 'map'), value: out.value }];
    });
  }

  /** A new value per record, same key. */
  mapValues<V2>(mapper: (value: V, key: Key) => V2): KStream<V2> {
    return this.stateless('mapValues', false, (r) => [{ ...r, value: mapper(r.value as V, r.key) }]);
  }

  /** Zero or more records per record. Changes keys: a later stateful operation repartitions. */
  flatMap<V2>(mapper: (value: V, key: Key) => Iterable<KeyValue<V2>>): KStream<V2> {
    return this.stateless('flatMap', true, (r) =>
      Array.from(mapper(r.value as V, r.key), (out) => ({ ...r, key: toKey(out.key, 'flatMap'), value: out.value })),
    );
  }

  /** Zero or more values per record, each with the record's key. */
  flatMapValues<V2>(mapper: (value: V, key: Key) => Iterable<V2>): KStream<V2> {
    return this.stateless('flatMapValues', false, (r) => Array.from(mapper(r.value as V, r.key), (value) => ({ ...r, value })));
  }

  /** One stream per predicate: each record goes to the first whose predicate holds, or nowhere. */
  branch<const P extends readonly ((value: V, key: Key) => boolean)[]>(...predicates: P): { -readonly [I in keyof P]: KStream<V> } {
    if (predicates.length === 0) throw new TopologyError('branch() needs at least one predicate');
    const branch = new BranchNode(
      this.graph,
      this.node,
      predicates.map((p) => (r: Rec) => p(r.value as V, r.key)),
    );
    const streams = predicates.map(
      () => new KStream<V>(this.graph, new StatelessNode(this.graph, 'branch-output', [branch], this.node.keyChanged, (r) => [r])),
    );
    return streams as { -readonly [I in keyof P]: KStream<V> };
  }

  /** Both streams' records in one stream (no order between them is promised). */
  merge<W>(other: KStream<W>): KStream<V | W> {
    this.sameApplication(other, 'the merged stream');
    const keyChanged = this.node.keyChanged || other.node.keyChanged;
    return new KStream<V | W>(this.graph, new StatelessNode(this.graph, 'merge', [this.node, other.node], keyChanged, (r) => [r]));
  }

  /** Calls `action` for each record (logging, metrics) and passes the record on unchanged. */
  peek(action: (value: V, key: Key) => void): KStream<V> {
    return this.stateless('peek', false, (r) => {
      action(r.value as V, r.key);
      return [r];
    });
  }

  /** A new key per record. `to()` then places records by the new key; a stateful operation repartitions first. */
  selectKey(mapper: (value: V, key: Key) => KeyInput): KStream<V> {
    return this.stateless('selectKey', true, (r) => [{ ...r, key: toKey(mapper(r.value as V, r.key), 'selectKey') }]);
  }

  /** Writes each record to `topic`, placed on a partition by its key (keyless: the input partition's number, modulo). */
  to(topic: string, options: StreamOptions<V> = {}): void {
    checkTopicName(topic, 'to()');
    this.graph.registerSink(topic);
    new SinkNode(this.graph, this.node, topic, options.serde as Serde<unknown> | undefined);
  }

  /** Groups by the current key, for count / reduce / aggregate (repartitioning first if keys were changed). */
  groupByKey(options: GroupedOptions<V> = {}): KGroupedStream<V> {
    return new KGroupedStream<V>(this.graph, this.node, options.serde);
  }

  /** Groups by a new key: `selectKey(selector).groupByKey()`. */
  groupBy(selector: (value: V, key: Key) => KeyInput, options: GroupedOptions<V> = {}): KGroupedStream<V> {
    const node = new StatelessNode(this.graph, 'groupBy', [this.node], true, (r) => [
      { ...r, key: toKey(selector(r.value as V, r.key), 'groupBy') },
    ]);
    return new KGroupedStream<V>(this.graph, node, options.serde);
  }

  /** Inner join with another stream: records with the same key whose timestamps differ by at most the window's time difference. */
  join<W, R>(other: KStream<W>, joiner: (left: V, right: W, key: string) => R, windows: JoinWindows): KStream<R>;
  /** Inner join with a table: each record with the table's current value for its key (records with no value are dropped). */
  join<T, R>(table: KTable<T>, joiner: (value: V, row: T, key: string) => R): KStream<R>;
  join(other: KStream<unknown> | KTable<unknown>, joiner: (a: never, b: never, key: never) => unknown, windows?: JoinWindows): KStream<unknown> {
    return this.joinWith('join', other, joiner as (a: unknown, b: unknown, key: unknown) => unknown, windows, false);
  }

  /** Left join with another stream: as join(), and each left record no right record joined is emitted as (left, null) when its window closes. */
  leftJoin<W, R>(other: KStream<W>, joiner: (left: V, right: W | null, key: string) => R, windows: JoinWindows): KStream<R>;
  /** Left join with a table: each record with the table's current value for its key, or null. */
  leftJoin<T, R>(table: KTable<T>, joiner: (value: V, row: T | null, key: Key) => R): KStream<R>;
  leftJoin(
    other: KStream<unknown> | KTable<unknown>,
    joiner: (a: never, b: never, key: never) => unknown,
    windows?: JoinWindows,
  ): KStream<unknown> {
    return this.joinWith('leftJoin', other, joiner as (a: unknown, b: unknown, key: unknown) => unknown, windows, true);
  }

  private joinWith(
    kind: 'join' | 'leftJoin',
    other: KStream<unknown> | KTable<unknown>,
    joiner: (a: unknown, b: unknown, key: unknown) => unknown,
    windows: JoinWindows | undefined,
    outer: boolean,
  ): KStream<unknown> {
    if (other instanceof KTable) {
      if (windows !== undefined) throw new TopologyError(`${kind}() with a table takes no JoinWindows (a table holds the latest value per key)`);
      return this.tableJoin(kind, other, joiner, outer);
    }
    if (!(other instanceof KStream)) throw new TopologyError(`${kind}() needs a KStream or a KTable of this application`);
    if (!(windows instanceof JoinWindows)) {
      throw new TopologyError(`${kind}() of two streams needs JoinWindows, e.g. JoinWindows.ofTimeDifference(5 * 60_000)`);
    }
    this.sameApplication(other, `the stream passed to ${kind}()`);
    const graph = this.graph;
    // A re-keyed side goes through a repartition topic with as many partitions as the other side's input.
    const leftLike = this.node.keyChanged && !other.node.keyChanged ? graph.firstUserTopic(other.node) : graph.firstUserTopic(this.node);
    const leftParent = this.node.keyChanged ? repartition(graph, this.node, leftLike, undefined) : this.node;
    const rightParent = other.node.keyChanged ? repartition(graph, other.node, leftLike, undefined) : other.node;
    const id = graph.nodes.length;
    const spec: StreamJoinSpec = {
      windows,
      joiner,
      outer,
      leftStore: graph.store(`${kind}-${id}-left`),
      rightStore: graph.store(`${kind}-${id}-right`),
      pendingStore: outer ? graph.store(`${kind}-${id}-unmatched`) : undefined,
      leftParent,
      rightParent,
    };
    const left = new StreamJoinSideNode(graph, `${kind}-left`, 'left', spec);
    const right = new StreamJoinSideNode(graph, `${kind}-right`, 'right', spec);
    return new KStream(graph, new StatelessNode(graph, `${kind}-output`, [left, right], false, (r) => [r]));
  }

  private tableJoin(
    kind: 'join' | 'leftJoin',
    table: KTable<unknown>,
    joiner: (a: unknown, b: unknown, key: unknown) => unknown,
    outer: boolean,
  ): KStream<unknown> {
    this.sameApplication(table, `the table passed to ${kind}()`);
    if (table.state.windowed) {
      throw new TopologyError(`${kind}() cannot join a windowed table (${table.state.store}); join its toStream() with a windowed stream join instead`);
    }
    const graph = this.graph;
    const parent = this.node.keyChanged ? repartition(graph, this.node, graph.firstUserTopic(table.state.node), undefined) : this.node;
    return new KStream(graph, new StreamTableJoinNode(graph, `${kind}-table`, parent, table.state, joiner, outer));
  }
}

/** Records grouped by key, ready to aggregate. */
export class KGroupedStream<V> {
  private input: Node | undefined;

  /** @internal */
  constructor(
    /** @internal */ readonly graph: Graph,
    private readonly node: Node,
    private readonly serde: Serde<V> | undefined,
  ) {}

  /** The node aggregations read: after a repartition topic if keys changed (one topic, shared by this group's aggregations). */
  private source(): Node {
    this.input ??= this.node.keyChanged
      ? repartition(this.graph, this.node, this.graph.firstUserTopic(this.node), this.serde as Serde<unknown> | undefined)
      : this.node;
    return this.input;
  }

  private table<R>(kind: string, aggregation: Aggregation, options: StoreOptions | undefined): KTable<R> {
    const source = this.source();
    const node = new AggregateNode(this.graph, kind, source, storeName(this.graph, kind, options), aggregation);
    return new KTable<R>(this.graph, node);
  }

  /** Records per key. */
  count(options?: StoreOptions): KTable<number> {
    return this.table('count', countAggregation, options);
  }

  /** Combines each key's values: the first value, then reducer(previous result, value). */
  reduce(reducer: (aggregate: V, value: V, key: string) => V, options?: StoreOptions): KTable<V> {
    return this.table('reduce', reduceAggregation(reducer), options);
  }

  /** Folds each key's values into an aggregate, starting from initializer(). */
  aggregate<A>(initializer: () => A, aggregator: (aggregate: A, value: V, key: string) => A, options?: StoreOptions): KTable<A> {
    return this.table('aggregate', aggregateAggregation(initializer, aggregator), options);
  }

  /** Aggregates per key and time window (tumbling or hopping). */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<V>;
  /** Aggregates per key and session. */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<V>;
  windowedBy(windows: TimeWindows | SessionWindows): TimeWindowedKStream<V> | SessionWindowedKStream<V> {
    if (windows instanceof TimeWindows) return new TimeWindowedKStream<V>(this.graph, () => this.source(), windows);
    if (windows instanceof SessionWindows) return new SessionWindowedKStream<V>(this.graph, () => this.source(), windows);
    throw new TopologyError('windowedBy() needs TimeWindows or SessionWindows');
  }
}

const countAggregation: Aggregation = {
  initial: () => 0,
  add: (count) => (count as number) + 1,
  merge: (a, b) => (a as number) + (b as number),
};

function reduceAggregation<V>(reducer: (aggregate: V, value: V, key: string) => V): Aggregation {
  return {
    initial: () => undefined,
    add: (acc, value, key) => (acc === undefined ? value : reducer(acc as V, value as V, key)),
    merge: (a, b, key) => (a === undefined ? b : reducer(a as V, b as V, key)),
  };
}

function aggregateAggregation<V, A>(
  initializer: () => A,
  aggregator: (aggregate: A, value: V, key: string) => A,
  merger?: (a: A, b: A, key: string) => A,
): Aggregation {
  return {
    initial: initializer,
    add: (acc, value, key) => aggregator(acc as A, value as V, key),
    ...(merger ? { merge: (a: unknown, b: unknown, key: string) => merger(a as A, b as A, key) } : {}),
  };
}

/** A grouped stream windowed by time. Results are KTables of `Windowed` values, one update per record and window. */
export class TimeWindowedKStream<V> {
  /** @internal */
  constructor(
    private readonly graph: Graph,
    private readonly source: () => Node,
    private readonly windows: TimeWindows,
  ) {}

  private table<R>(kind: string, aggregation: Aggregation, options: StoreOptions | undefined): KTable<Windowed<R>> {
    const source = this.source();
    const node = new TimeWindowAggregateNode(this.graph, kind, source, storeName(this.graph, kind, options), this.windows, aggregation);
    return new KTable<Windowed<R>>(this.graph, node);
  }

  count(options?: StoreOptions): KTable<Windowed<number>> {
    return this.table('windowed-count', countAggregation, options);
  }

  reduce(reducer: (aggregate: V, value: V, key: string) => V, options?: StoreOptions): KTable<Windowed<V>> {
    return this.table('windowed-reduce', reduceAggregation(reducer), options);
  }

  aggregate<A>(initializer: () => A, aggregator: (aggregate: A, value: V, key: string) => A, options?: StoreOptions): KTable<Windowed<A>> {
    return this.table('windowed-aggregate', aggregateAggregation(initializer, aggregator), options);
  }
}

/**
 * A grouped stream windowed by sessions. Results are KTables of `Windowed` values; a session merged
 * into a larger one is emitted with value null (a tombstone for that window).
 */
export class SessionWindowedKStream<V> {
  /** @internal */
  constructor(
    private readonly graph: Graph,
    private readonly source: () => Node,
    private readonly windows: SessionWindows,
  ) {}

  private table<R>(kind: string, aggregation: Aggregation, options: StoreOptions | undefined): KTable<Windowed<R | null>> {
    const source = this.source();
    const node = new SessionAggregateNode(this.graph, kind, source, storeName(this.graph, kind, options), this.windows, aggregation);
    return new KTable<Windowed<R | null>>(this.graph, node);
  }

  count(options?: StoreOptions): KTable<Windowed<number | null>> {
    return this.table('session-count', countAggregation, options);
  }

  /** Also merges sessions: reducer(earlier session's result, later session's result). */
  reduce(reducer: (aggregate: V, value: V, key: string) => V, options?: StoreOptions): KTable<Windowed<V | null>> {
    return this.table('session-reduce', reduceAggregation(reducer), options);
  }

  /** `merger` combines the aggregates of two sessions a record bridges. */
  aggregate<A>(
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: string) => A,
    merger: (left: A, right: A, key: string) => A,
    options?: StoreOptions,
  ): KTable<Windowed<A | null>> {
    if (typeof merger !== 'function') throw new TopologyError('a session aggregate needs a merger: aggregate(initializer, aggregator, merger)');
    return this.table('session-aggregate', aggregateAggregation(initializer, aggregator, merger), options);
  }
}

/** A changelog: the latest value per key (a topic read with table(), or an aggregation's results). */
export class KTable<V> {
  /** @internal */
  constructor(
    /** @internal */ readonly graph: Graph,
    /** @internal */ readonly state: TableState,
  ) {}

  /** Every update of the table as a stream (a table read from a topic also passes its null deletes on). */
  toStream(): KStream<V> {
    return new KStream<V>(this.graph, new StatelessNode(this.graph, 'toStream', [this.state.node], false, (r) => [r]));
  }
}
