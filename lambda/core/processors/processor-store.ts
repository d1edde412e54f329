/**
 * What the processors API reads of the `processors` table, the stream runtime's state
 * (lambda/streams/runtime): per processor partition, its meta item (stream time, counters, last
 * commit), its input positions and the size of its state. DynamoDbProcessorStore implements it;
 * tests can swap it.
 */

/** One input position as the runtime committed it. */
export interface StoredPosition {
  readonly topic: string;
  /** The next offset to process. */
  readonly offset: number;
  /** The topic's ID when the position was written: a position of a re-created topic does not count. */
  readonly topicId?: string;
}

export interface StoredProcessorPartition {
  /** Largest event timestamp processed (epoch ms); undefined before the first commit. */
  readonly streamTime?: number;
  readonly counters: Readonly<Record<string, number>>;
  /** Epoch ms of the last commit. */
  readonly updatedAt?: number;
  readonly positions: readonly StoredPosition[];
  readonly state: { readonly items: number; readonly bytes: number };
}

export interface ProcessorStore {
  /** What processor `name` stored for `partition` (empty when it stored nothing). */
  readPartition(name: string, partition: number): Promise<StoredProcessorPartition>;
}
