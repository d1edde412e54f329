import type { Topology } from '../topology';
import { Graph } from './graph';
import { KStream, KTable, type StoreOptions, type StreamOptions } from './kstream';
import { SourceNode } from './nodes';
import { TableSourceNode } from './stateful';
import { checkApplicationId, checkTopicName } from './validation';

export interface TableOptions<V> extends StreamOptions<V>, StoreOptions {}

/**
 * One stream-processing application: its input streams and tables, and build() for the topology the
 * runtime (or the TopologyTestDriver) runs. Made by `streams(applicationId)`.
 */
export class StreamsBuilder {
  private readonly graph: Graph;

  constructor(readonly applicationId: string) {
    checkApplicationId(applicationId);
    this.graph = new Graph(applicationId);
  }

  /** The records of `topic` as a stream, values typed `V` (JSON, or through `options.serde`). */
  stream<V = unknown>(topic: string, options: StreamOptions<V> = {}): KStream<V> {
    checkTopicName(topic, 'stream()');
    this.graph.registerSource(topic, 'stream');
    return new KStream<V>(this.graph, new SourceNode(this.graph, topic, options.serde as StreamOptions<unknown>['serde']));
  }

  /** The latest value per key of `topic` (a null value deletes the key), for stream-table joins. */
  table<V = unknown>(topic: string, options: TableOptions<V> = {}): KTable<V> {
    checkTopicName(topic, 'table()');
    this.graph.registerSource(topic, 'table');
    const store = this.graph.store(options.name ?? `table-${topic}`);
    const node = new TableSourceNode(this.graph, topic, store, options.serde as StreamOptions<unknown>['serde']);
    return new KTable<V>(this.graph, node);
  }

  /** The topology to run. Call it after defining every operation; it can be called again after adding more. */
  build(): Topology {
    return this.graph.compile();
  }
}

/** Starts a stream-processing application: `streams('big-orders').stream<Order>('orders')…`. */
export function streams(applicationId: string): StreamsBuilder {
  return new StreamsBuilder(applicationId);
}
