/**
 * Consumer groups: membership with session timeouts, sticky assignment with a generation that
 * goes up on every change, server-side positions for the records call, fenced offset commits and
 * seeks. Knows nothing about Lambda or HTTP.
 *
 * Members that missed their session timeout are removed lazily, by the next call that reads the
 * group (a heartbeat, join, records, commit or describe), so no scheduler is needed.
 */
import { randomUUID } from 'node:crypto';
import {
  FencedMemberError,
  GroupNotEmptyError,
  GroupNotFoundError,
  OffsetOutOfRangeError,
  RebalanceInProgressError,
  ThrottledError,
  TopicNotFoundError,
} from '../../../api/errors';
import type { FetchedEvent } from '../../../api/events';
import {
  GROUP_DEFAULTS,
  type Assignment,
  type CommitRequest,
  type GroupDescription,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type MembershipResponse,
  type SeekRequest,
  type TopicPartitionOffset,
} from '../../../api/groups';
import { RETRY_DEFAULTS } from '../../../api/retry';
import type { TopicConfig } from '../../../api/topics';
import type { LogReadService } from '../log/log-read-service';
import { ResponseBudget } from '../log/response-budget';
import type { TopicStore } from '../topics/topic-store';
import { assign, tpKey } from './assignor';
import { CommitFenced, type CommitFence, type CommittedOffset, type GroupState, type GroupStore, type MemberState, type Position } from './group-store';

export interface GroupServiceOptions {
  readonly groups: GroupStore;
  readonly topics: TopicStore;
  /** The read side of the log only: groups never append (transactions do, through LogService). */
  readonly log: LogReadService;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default crypto.randomUUID */
  readonly newMemberId?: () => string;
  /** Pause between polls while a records call waits, in ms. @default 100 */
  readonly pollIntervalMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const MAX_MEMBERSHIP_ATTEMPTS = 20;

/**
 * How long a topic's partition count is reused to check that a group's assignment covers every
 * partition: a topic's new partitions reach its groups within this (plus a poll).
 */
export const LAYOUT_CACHE_MS = 30_000;

export interface RecordsResponse {
  readonly memberId: string;
  readonly generation: number;
  readonly records: readonly FetchedEvent[];
}

export class GroupService {
  private readonly groups: GroupStore;
  private readonly topics: TopicStore;
  private readonly log: LogReadService;
  private readonly now: () => number;
  private readonly newMemberId: () => string;
  private readonly pollIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Topics' partition counts by name, with when they were read (withCurrentLayout). */
  private readonly partitionCounts = new Map<string, { partitions: number; at: number }>();

  constructor(options: GroupServiceOptions) {
    this.groups = options.groups;
    this.topics = options.topics;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.newMemberId = options.newMemberId ?? randomUUID;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.sleep = options.sleep ?? RETRY_DEFAULTS.sleep;
  }

  /** `caller.host`: the caller's address (the handler passes API Gateway's source IP), shown by describe. */
  async join(group: string, request: JoinGroupRequest, caller: { readonly host?: string } = {}): Promise<MembershipResponse> {
    await this.requireTopics(request.topics);
    const memberId = request.memberId ?? this.newMemberId();
    const member: MemberState = {
      topics: [...new Set(request.topics)].sort(),
      sessionTimeoutMs: request.sessionTimeoutMs ?? GROUP_DEFAULTS.sessionTimeoutMs,
      lastSeenMs: this.now(),
      offsetReset: request.offsetReset ?? GROUP_DEFAULTS.offsetReset,
      ...(request.clientId === undefined ? {} : { clientId: request.clientId }),
      ...(caller.host === undefined ? {} : { host: caller.host }),
    };
    const state = await this.changeMembership(group, (members) => {
      const previous = members[memberId];
      // A rejoin with the same subscription (a restarted client keeping its ID) moves nothing.
      const same = previous && previous.topics.join() === member.topics.join();
      return { members: { ...members, [memberId]: member }, changed: !same };
    });
    // A (re)joining member starts from the committed offsets, never from where an earlier process
    // with its ID had read to without committing.
    await this.groups.deletePositions(group, ownedBy(state, memberId));
    return this.membership(state, memberId);
  }

