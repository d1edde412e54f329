/**
 * Persistence of consumer groups. GroupService holds the rules (membership, fencing, assignment);
 * a GroupStore reads and writes, with optimistic concurrency on the membership item.
 */
import type { OffsetReset } from '../../../api/groups';
import type { WriteTransaction } from '../aws/write-transaction';

export interface MemberState {
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly lastSeenMs: number;
  readonly offsetReset: OffsetReset;
  /** Kafka's `client.id`, as the member gave it at join (absent: none given, or joined before it existed). */
  readonly clientId?: string;
  /** The caller's source IP at join, as API Gateway saw it. */
  readonly host?: string;
}

export interface GroupState {
  readonly group: string;
  readonly generation: number;
  /** Bumped on every membership write; the condition of the next one. 0: not stored yet. */
  readonly version: number;
  readonly members: Readonly<Record<string, MemberState>>;
  /** `"<topic>#<partition>"` → memberId. */
  readonly owners: Readonly<Record<string, string>>;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The incarnation of the topic the offset belongs to; offsets of a deleted topic are ignored. */
  readonly topicId: string;
}

export interface Position {
  readonly topic: string;
  readonly partition: number;
  /** Where the member reads next. */
  readonly offset: number;
  readonly memberId: string;
  readonly generation: number;
  /** The records call that moved it here, and where that call started (so a retry can replay it). */
  readonly requestId?: string;
  readonly from?: number;
}

/** What a commit asserts about the group when it writes (checked in the same transaction). */
export interface CommitFence {
  readonly group: string;
  readonly memberId: string;
  readonly generation: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number }[];
}

export interface GroupStore {
  getGroup(group: string): Promise<GroupState | undefined>;
  /**
   * The group, its committed offsets and its members' positions in one read (a records call needs
   * all three; one query costs its size once, where three would each round up).
   */
  readGroupView(group: string): Promise<{ state: GroupState | undefined; offsets: CommittedOffset[]; positions: Position[] }>;
  /** Writes the membership item if its version is still `state.version` (returns false if not). */
  putGroup(state: GroupState, next: Omit<GroupState, 'version'>): Promise<boolean>;
  /** Records a heartbeat; false when the member is no longer in the group. */
  touchMember(group: string, memberId: string, nowMs: number): Promise<boolean>;
  /**
   * Deletes the group: its membership item only if its version is still `version` (0: there is
   * none; returns false when it changed), then every other item of the group (offsets, positions,
   * heartbeats). Returns true when the membership condition held.
   */
  deleteGroup(group: string, version: number): Promise<boolean>;
  /** Groups with a membership item or committed offsets. */
  listGroups(): Promise<string[]>;
  readOffsets(group: string): Promise<CommittedOffset[]>;
  readPositions(group: string): Promise<Position[]>;
  writePositions(group: string, positions: readonly Position[]): Promise<void>;
  deletePositions(group: string, partitions: readonly { topic: string; partition: number }[]): Promise<void>;
  /**
   * Writes each committed offset only where the group has none for that partition of that topic
   * incarnation (topicId): never over a commit.
   */
  initOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** Writes committed offsets unconditionally (seek, an admin action). */
  writeOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void>;
  /** Writes committed offsets if the fence holds; throws CommitFenced otherwise. */
  commitOffsets(fence: CommitFence, offsets: readonly CommittedOffset[]): Promise<void>;
  /**
   * Adds a fenced commit to a larger transaction (read-process-write): the offsets are written only
   * if the fence holds; if it does not, the transaction writes nothing and reports CommitFenced as
   * this part's error.
   */
  addFencedCommit(tx: WriteTransaction, fence: CommitFence, offsets: readonly CommittedOffset[]): void;
}

/** The commit's fence did not hold: nothing was written. */
export class CommitFenced extends Error {
  constructor() {
    super('commit fence did not hold');
    this.name = 'CommitFenced';
  }
}
