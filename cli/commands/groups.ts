/** `sluice groups list | describe | reset-offsets`. */
import { GroupNotFoundError, OffsetOutOfRangeError, PartitionNotFoundError } from '../../api/errors';
import type { GroupDescription, SeekRequest } from '../../api/groups';
import type { SeekResponse } from '../../client/group-types';
import { parseDuration, parseTime } from '../time';
import { integerOption, UsageError, type Command, type CommandContext, type SluiceApi } from '../command';
import { formatFields, formatTable } from '../format';

const list: Command = {
  path: ['groups', 'list'],
  args: [],
  summary: 'List consumer groups.',
  options: {},
  async run({ client, json, stdout }) {
    const response = await client.listGroups();
    if (json) return writeJson(stdout, response);
    stdout.write(response.groups.length === 0 ? 'No groups.\n' : formatTable([{ header: 'GROUP' }], response.groups.map((g) => [g])));
  },
};

const describe: Command = {
  path: ['groups', 'describe'],
  args: ['group'],
  summary: "Show a group's members and, per partition, its owner, committed offset and lag.",
  details: [
    'Members that missed their session timeout are removed by this call (as by any call that reads the group),',
    'so what it shows is current. COMMITTED is the next offset the group will read; LAG is HIGH-WATERMARK minus',
    'COMMITTED. Where nothing is committed yet, both are "-" (as kafka-consumer-groups shows them): what the next',
    "member reads there depends on its offset reset (the earliest retained event, or only new ones). --json has",
    "the API's lag, which counts such a partition from its log start.",
  ].join('\n'),
  options: {},
  async run({ client, args, json, stdout }) {
    const group = await client.describeGroup(args[0]!);
    if (json) return writeJson(stdout, group);
    stdout.write(describeGroup(group));
  },
};

/** Partitions whose offsets a dry run asks for at once (one fetch each for --to-timestamp). */
const PLAN_CONCURRENCY = 16;

const resetOffsets: Command = {
  path: ['groups', 'reset-offsets'],
  args: ['group'],
  summary: "Set a group's committed offsets of a topic (replay or skip ahead); a dry run unless --execute.",
  details: [
    'Give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp, --to-datetime, --by-duration',
    'and --shift-by. Without --execute, prints',
    'the plan (each partition\'s current and new offset) and changes nothing, as kafka-consumer-groups does;',
    'with --execute, writes the offsets and prints them. Members, if any, read on from the new offsets at their',
    'next records call. A group that does not exist (no member ever joined, no offset committed) is refused,',
    'so that a mistyped name does not create a group: give --allow-new to create it.',
  ].join('\n'),
  options: {
    topic: { type: 'string', valueName: 'TOPIC', description: 'The topic (required)', required: true },
    partition: { type: 'string', valueName: 'N', description: 'Only this partition (default: all of the topic)' },
    'to-earliest': { type: 'boolean', description: 'To the first retained event' },
    'to-latest': { type: 'boolean', description: 'To the high watermark (skip everything so far)' },
    'to-offset': { type: 'string', valueName: 'N', description: 'To this offset' },
    'to-timestamp': { type: 'string', valueName: 'MS', description: 'To the first event at or after this time, in epoch ms' },
    'to-datetime': {
      type: 'string',
      valueName: 'TIME',
      description: 'To the first event at or after TIME, an ISO 8601 date-time (2026-11-30T12:00:00Z; no zone: UTC)',
    },
    'by-duration': {
      type: 'string',
      valueName: 'DUR',
      description: 'To the first event at or after DUR ago: PT10M, P1DT2H, or 10m, 1h30m, 2d',
    },
    'shift-by': {
      type: 'string',
      valueName: 'N',
      description: 'Move each committed offset by N (-N: back N), stopping at either end of the log',
    },
    execute: { type: 'boolean', description: 'Write the new offsets (default: a dry run that only prints them)' },
    'allow-new': { type: 'boolean', description: 'Create the group if it does not exist (default: refuse an unknown group)' },
  },
  async run({ client, args, options, json, stdout, stderr }) {
    const group = args[0]!;
    const partition = integerOption(resetOffsets, options, 'partition', {}, 0);
    const offset = integerOption(resetOffsets, options, 'to-offset', {}, 0);
    const timestamp = integerOption(resetOffsets, options, 'to-timestamp', {}, 0);
    const shiftBy = integerOption(resetOffsets, options, 'shift-by');
    const datetime = timeOption(options, 'to-datetime', (text) => (/^\d{4}-/.test(text) ? parseTime(text) : undefined), 'an ISO 8601 date-time');
    const duration = timeOption(options, 'by-duration', parseDuration, 'a duration such as PT10M, 10m or 1h30m');
    const targets: (SeekRequest['to'] | { shiftBy: number })[] = [
      ...(options['to-earliest'] === true ? (['earliest'] as const) : []),
      ...(options['to-latest'] === true ? (['latest'] as const) : []),
      ...(offset === undefined ? [] : [{ offset }]),
      ...(timestamp === undefined ? [] : [{ timestamp }]),
      ...(datetime === undefined ? [] : [{ timestamp: datetime }]),
      ...(duration === undefined ? [] : [{ timestamp: Math.max(0, Date.now() - duration) }]),
      ...(shiftBy === undefined ? [] : [{ shiftBy }]),
    ];
    if (targets.length !== 1) throw new UsageError(`give exactly one of ${TARGET_FLAGS}`, resetOffsets.path);
    const target = targets[0]!;
    const topic = String(options.topic);
    const current = await committedOffsets(client, group, topic, options['allow-new'] === true);
    const request: SeekRequest = {
      topic,
      ...(partition === undefined ? {} : { partitions: [partition] }),
      // --shift-by works each partition's offset out from its committed one: planned below.
      to: typeof target === 'object' && 'shiftBy' in target ? 'earliest' : target,
    };
    const shift = typeof target === 'object' && 'shiftBy' in target ? target.shiftBy : undefined;
    // The plan checks every partition before anything is written; --execute of a single seek
    // leaves that to the service, which checks the same things in one request.
    const plan = options.execute !== true || shift !== undefined ? await planReset(client, request, current, shift) : [];

    if (options.execute !== true) {
      if (json) writeJson(stdout, { dryRun: true, offsets: plan });
      else {
        stdout.write(
          formatTable(
            [{ header: 'TOPIC' }, { header: 'PARTITION', align: 'right' }, { header: 'CURRENT-OFFSET', align: 'right' }, { header: 'NEW-OFFSET', align: 'right' }],
            plan.map((p) => [p.topic, String(p.partition), p.currentOffset === null ? '-' : String(p.currentOffset), String(p.offset)]),
          ),
        );
      }
      stderr.write(`Dry run: nothing changed. Add --execute to reset the offsets of group "${group}".\n`);
      return;
    }
    let response: SeekResponse;
    if (shift !== undefined) {
      // One seek per new offset: the plan above has checked every partition first.
      const byOffset = new Map<number, number[]>();
      for (const p of plan) byOffset.set(p.offset, [...(byOffset.get(p.offset) ?? []), p.partition]);
      const offsets: SeekResponse['offsets'][number][] = [];
      for (const [to, partitions] of byOffset) offsets.push(...(await client.seek(group, { topic, partitions, to: { offset: to } })).offsets);
      response = { offsets: offsets.sort((a, b) => a.partition - b.partition) };
    } else {
      response = await client.seek(group, request);
    }
    if (json) return writeJson(stdout, response);
    stdout.write(
      formatTable(
        [{ header: 'TOPIC' }, { header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }],
        response.offsets.map((o) => [o.topic, String(o.partition), String(o.offset)]),
      ),
    );
  },
};

