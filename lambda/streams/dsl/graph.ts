/**
 * The processor graph the DSL builds, and its compilation into the `Topology` contract.
 *
 * Each DSL call adds a node. Records are pushed through the graph depth-first, one at a time, each
 * node awaiting its children, so a sub-topology's effects happen in a deterministic order. Where a
 * stateful operation or join follows a key change, the DSL cuts the graph with a repartition topic:
 * a sink in the upstream part, a source in the downstream part. Compilation splits the graph into
 * connected parts (sub-topologies) and gives each its sources, sinks, stores and co-partitioning.
 */
import { deadLetterTopic, type ProcessorContext, type SourceRecord, type SubTopology, type Topology } from '../topology';
import { TopologyError } from './errors';
import { pad } from './keys';

/** A record inside the graph (values are deserialized). */
export interface Rec {
  readonly key: string | null;
  readonly value: unknown;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The work started by one input record (or one punctuation). `origin` is deterministic (input topic
 * and offset), so ids made from it are the same when the runtime redelivers the record.
 */
export class Invocation {
  constructor(
    readonly ctx: ProcessorContext,
    readonly origin: string,
    /** The input record (undefined in a punctuation). */
    readonly source: SourceRecord | undefined,
    private readonly sequences = new Map<number, number>(),
  ) {}

  /** The same invocation writing through another context (ids stay unique across both). */
  withContext(ctx: ProcessorContext): Invocation {
    return new Invocation(ctx, this.origin, this.source, this.sequences);
  }

  /** An id unique to this record's n-th arrival at `node` within this invocation. */
  uid(node: Node): string {
    const n = this.sequences.get(node.id) ?? 0;
    this.sequences.set(node.id, n + 1);
    return `${this.origin}#${n}`;
  }
}

export abstract class Node {
  readonly children: Node[] = [];
  readonly parents: readonly Node[];
  readonly id: number;

  constructor(
    readonly graph: Graph,
    /** What the node does, for describe(): 'filter', 'count', 'source', … */
    readonly kind: string,
    parents: readonly Node[],
    /** Whether records leaving this node may have keys other than their input partition's. */
    readonly keyChanged: boolean,
  ) {
    this.id = graph.add(this);
    this.parents = parents;
    for (const parent of parents) parent.children.push(this);
  }

  get name(): string {
    return `${this.kind}-${this.id}`;
  }

  abstract receive(record: Rec, inv: Invocation): Promise<void>;

  protected async forward(record: Rec, inv: Invocation): Promise<void> {
    for (const child of this.children) await child.receive(record, inv);
  }

  /** The topic a source node reads. */
  get sourceTopic(): string | undefined {
    return undefined;
  }

  /** The topic a sink node writes. */
  get sinkTopic(): string | undefined {
    return undefined;
  }

  get stores(): readonly string[] {
    return [];
  }

  /** Nodes that must run in this node's sub-topology although no record flows between them (a table a join reads). */
  get coLocated(): readonly Node[] {
    return [];
  }

  /** Topic sets whose partition counts must be equal for this node to be right (stateful nodes). */
  copartition(_topicsOf: (node: Node) => ReadonlySet<string>): ReadonlySet<string>[] {
    return [];
  }

  /** Set by nodes with a punctuate step (closing join windows). */
  punctuate?: (inv: Invocation) => Promise<void>;

  /** Extra text for describe(). */
  detail(): string {
    return '';
  }
}

/** The mutable graph one `StreamsBuilder` owns. */
export class Graph {
  readonly nodes: Node[] = [];
  readonly internalTopics: { name: string; partitionsLike: string }[] = [];
  private readonly storeNames = new Set<string>();
  private readonly userSources = new Map<string, 'stream' | 'table'>();
  private readonly userSinks = new Set<string>();
  private readonly topicsMemo = new Map<number, ReadonlySet<string>>();

  constructor(readonly applicationId: string) {}

  add(node: Node): number {
    this.nodes.push(node);
    return this.nodes.length - 1;
  }

  /** Reserves a store name (unique within the application). */
  store(name: string): string {
    if (this.storeNames.has(name)) throw new TopologyError(`store name '${name}' is used twice in application '${this.applicationId}'`);
    this.storeNames.add(name);
    return name;
  }