  async heartbeat(group: string, memberId: string, knownGeneration?: number): Promise<HeartbeatResponse> {
    const state = await this.withCurrentLayout(await this.liveGroup(group), memberId);
    if (!state.members[memberId] || !(await this.groups.touchMember(group, memberId, this.now()))) {
      throw fenced(group, memberId);
    }
    const membership = await this.membership(state, memberId);
    return { ...membership, rebalanced: knownGeneration !== undefined && knownGeneration !== state.generation };
  }

  async leave(group: string, memberId: string): Promise<void> {
    if (!(await this.groups.getGroup(group))) notFound(group);
    let found = false;
    await this.changeMembership(group, (members) => {
      found = memberId in members;
      const { [memberId]: _gone, ...rest } = members;
      return { members: rest, changed: found };
    });
    if (!found) throw fenced(group, memberId);
  }

  /**
   * Deletes the group's committed offsets and membership (Kafka's `kafka-consumer-groups --delete`).
   * Refused (GroupNotEmpty) while it has live members; members past their session timeout do not
   * count. A member joining afterwards starts a new group, from its offset reset policy.
   */
  async deleteGroup(group: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_MEMBERSHIP_ATTEMPTS; attempt++) {
      const stored = await this.groups.getGroup(group);
      const state = stored ? await this.withoutExpired(stored) : undefined;
      const members = Object.entries(state?.members ?? {});
      if (members.length > 0) {
        const now = this.now();
        const waitMs = Math.max(...members.map(([, m]) => m.lastSeenMs + m.sessionTimeoutMs - now));
        throw new GroupNotEmptyError(
          `Group "${group}" has ${members.length} live member(s): stop them (they leave the group), or wait until their ` +
            `sessions time out (in at most ${Math.ceil(waitMs / 1000)} s without a heartbeat), then delete it`,
          { details: { group, members: members.map(([id]) => id).sort() } },
        );
      }
      // A group without a membership item exists while it has offsets (a reset before any join).
      if (!state && (await this.groups.readOffsets(group)).length === 0) notFound(group);
      // False: a member joined (or the membership changed) since the read; look again.
      if (await this.groups.deleteGroup(group, state?.version ?? 0)) return;
      await this.sleep(Math.floor(Math.random() * 20 * (attempt + 1)));
    }
    throw new ThrottledError(`Group "${group}" is changing too fast; retry`);
  }

  async listGroups(): Promise<string[]> {
    return this.groups.listGroups();
  }