/**
 * The group's committed offsets of the topic, by partition. An unknown group is refused unless
 * `allowNew`: a seek would create it.
 * @throws GroupNotFoundError
 */
export async function committedOffsets(client: SluiceApi, group: string, topic: string, allowNew: boolean): Promise<Map<number, number | null>> {
  let description: GroupDescription;
  try {
    description = await client.describeGroup(group);
  } catch (err) {
    if (!(err instanceof GroupNotFoundError)) throw err;
    if (allowNew) return new Map();
    throw new GroupNotFoundError(`${err.message}; check the name, or give --allow-new to create it with these offsets`, {
      details: err.details,
      cause: err,
    });
  }
  return new Map(description.partitions.filter((p) => p.topic === topic).map((p) => [p.partition, p.committedOffset]));
}

/**
 * What the seek would write, worked out as the service does (api/groups.ts seek): the same
 * targets, the same refusals (PartitionNotFound, OffsetOutOfRange), nothing written.
 */
export async function planReset(
  client: SluiceApi,
  request: SeekRequest,
  current: ReadonlyMap<number, number | null>,
  shiftBy?: number,
): Promise<ResetPlanEntry[]> {
  const topic = await client.describeTopic(request.topic);
  const partitions = request.partitions ?? topic.partitionOffsets.map((p) => p.partition);
  const plan: ResetPlanEntry[] = [];
  for (let i = 0; i < partitions.length; i += PLAN_CONCURRENCY) {
    const chunk = partitions.slice(i, i + PLAN_CONCURRENCY);
    plan.push(
      ...(await Promise.all(
        chunk.map(async (partition) => {
          const bounds = topic.partitionOffsets.find((p) => p.partition === partition);
          if (!bounds) {
            throw new PartitionNotFoundError(
              `Topic "${topic.name}" has partitions 0 to ${topic.partitions - 1}; there is no partition ${partition}`,
              { details: { topic: topic.name, partition, partitions: topic.partitions } },
            );
          }
          const to = request.to;
          if (shiftBy !== undefined) {
            const committed = current.get(partition) ?? null;
            if (committed === null) {
              throw new UsageError(
                `--shift-by moves committed offsets, and nothing is committed on ${topic.name}/${partition}; give --partition or another target`,
                ['groups', 'reset-offsets'],
              );
            }
            // As kafka-consumer-groups does: a shift past either end of the log stops there.
            const offset = Math.min(bounds.highWatermark, Math.max(bounds.logStartOffset, committed + shiftBy));
            return { topic: topic.name, partition, currentOffset: committed, offset };
          }
          const offset =
            to === 'earliest'
              ? bounds.logStartOffset
              : to === 'latest'
                ? bounds.highWatermark
                : 'timestamp' in to
                  ? await offsetForTime(client, topic.name, partition, to.timestamp)
                  : to.offset;
          if (offset < bounds.logStartOffset || offset > bounds.highWatermark) {
            throw new OffsetOutOfRangeError(`Offset ${offset} is outside ${topic.name}/${partition}`, {
              details: { offset, logStartOffset: bounds.logStartOffset, highWatermark: bounds.highWatermark },
            });
          }
          return { topic: topic.name, partition, currentOffset: current.get(partition) ?? null, offset };
        }),
      )),
    );
  }
  return plan;
}