  registerSource(topic: string, as: 'stream' | 'table'): void {
    this.checkNotInternal(topic);
    const previous = this.userSources.get(topic);
    if (previous === 'table' || (previous === 'stream' && as === 'table')) {
      throw new TopologyError(
        `topic '${topic}' is read as a ${previous} and again as a ${as}; read it once (reuse the ${previous === 'table' ? 'KTable' : 'KStream'})`,
      );
    }
    if (this.userSinks.has(topic)) throw this.cycle(topic);
    this.userSources.set(topic, as);
  }

  registerSink(topic: string): void {
    this.checkNotInternal(topic);
    if (this.userSources.has(topic)) throw this.cycle(topic);
    this.userSinks.add(topic);
  }

  nextRepartitionTopic(partitionsLike: string): string {
    const name = `${this.applicationId}-repartition-${this.internalTopics.length}`;
    this.internalTopics.push({ name, partitionsLike });
    return name;
  }

  isInternal(topic: string): boolean {
    return this.internalTopics.some((t) => t.name === topic);
  }

  /** A user topic with the partition count of `topic` (an internal topic resolves to its partitionsLike). */
  userTopicLike(topic: string): string {
    return this.internalTopics.find((t) => t.name === topic)?.partitionsLike ?? topic;
  }

  /** The topics whose records reach `node` within its part of the graph (a repartition source ends the walk). */
  topicsOf(node: Node): ReadonlySet<string> {
    const memo = this.topicsMemo.get(node.id);
    if (memo) return memo;
    const topics = new Set<string>();
    if (node.sourceTopic !== undefined) topics.add(node.sourceTopic);
    else for (const parent of node.parents) for (const t of this.topicsOf(parent)) topics.add(t);
    this.topicsMemo.set(node.id, topics);
    return topics;
  }

  /** The first user topic (resolving repartition topics) feeding `node`: what a repartition topic's partitions follow. */
  firstUserTopic(node: Node): string {
    const first = [...this.topicsOf(node)][0];
    if (first === undefined) throw new TopologyError(`${node.name} has no input topic`);
    return this.userTopicLike(first);
  }

  private checkNotInternal(topic: string): void {
    const prefix = `${this.applicationId}-repartition-`;
    if (topic.startsWith(prefix) || topic === `${this.applicationId}-dlq`) {
      throw new TopologyError(`topic '${topic}' is reserved for application '${this.applicationId}' (repartition and dead-letter topics)`);
    }
  }

  private cycle(topic: string): TopologyError {
    return new TopologyError(`application '${this.applicationId}' both reads and writes topic '${topic}'; a processor must not consume its own output`);
  }