  async describe(group: string): Promise<GroupDescription> {
    const offsets = await this.liveOffsets(group);
    const stored = await this.groups.getGroup(group);
    // A group whose offsets were reset before any member joined exists, with no members.
    const state: GroupState = stored
      ? await this.withoutExpired(stored)
      : offsets.length > 0
        ? { group, generation: 0, version: 0, members: {}, owners: {} }
        : notFound(group);
    const partitions: GroupDescription['partitions'][number][] = [];
    const topicNames = new Set([
      ...Object.values(state.members).flatMap((m) => m.topics),
      ...offsets.map((o) => o.topic),
    ]);
    for (const topic of [...topicNames].sort()) {
      const config = await this.topics.getTopic(topic);
      if (!config) continue;
      // Every partition's head in batches, not one read per partition.
      const all = await this.log.partitionOffsets(config);
      for (let partition = 0; partition < config.partitions; partition++) {
        const committed = offsets.find((o) => o.topic === topic && o.partition === partition && o.topicId === config.topicId);
        const bounds = all.find((b) => b.partition === partition) ?? { logStartOffset: 0, highWatermark: 0 };
        partitions.push({
          topic,
          partition,
          owner: state.owners[tpKey(topic, partition)] ?? null,
          committedOffset: committed?.offset ?? null,
          highWatermark: bounds.highWatermark,
          lag: bounds.highWatermark - Math.max(committed?.offset ?? bounds.logStartOffset, bounds.logStartOffset),
        });
      }
    }
    return {
      group,
      generation: state.generation,
      members: Object.entries(state.members)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([memberId, m]) => ({
          memberId,
          clientId: m.clientId ?? null,
          host: m.host ?? null,
          topics: m.topics,
          sessionTimeoutMs: m.sessionTimeoutMs,
          lastHeartbeat: new Date(m.lastSeenMs).toISOString(),
          assignments: ownedBy(state, memberId),
        })),
      partitions,
    };
  }

  /**
   * Events from the member's partitions, from its position (the committed offset, or the reset
   * policy, when it has none). With `commit`, the new positions are committed before answering:
   * at-most-once.
   */
  async records(
    group: string,
    memberId: string,
    options: {
      maxRecords?: number;
      waitMs?: number;
      commit?: boolean;
      requestId?: string;
      /**
       * Called with the topics of the member's partitions before anything is read or written for
       * this call; it throws to refuse (ACLs: topic read, see definitions/authorization.ts).
       */
      authorizeTopics?: (topics: string[]) => Promise<void>;
    } = {},
  ): Promise<RecordsResponse> {
    // Membership, committed offsets and positions in one query: an idle member's poll is cheap.
    let view = await this.groups.readGroupView(group);
    const live = await this.withoutExpired(view.state ?? notFound(group));
    const state = await this.withCurrentLayout(live, memberId);
    // Reassigned for a grown topic: its added partitions may have just got their first offsets.
    if (state !== live) view = await this.groups.readGroupView(group);
    const member = state.members[memberId];
    if (!member) throw fenced(group, memberId);
    const owned = ownedBy(state, memberId);
    await options.authorizeTopics?.([...new Set(owned.map((tp) => tp.topic))]);
    // A records call is a heartbeat too; it writes one only when a third of the session has passed
    // since the last, so a member polling every few seconds does not pay a write per poll.
    const now = this.now();
    if (now - member.lastSeenMs >= member.sessionTimeoutMs / 3 && !(await this.groups.touchMember(group, memberId, now))) {
      throw fenced(group, memberId);
    }
    const maxRecords = options.maxRecords ?? GROUP_DEFAULTS.maxRecords;
    const deadline = this.now() + (options.waitMs ?? 0);

    const { start: positions, stored } = await this.startPositions(state, memberId, member, owned, options.requestId, view);
    const starts = new Map(positions);
    // Start at a different partition each call, so one backlog cannot starve the others.
    const first = owned.length > 0 ? Math.floor(Math.random() * owned.length) : 0;
    const order = [...owned.slice(first), ...owned.slice(0, first)];
    const records: FetchedEvent[] = [];
    // One size budget for the whole answer, whichever partitions its events come from.
    const budget = new ResponseBudget();
    for (;;) {
      // The heads of the member's partitions in batches first; only partitions with events past
      // the member's position are fetched (an idle poll reads no partition one by one).
      const marks = await this.highWatermarks(owned);
      for (const tp of order) {
        if (records.length >= maxRecords || budget.full) break;
        const key = tpKey(tp.topic, tp.partition);
        if (marks.get(key) === positions.get(key)) continue;
        const page = await this.fetchFrom(tp.topic, tp.partition, positions.get(key)!, maxRecords - records.length, budget);
        records.push(...page.events);
        positions.set(key, page.nextOffset);
      }
      if (records.length > 0 || owned.length === 0 || this.now() >= deadline) break;
      await this.sleep(Math.min(this.pollIntervalMs, Math.max(0, deadline - this.now())));
    }

    const moved = owned.map((tp) => ({ ...tp, offset: positions.get(tpKey(tp.topic, tp.partition))! }));
    // An idle poll writes nothing: a position stored for this member and generation at the offset
    // it ends at stays (a retry of this call starts there either way). One not stored yet is
    // written, so a 'latest' start is fixed before anything newer is produced.
    const changed = moved.filter((p) => {
      const key = tpKey(p.topic, p.partition);
      return stored.get(key) !== p.offset;
    });
    await this.groups.writePositions(
      group,
      changed.map((p) => ({
        ...p,
        memberId,
        generation: state.generation,
        ...(options.requestId ? { requestId: options.requestId, from: starts.get(tpKey(p.topic, p.partition))! } : {}),
      })),
    );
    if (options.commit && moved.length > 0) {
      await this.commit(group, { memberId, generation: state.generation, offsets: moved });
    }
    return { memberId, generation: state.generation, records };
  }

  /** Commits offsets if the member is current and owns every partition (else 409, nothing written). */
  async commit(group: string, request: CommitRequest): Promise<void> {
    const { fence, offsets } = await this.prepareCommit(group, request);
    try {
      await this.groups.commitOffsets(fence, offsets);
    } catch (err) {
      if (err instanceof CommitFenced) throw await this.fenceError(group, request);
      throw err;
    }
  }

  /** The fence and offset records of a commit, for this service or a transaction to write. */
  async prepareCommit(group: string, request: CommitRequest): Promise<{ fence: CommitFence; offsets: CommittedOffset[] }> {
    await this.liveGroup(group);
    const bounds = await this.boundsOf(request.offsets);
    const offsets: CommittedOffset[] = request.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      topicId: bounds.get(tpKey(o.topic, o.partition))!.topicId,
    }));
    return {
      fence: { group, memberId: request.memberId, generation: request.generation, partitions: request.offsets },
      offsets,
    };
  }

  /** Why a fence failed, as the error the caller gets. */
  async fenceError(group: string, request: Pick<CommitRequest, 'memberId' | 'generation' | 'offsets'>): Promise<Error> {
    const state = await this.groups.getGroup(group);
    if (!state || !state.members[request.memberId]) return fenced(group, request.memberId);
    if (state.generation !== request.generation) {
      return new RebalanceInProgressError(
        `Group "${group}" is at generation ${state.generation}, not ${request.generation}: heartbeat, then retry ` +
          'for partitions still assigned',
        { details: { group, generation: state.generation } },
      );
    }
    const notOwned = request.offsets.filter((o) => state.owners[tpKey(o.topic, o.partition)] !== request.memberId);
    return new FencedMemberError(
      `Member ${request.memberId} does not own ${notOwned.map((o) => `${o.topic}/${o.partition}`).join(', ')}`,
      { details: { group, memberId: request.memberId, partitions: notOwned.map(({ topic, partition }) => ({ topic, partition })) } },
    );
  }

  /** Resets committed offsets (replay or skip ahead); members re-read from them on their next call. */
  async seek(group: string, request: SeekRequest): Promise<TopicPartitionOffset[]> {
    const config = await this.requireTopic(request.topic);
    const partitions = request.partitions ?? Array.from({ length: config.partitions }, (_, p) => p);
    const offsets: CommittedOffset[] = [];
    const all = await this.boundsOf(partitions.map((partition) => ({ topic: request.topic, partition })));
    for (const partition of partitions) {
      const bounds = all.get(tpKey(request.topic, partition))!;
      const to = request.to;
      const offset =
        to === 'earliest'
          ? bounds.logStartOffset
          : to === 'latest'
            ? bounds.highWatermark
            : 'timestamp' in to
              ? await this.log.offsetForTime(request.topic, partition, to.timestamp)
              : to.offset;
      if (offset < bounds.logStartOffset || offset > bounds.highWatermark) {
        throw new OffsetOutOfRangeError(`Offset ${offset} is outside ${request.topic}/${partition}`, {
          details: { offset, logStartOffset: bounds.logStartOffset, highWatermark: bounds.highWatermark },
        });
      }
      offsets.push({ topic: request.topic, partition, offset, topicId: bounds.topicId });
    }
    await this.groups.writeOffsets(group, offsets);
    await this.groups.deletePositions(group, offsets);
    return offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
  }

  /** The group with expired members removed (and partitions reassigned if any were). */
  private async liveGroup(group: string): Promise<GroupState> {
    return this.withoutExpired((await this.groups.getGroup(group)) ?? notFound(group));
  }

  private async withoutExpired(stored: GroupState): Promise<GroupState> {
    const now = this.now();
    if (!Object.values(stored.members).some((m) => m.lastSeenMs + m.sessionTimeoutMs < now)) return stored;
    return this.changeMembership(stored.group, (members) => ({ members, changed: false }));
  }

  /**
   * Applies a change to the member list, drops members past their session timeout, reassigns when
   * anything changed (generation + 1), and writes it conditionally; retried when another write won.
   */
  private async changeMembership(
    group: string,
    change: (members: Readonly<Record<string, MemberState>>, state: GroupState) => { members: Record<string, MemberState>; changed: boolean },
  ): Promise<GroupState> {
    // Optimistic concurrency, not a retry of AWS errors: putGroup answers false when another
    // member's write won (its condition on `version` failed), and the change is recomputed from
    // the newer state. Any error putGroup throws (already retried by the SDK) ends the loop.
    for (let attempt = 0; attempt < MAX_MEMBERSHIP_ATTEMPTS; attempt++) {
      const state = (await this.groups.getGroup(group)) ?? { group, generation: 0, version: 0, members: {}, owners: {} };
      const now = this.now();
      const live = Object.fromEntries(Object.entries(state.members).filter(([, m]) => m.lastSeenMs + m.sessionTimeoutMs >= now));
      const expired = Object.keys(state.members).length !== Object.keys(live).length;
      const { members, changed } = change(live, state);
      if (!changed && !expired && state.version > 0) {
        // Nothing to reassign; just store the member's fresh heartbeat time.
        if (JSON.stringify(members) === JSON.stringify(state.members)) return state;
      }
      const reassign = changed || expired || state.version === 0;
      const topics = await this.topicLayout(members);
      if (reassign) await this.startAddedPartitions(group, state, topics);
      const next = {
        group,
        generation: reassign ? state.generation + 1 : state.generation,
        members,
        owners: reassign
          ? assign(topics, Object.fromEntries(Object.entries(members).map(([id, m]) => [id, m.topics])), state.owners)
          : state.owners,
      };
      if (await this.groups.putGroup(state, next)) return { ...next, version: state.version + 1 };
      await this.sleep(Math.floor(Math.random() * 20 * (attempt + 1)));
    }
    throw new ThrottledError(`Group "${group}" is changing too fast; retry`);
  }

  /**
   * The group, reassigned first when a topic the member subscribes to has another partition count
   * than the assignment covers (it grew, or was deleted): a topic's new partitions go to members
   * on their next records call or heartbeat, as a Kafka consumer's metadata refresh triggers a
   * rebalance. Only the member's topics are checked: each topic of the group is some member's,
   * and that member's calls check it.
   */
  private async withCurrentLayout(state: GroupState, memberId: string): Promise<GroupState> {
    for (const topic of state.members[memberId]?.topics ?? []) {
      const assigned = assignedPartitions(state, topic);
      if ((await this.partitionCount(topic, false)) === assigned) continue;
      // Decided on a fresh read: a count cached before the growth must not force a rebalance.
      const partitions = await this.partitionCount(topic, true);
      if (partitions === assigned) continue;
      // Changed only if still stale in the state the change is computed from (another call may
      // have reassigned meanwhile): one growth, one new generation.
      return this.changeMembership(state.group, (members, current) => ({ members, changed: assignedPartitions(current, topic) !== partitions }));
    }
    return state;
  }

  /**
   * A topic's partition count (0 when it does not exist), reused for LAYOUT_CACHE_MS unless
   * `fresh`: shared by every member this instance serves, so a check costs about nothing.
   */
  private async partitionCount(topic: string, fresh: boolean): Promise<number> {
    const now = this.now();
    const cached = this.partitionCounts.get(topic);
    if (!fresh && cached && now - cached.at < LAYOUT_CACHE_MS) return cached.partitions;
    const partitions = (await this.topics.getTopic(topic))?.partitions ?? 0;
    if (this.partitionCounts.size >= 10_000) this.partitionCounts.clear();
    this.partitionCounts.set(topic, { partitions, at: now });
    return partitions;
  }

  /**
   * Partitions added to a topic the group already reads (its assignment covered fewer of them)
   * start at their beginning, whatever the members' offsetReset: every event on them was produced
   * after the group was reading the topic, so none is skipped (a Kafka consumer at `latest` skips
   * those produced before its rebalance). Written only where the group has no offset for them.
   */
  private async startAddedPartitions(
    group: string,
    state: GroupState,
    layout: readonly { topic: string; partitions: number; topicId: string }[],
  ): Promise<void> {
    const offsets = layout.flatMap(({ topic, partitions, topicId }) => {
      const assigned = assignedPartitions(state, topic);
      if (assigned === 0 || partitions <= assigned) return [];
      return Array.from({ length: partitions - assigned }, (_, i) => ({ topic, partition: assigned + i, offset: 0, topicId }));
    });
    if (offsets.length > 0) await this.groups.initOffsets(group, offsets);
  }

  private async topicLayout(members: Readonly<Record<string, MemberState>>) {
    const names = [...new Set(Object.values(members).flatMap((m) => m.topics))].sort();
    const layout = [];
    for (const topic of names) {
      const config = await this.topics.getTopic(topic);
      if (config) layout.push({ topic, partitions: config.partitions, topicId: config.topicId });
    }
    return layout;
  }

  private async membership(state: GroupState, memberId: string): Promise<MembershipResponse> {
    const offsets = await this.liveOffsets(state.group);
    const assignments: Assignment[] = ownedBy(state, memberId).map((tp) => ({
      ...tp,
      committedOffset: offsets.find((o) => o.topic === tp.topic && o.partition === tp.partition)?.offset ?? null,
    }));
    return { memberId, generation: state.generation, assignments };
  }

  /** Committed offsets of topics that still exist as the incarnation they were committed for. */
  private async liveOffsets(group: string, read?: CommittedOffset[]): Promise<CommittedOffset[]> {
    const offsets = read ?? (await this.groups.readOffsets(group));
    const ids = new Map<string, string | undefined>();
    for (const topic of new Set(offsets.map((o) => o.topic))) ids.set(topic, (await this.topics.getTopic(topic))?.topicId);
    return offsets.filter((o) => ids.get(o.topic) === o.topicId);
  }

  private async startPositions(
    state: GroupState,
    memberId: string,
    member: MemberState,
    owned: readonly { topic: string; partition: number }[],
    requestId: string | undefined,
    view: { readonly offsets: CommittedOffset[]; readonly positions: Position[] },
  ): Promise<{ start: Map<string, number>; stored: Map<string, number> }> {
    const { positions } = view;
    const committed = await this.liveOffsets(state.group, view.offsets);
    const start = new Map<string, number>();
    /** The member's stored position (this generation) per partition. */
    const stored = new Map<string, number>();
    const reset: { topic: string; partition: number }[] = [];
    for (const tp of owned) {
      const key = tpKey(tp.topic, tp.partition);
      const mine = positions.find(
        (p) => tpKey(p.topic, p.partition) === key && p.memberId === memberId && p.generation === state.generation,
      );
      const done = committed.find((o) => tpKey(o.topic, o.partition) === key);
      // A retry of the call that moved this position reads the same range again.
      if (mine) {
        stored.set(key, mine.offset);
        start.set(key, requestId !== undefined && mine.requestId === requestId ? mine.from! : mine.offset);
      } else if (done) start.set(key, done.offset);
      else reset.push(tp);
    }
    const bounds = await this.boundsOf(reset);
    for (const tp of reset) {
      const b = bounds.get(tpKey(tp.topic, tp.partition))!;
      start.set(tpKey(tp.topic, tp.partition), member.offsetReset === 'earliest' ? b.logStartOffset : b.highWatermark);
    }
    return { start, stored };
  }

  private async highWatermarks(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, number>> {
    const marks = new Map<string, number>();
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      const wanted = partitions.filter((p) => p.topic === topic).map((p) => p.partition);
      for (const [p, mark] of await this.log.highWatermarks(topic, wanted)) marks.set(tpKey(topic, p), mark);
    }
    return marks;
  }

  /**
   * Bounds of several partitions: the heads of a topic's partitions in batches (BatchGetItem)
   * rather than one read per partition; a single partition reads just its own head.
   */
  private async boundsOf(
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<Map<string, { topicId: string; logStartOffset: number; highWatermark: number }>> {
    const result = new Map<string, { topicId: string; logStartOffset: number; highWatermark: number }>();
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      const wanted = partitions.filter((p) => p.topic === topic);
      const config = await this.requireTopic(topic);
      if (wanted.length === 1 || wanted.some((p) => p.partition >= config.partitions)) {
        // One partition, or a missing one (bounds throws the error the caller should get).
        for (const p of wanted) result.set(tpKey(topic, p.partition), await this.log.bounds(topic, p.partition));
        continue;
      }
      for (const b of await this.log.partitionOffsets(config)) {
        result.set(tpKey(topic, b.partition), { topicId: config.topicId, logStartOffset: b.logStartOffset, highWatermark: b.highWatermark });
      }
    }
    return result;
  }

  /** Reads from an offset; one that fell out of the retained log restarts at the log start. */
  private async fetchFrom(topic: string, partition: number, offset: number, limit: number, budget: ResponseBudget) {
    try {
      return await this.log.fetch(topic, partition, { offset, limit }, budget);
    } catch (err) {
      if (!(err instanceof OffsetOutOfRangeError)) throw err;
      const { logStartOffset, highWatermark } = err.details as { logStartOffset: number; highWatermark: number };
      return this.log.fetch(topic, partition, { offset: offset < logStartOffset ? logStartOffset : highWatermark, limit }, budget);
    }
  }

  private async requireTopics(topics: readonly string[]): Promise<TopicConfig[]> {
    return Promise.all(topics.map((t) => this.requireTopic(t)));
  }

  private async requireTopic(topic: string): Promise<TopicConfig> {
    const config = await this.topics.getTopic(topic);
    if (!config) throw new TopicNotFoundError(`Topic "${topic}" does not exist`, { details: { topic } });
    return config;
  }
}

/** How many of a topic's partitions the group's assignment covers. */
function assignedPartitions(state: GroupState, topic: string): number {
  return Object.keys(state.owners).filter((key) => key.slice(0, key.lastIndexOf('#')) === topic).length;
}

function ownedBy(state: GroupState, memberId: string): { topic: string; partition: number }[] {
  return Object.entries(state.owners)
    .filter(([, m]) => m === memberId)
    .map(([key]) => {
      const at = key.lastIndexOf('#');
      return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
    })
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function notFound(group: string): never {
  throw new GroupNotFoundError(`Group "${group}" does not exist`, { details: { group } });
}

function fenced(group: string, memberId: string): FencedMemberError {
  return new FencedMemberError(`Member ${memberId} is not in group "${group}" (left or timed out); rejoin`, {
    details: { group, memberId },
  });
}
