/** Source, sink and stateless nodes. */
import { StreamRecordError } from './errors';
import { Graph, Invocation, Node, type Rec } from './graph';
import type { Serde } from './serde';

export class SourceNode extends Node {
  constructor(
    graph: Graph,
    private readonly topic: string,
    private readonly serde: Serde<unknown> | undefined,
    kind = 'source',
  ) {
    super(graph, kind, [], false);
  }

  override get sourceTopic(): string {
    return this.topic;
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    const value = record.value === null || !this.serde ? record.value : this.serde.deserialize(record.value);
    await this.forward({ ...record, value }, inv);
  }

  override detail(): string {
    return `topic: ${this.topic}`;
  }
}

export class SinkNode extends Node {
  constructor(
    graph: Graph,
    parent: Node,
    private readonly topic: string,
    private readonly serde: Serde<unknown> | undefined,
    kind = 'sink',
  ) {
    super(graph, kind, [parent], false);
  }

  override get sinkTopic(): string {
    return this.topic;
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    if (record.value === undefined) throw new StreamRecordError(`${this.name}: a record value is undefined (use null for no value)`);
    const value = record.value === null || !this.serde ? record.value : this.serde.serialize(record.value);
    // No partition: the runner places the record by its key (the topic's partitioner), as a producer would.
    inv.ctx.emit(this.topic, { key: record.key, value, timestamp: record.timestamp, headers: record.headers });
  }

  override detail(): string {
    return `topic: ${this.topic}`;
  }
}

/** A stateless step: each input record becomes zero or more output records. */
export class StatelessNode extends Node {
  constructor(
    graph: Graph,
    kind: string,
    parents: readonly Node[],
    keyChanged: boolean,
    private readonly step: (record: Rec) => Iterable<Rec>,
  ) {
    super(graph, kind, parents, keyChanged);
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    for (const out of this.step(record)) await this.forward(out, inv);
  }
}

/** Sends each record to the first branch whose predicate holds (or to none). */
export class BranchNode extends Node {
  constructor(
    graph: Graph,
    parent: Node,
    private readonly predicates: readonly ((record: Rec) => boolean)[],
  ) {
    super(graph, 'branch', [parent], parent.keyChanged);
  }

  async receive(record: Rec, inv: Invocation): Promise<void> {
    const index = this.predicates.findIndex((p) => p(record));
    // Children are the branch outputs, created in predicate order right after this node.
    if (index >= 0) await this.children[index]!.receive(record, inv);
  }
}