  compile(): Topology {
    if (!this.nodes.some((n) => n.sourceTopic !== undefined)) {
      throw new TopologyError(`application '${this.applicationId}' reads no topic: call stream() or table() first`);
    }
    // Union-find over nodes: flow edges, co-located nodes, and every reader of one topic.
    const root = this.nodes.map((_, i) => i);
    const find = (i: number): number => {
      while (root[i] !== i) {
        root[i] = root[root[i]!]!;
        i = root[i]!;
      }
      return i;
    };
    const union = (a: number, b: number): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) root[Math.max(ra, rb)] = Math.min(ra, rb);
    };
    const readerOf = new Map<string, number>();
    for (const node of this.nodes) {
      for (const child of node.children) union(node.id, child.id);
      for (const other of node.coLocated) union(node.id, other.id);
      const topic = node.sourceTopic;
      if (topic !== undefined) {
        const first = readerOf.get(topic);
        if (first === undefined) readerOf.set(topic, node.id);
        else union(first, node.id);
      }
    }
    const parts = new Map<number, Node[]>();
    for (const node of this.nodes) {
      const r = find(node.id);
      const list = parts.get(r) ?? [];
      list.push(node);
      parts.set(r, list);
    }
    // Roots are the smallest id of each part, so this order (and the ids) follow the DSL calls.
    const subTopologies = [...parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, nodes], index) => this.subTopology(String(index), nodes));

    const internal = new Set([...this.internalTopics.map((t) => t.name), deadLetterTopic(this.applicationId)]);
    const sourceTopics = unique(subTopologies.flatMap((s) => s.sources).filter((t) => !internal.has(t)));
    const outputTopics = unique(subTopologies.flatMap((s) => s.sinks).filter((t) => !internal.has(t)));
    const internalTopics = this.internalTopics.map((t) => ({ ...t }));
    const applicationId = this.applicationId;
    const describe = (): string => describeTopology(applicationId, subTopologies, internalTopics);
    return { applicationId, subTopologies, internalTopics, sourceTopics, outputTopics, describe };
  }

  private subTopology(id: string, nodes: Node[]): SubTopology & { readonly nodes: readonly Node[] } {
    const sourceNodes = new Map<string, Node[]>();
    for (const node of nodes) {
      const topic = node.sourceTopic;
      if (topic === undefined) continue;
      sourceNodes.set(topic, [...(sourceNodes.get(topic) ?? []), node]);
    }
    const punctuators = nodes.filter((n) => n.punctuate !== undefined);
    // A punctuation dead-letters what it cannot emit itself (there is no input record for the runtime to dead-letter).
    const sinks = unique([
      ...nodes.flatMap((n) => (n.sinkTopic === undefined ? [] : [n.sinkTopic])),
      ...(punctuators.length > 0 ? [deadLetterTopic(this.applicationId)] : []),
    ]);
    const stores = nodes.flatMap((n) => n.stores);
    const copartitioned = mergeOverlapping(nodes.flatMap((n) => n.copartition((x) => this.topicsOf(x))));

    const process = async (record: SourceRecord, ctx: ProcessorContext): Promise<void> => {
      const readers = sourceNodes.get(record.topic);
      if (!readers) throw new Error(`sub-topology ${id} of '${this.applicationId}' does not read topic '${record.topic}'`);
      const inv = new Invocation(ctx, `${record.topic}@${pad(record.offset)}`, record);
      const rec: Rec = { key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers };
      for (const reader of readers) await reader.receive(rec, inv);
    };
    const punctuate = async (ctx: ProcessorContext): Promise<void> => {
      // Within one stream time a punctuation emits at most once per buffered record, so this origin is unique.
      const inv = new Invocation(ctx, `punctuate@${pad(ctx.streamTime)}`, undefined);
      for (const node of punctuators) await node.punctuate!(inv);
    };
    return {
      id,
      sources: [...sourceNodes.keys()],
      sinks,
      stores,
      copartitioned,
      nodes,
      process,
      ...(punctuators.length > 0 ? { punctuate } : {}),
    };
  }
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** Merges topic sets that share a topic (equal partition counts are transitive); keeps sets of two or more, sorted. */
function mergeOverlapping(sets: readonly ReadonlySet<string>[]): string[][] {
  const groups: Set<string>[] = [];
  for (const set of sets) {
    const merged = new Set(set);
    for (let i = groups.length - 1; i >= 0; i--) {
      if ([...groups[i]!].some((t) => merged.has(t))) {
        for (const t of groups[i]!) merged.add(t);
        groups.splice(i, 1);
      }
    }
    groups.push(merged);
  }
  return groups
    .filter((g) => g.size >= 2)
    .map((g) => [...g].sort())
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
}

function describeTopology(
  applicationId: string,
  subTopologies: readonly (SubTopology & { readonly nodes: readonly Node[] })[],
  internalTopics: readonly { name: string; partitionsLike: string }[],
): string {
  const lines = [`Topology: ${applicationId}`];
  for (const sub of subTopologies) {
    lines.push(`  Sub-topology: ${sub.id}`);
    for (const node of sub.nodes) {
      const detail = node.detail();
      lines.push(`    ${node.name}${detail ? ` (${detail})` : ''}`);
      if (node.children.length > 0) lines.push(`      --> ${node.children.map((c) => c.name).join(', ')}`);
      if (node.parents.length > 0) lines.push(`      <-- ${node.parents.map((p) => p.name).join(', ')}`);
    }
    if (sub.stores.length > 0) lines.push(`    stores: ${sub.stores.join(', ')}`);
    for (const group of sub.copartitioned) lines.push(`    co-partitioned: ${group.join(', ')}`);
  }
  for (const topic of internalTopics) lines.push(`  Repartition topic: ${topic.name} (partitions like ${topic.partitionsLike})`);
  return lines.join('\n');
}
