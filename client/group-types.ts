/** Options and answers of the consumer-group and transaction calls of SluiceClient (requests: api/groups.ts). */
import type { FetchedEvent, ProduceResult } from '../api/events';
import type { TopicPartitionOffset } from '../api/groups';

export interface RecordsOptions {
  /** Most records to return, 1-1000 (`GROUP_LIMITS.maxRecords`). @default 500 (`GROUP_DEFAULTS.maxRecords`) */
  readonly maxRecords?: number;
  /**
   * Long poll: when the member's partitions have nothing new, wait up to this long (ms, at most
   * 20000) for a record. The attempt's HTTP timeout is the client's `timeoutMs` plus this.
   * @default 0 (answer at once)
   */
  readonly waitMs?: number;
  /** Commit the returned positions before answering (at-most-once). @default false */
  readonly commit?: boolean;
  /** Abandons the call when aborted; it rejects with the signal's reason. @default - none */
  readonly signal?: AbortSignal;
}

export interface RecordsResponse {
  readonly memberId: string;
  /** The generation the records were read in (a new one: heartbeat to learn the new assignments). */
  readonly generation: number;
  readonly records: readonly FetchedEvent[];
}

export interface ListGroupsResponse {
  readonly groups: readonly string[];
}

export interface SeekResponse {
  /** The committed offsets written, one per partition. */
  readonly offsets: readonly TopicPartitionOffset[];
}

export interface TransactionResponse {
  readonly produced: readonly { readonly topic: string; readonly results: readonly ProduceResult[] }[];
  readonly committed: boolean;
}
