/**
 * A Consumer's membership of its group: joining, heartbeats in the background, the generation and
 * assignments it last heard, and rejoining under the same member ID when the group fenced it out
 * (its session timed out, or it left). Every call that changes what the member knows runs one at
 * a time, so answers are applied in the order they were asked for.
 */
import { FencedMemberError, GroupNotFoundError } from '../api/errors';
import type { MembershipResponse, OffsetReset } from '../api/groups';
import type { SluiceClient } from './sluice-client';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What the membership needs of a client (a SluiceClient). */
export type MembershipClient = Pick<SluiceClient, 'joinGroup' | 'heartbeat' | 'leaveGroup'>;

export interface MembershipConfig {
  readonly group: string;
  readonly memberId: string;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly offsetReset: OffsetReset | undefined;
  /** Sent with every join (Kafka's `client.id`). */
  readonly clientId?: string;
  /** Called with the member's partitions after the first join and whenever they change. */
  readonly onAssignment: (assignments: readonly TopicPartition[]) => void;
  /** A background heartbeat failed for another reason than fencing (the next one may succeed). */
  readonly onHeartbeatError: (err: unknown) => void;
}

export const tpKey = (topic: string, partition: number) => `${topic}#${partition}`;

export class Membership {
  readonly #client: MembershipClient;
  readonly #config: MembershipConfig;
  #generation = -1;
  #assignments: readonly TopicPartition[] = [];
  #owned = new Set<string>();
  #queue: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the last successful records call was sent (ms since the epoch). */
  #lastContact = 0;
  #beating = false;

  constructor(client: MembershipClient, config: MembershipConfig) {
    this.#client = client;
    this.#config = config;
  }

  get memberId(): string {
    return this.#config.memberId;
  }

  /** The generation last heard; -1 before the first join. */
  get generation(): number {
    return this.#generation;
  }

  get assignments(): readonly TopicPartition[] {
    return this.#assignments;
  }

  owns(topic: string, partition: number): boolean {
    return this.#owned.has(tpKey(topic, partition));
  }

  /** Joins the group, or rejoins with the same member ID. */
  join(): Promise<void> {
    return this.#exclusive(() => this.#join());
  }

  /** Learns the current generation and assignments; rejoins when the member is no longer in the group. */
  heartbeat(): Promise<void> {
    return this.#exclusive(() => this.#heartbeat());
  }

  /**
   * Leaves, then joins again: a new generation, so the server forgets the member's positions and
   * its next records call starts from the committed offsets.
   */
  rejoinFresh(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#leave();
      await this.#join();
    });
  }

  /** Heartbeats every `heartbeatIntervalMs` (after the previous one completed) until stopped. */
  startHeartbeats(): void {
    this.#beating = true;
    this.#schedule();
  }

  stopHeartbeats(): void {
    this.#beating = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the heartbeats and leaves the group; a member that is already gone is fine. */
  async leave(): Promise<void> {
    this.stopHeartbeats();
    await this.#exclusive(() => this.#leave());
  }

  /**
   * A records call sent at `sentAtMs` succeeded: the group saw the member then (a records call
   * refreshes the session as a heartbeat does, and its generation tells of a rebalance).
   */
  contacted(sentAtMs: number): void {
    this.#lastContact = Math.max(this.#lastContact, sentAtMs);
  }

  #schedule(delayMs = this.#config.heartbeatIntervalMs): void {
    if (!this.#beating) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // Records calls kept the session alive meanwhile (an idle consumer's quick polls): no call.
      const since = Date.now() - this.#lastContact;
      if (since < this.#config.heartbeatIntervalMs) return this.#schedule(this.#config.heartbeatIntervalMs - since);
      this.heartbeat()
        .catch((err: unknown) => this.#config.onHeartbeatError(err))
        .finally(() => this.#schedule());
    }, delayMs);
    this.#timer.unref?.();
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #join(): Promise<void> {
    const { group, memberId, topics, sessionTimeoutMs, offsetReset, clientId } = this.#config;
    this.#apply(
      await this.#client.joinGroup(group, { topics: [...topics], memberId, sessionTimeoutMs, offsetReset, ...(clientId === undefined ? {} : { clientId }) }),
    );
  }

  async #heartbeat(): Promise<void> {
    if (this.#generation < 0) return this.#join();
    try {
      this.#apply(await this.#client.heartbeat(this.#config.group, this.memberId, this.#generation));
    } catch (err) {
      if (!isGone(err)) throw err;
      await this.#join();
    }
  }

  async #leave(): Promise<void> {
    try {
      await this.#client.leaveGroup(this.#config.group, this.memberId);
    } catch (err) {
      if (!isGone(err)) throw err;
    }
    this.#assignments = [];
    this.#owned = new Set();
  }

  #apply(response: MembershipResponse): void {
    const assignments = response.assignments.map(({ topic, partition }) => ({ topic, partition }));
    const owned = new Set(assignments.map((a) => tpKey(a.topic, a.partition)));
    const changed = this.#generation < 0 || owned.size !== this.#owned.size || [...owned].some((k) => !this.#owned.has(k));
    this.#generation = response.generation;
    this.#assignments = assignments;
    this.#owned = owned;
    if (changed) this.#config.onAssignment(assignments);
  }
}

/** The member is not in the group (any more): it must join again. */
export function isGone(err: unknown): boolean {
  return err instanceof FencedMemberError || err instanceof GroupNotFoundError;
}