const TARGET_FLAGS = '--to-earliest, --to-latest, --to-offset, --to-timestamp, --to-datetime, --by-duration, --shift-by';

/** A time flag's value through `parse`; undefined when absent. @throws UsageError when it does not parse */
function timeOption(options: CommandContext['options'], name: string, parse: (text: string) => number | undefined, what: string): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const value = parse(String(raw));
  if (value === undefined) throw new UsageError(`--${name} must be ${what}, got "${String(raw)}"`, resetOffsets.path);
  return value;
}

/** The first offset at or after `timestamp`, or the high watermark when there is none. */
async function offsetForTime(client: SluiceApi, topic: string, partition: number, timestamp: number): Promise<number> {
  const { events, nextOffset } = await client.fetch(topic, partition, { timestamp, limit: 1 });
  return events[0]?.offset ?? nextOffset;
}

export interface ResetPlanEntry {
  readonly topic: string;
  readonly partition: number;
  /** The committed offset now; null when none is committed. */
  readonly currentOffset: number | null;
  /** The offset `--execute` would commit. */
  readonly offset: number;
}

const remove: Command = {
  path: ['groups', 'delete'],
  args: ['group'],
  summary: "Delete a group: its committed offsets and membership (refused while it has members).",
  details: [
    'As kafka-consumer-groups --delete: a group with live members is refused (GroupNotEmpty, exit 1);',
    'stop its consumers first, or wait out their session timeout. Prints nothing with --json.',
  ].join('\n'),
  options: {},
  async run({ client, args, json, stdout }) {
    await client.deleteGroup(args[0]!);
    if (!json) stdout.write(`Deleted group "${args[0]}".\n`);
  },
};

export const GROUPS_COMMANDS: readonly Command[] = [list, describe, resetOffsets, remove];

export function describeGroup(group: GroupDescription): string {
  const fields = formatFields([
    ['Group', group.group],
    ['Generation', String(group.generation)],
    ['Members', String(group.members.length)],
  ]);
  const members =
    group.members.length === 0
      ? ''
      : '\n' +
        formatTable(
          [
            { header: 'MEMBER' },
            { header: 'CLIENT-ID' },
            { header: 'HOST' },
            { header: 'TOPICS' },
            { header: 'SESSION-TIMEOUT', align: 'right' },
            { header: 'LAST-HEARTBEAT' },
            { header: 'PARTITIONS' },
          ],
          group.members.map((m) => [
            m.memberId,
            m.clientId ?? '-',
            m.host ?? '-',
            m.topics.join(','),
            String(m.sessionTimeoutMs),
            m.lastHeartbeat,
            m.assignments.map((a) => `${a.topic}/${a.partition}`).join(', ') || '-',
          ]),
        );
  const partitions =
    group.partitions.length === 0
      ? ''
      : '\n' +
        formatTable(
          [
            { header: 'TOPIC' },
            { header: 'PARTITION', align: 'right' },
            { header: 'OWNER' },
            { header: 'COMMITTED', align: 'right' },
            { header: 'HIGH-WATERMARK', align: 'right' },
            { header: 'LAG', align: 'right' },
          ],
          group.partitions.map((p) => [
            p.topic,
            String(p.partition),
            p.owner ?? '-',
            p.committedOffset === null ? '-' : String(p.committedOffset),
            String(p.highWatermark),
            p.committedOffset === null ? '-' : String(p.lag),
          ]),
        ) +
        (group.partitions.some((p) => p.committedOffset === null)
          ? '"-": nothing committed yet. A member starts there at the earliest retained event\n' +
            'or at new events only, as its offset reset says (consume --from-beginning).\n'
          : '');
  return fields + partitions + members;
}

function writeJson(stdout: CommandContext['stdout'], value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
