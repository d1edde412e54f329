/** `sluice groups list | describe | reset-offsets`. */
import type { GroupDescription, SeekRequest } from '../../api/groups';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
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
    'so what it shows is current. COMMITTED is the next offset the group will read ("-": none committed yet);',
    'LAG is HIGH-WATERMARK minus COMMITTED (all retained events when nothing is committed).',
  ].join('\n'),
  options: {},
  async run({ client, args, json, stdout }) {
    const group = await client.describeGroup(args[0]!);
    if (json) return writeJson(stdout, group);
    stdout.write(describeGroup(group));
  },
};

const resetOffsets: Command = {
  path: ['groups', 'reset-offsets'],
  args: ['group'],
  summary: "Set a group's committed offsets of a topic (replay or skip ahead).",
  details: [
    'Give exactly one of --to-earliest, --to-latest, --to-offset and --to-timestamp. Members, if any, read',
    'on from the new offsets at their next records call. Prints the offsets written.',
  ].join('\n'),
  options: {
    topic: { type: 'string', valueName: 'TOPIC', description: 'The topic (required)', required: true },
    partition: { type: 'string', valueName: 'N', description: 'Only this partition (default: all of the topic)' },
    'to-earliest': { type: 'boolean', description: 'To the first retained event' },
    'to-latest': { type: 'boolean', description: 'To the high watermark (skip everything so far)' },
    'to-offset': { type: 'string', valueName: 'N', description: 'To this offset' },
    'to-timestamp': { type: 'string', valueName: 'MS', description: 'To the first event at or after this time, in epoch ms' },
  },
  async run({ client, args, options, json, stdout }) {
    const partition = integerOption(resetOffsets, options, 'partition', {}, 0);
    const offset = integerOption(resetOffsets, options, 'to-offset', {}, 0);
    const timestamp = integerOption(resetOffsets, options, 'to-timestamp', {}, 0);
    const targets: SeekRequest['to'][] = [
      ...(options['to-earliest'] === true ? (['earliest'] as const) : []),
      ...(options['to-latest'] === true ? (['latest'] as const) : []),
      ...(offset === undefined ? [] : [{ offset }]),
      ...(timestamp === undefined ? [] : [{ timestamp }]),
    ];
    if (targets.length !== 1) {
      throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp', resetOffsets.path);
    }
    const request: SeekRequest = {
      topic: String(options.topic),
      ...(partition === undefined ? {} : { partitions: [partition] }),
      to: targets[0]!,
    };
    const response = await client.seek(args[0]!, request);
    if (json) return writeJson(stdout, response);
    stdout.write(
      formatTable(
        [{ header: 'TOPIC' }, { header: 'PARTITION', align: 'right' }, { header: 'OFFSET', align: 'right' }],
        response.offsets.map((o) => [o.topic, String(o.partition), String(o.offset)]),
      ),
    );
  },
};

export const GROUPS_COMMANDS: readonly Command[] = [list, describe, resetOffsets];

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
          [{ header: 'MEMBER' }, { header: 'TOPICS' }, { header: 'SESSION-TIMEOUT', align: 'right' }, { header: 'LAST-HEARTBEAT' }, { header: 'PARTITIONS' }],
          group.members.map((m) => [
            m.memberId,
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
            String(p.lag),
          ]),
        );
  return fields + partitions + members;
}

function writeJson(stdout: CommandContext['stdout'], value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
