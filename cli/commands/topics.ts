/** `sluice topics create | list | describe | update | delete`. */
import {
  RETAIN_FOREVER,
  TOPIC_DEFAULTS,
  TOPIC_LIMITS,
  type CreateTopicRequest,
  type TopicConfig,
  type UpdateTopicRequest,
} from '../../api/topics';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
import { formatDedupeWindow, formatDuration, formatFields, formatRetention, formatTable } from '../format';

const create: Command = {
  path: ['topics', 'create'],
  args: ['name'],
  summary: 'Create a topic.',
  options: {
    partitions: {
      type: 'string',
      valueName: 'N',
      description: `Number of partitions, 1-${TOPIC_LIMITS.maxPartitions} (default: ${TOPIC_DEFAULTS.partitions})`,
    },
    'retention-ms': {
      type: 'string',
      valueName: 'N',
      description:
        `How long events are kept, in ms; -1 or "forever" keeps them forever, write -1 as ` +
        `--retention-ms=-1 (default: ${formatRetention(TOPIC_DEFAULTS.retentionMs)})`,
    },
    'dedupe-window-ms': {
      type: 'string',
      valueName: 'N',
      description:
        `How long message IDs are remembered for exactly-once produce, in ms, at most ` +
        `${formatDuration(TOPIC_LIMITS.maxDedupeWindowMs)}; 0 turns it off ` +
        `(default: ${formatDuration(TOPIC_DEFAULTS.dedupeWindowMs)})`,
    },
  },
  async run({ client, args, options, json, stdout }) {
    // Unset flags stay undefined, which JSON leaves out, so the server's defaults apply.
    const request: CreateTopicRequest = {
      name: args[0]!,
      partitions: integerOption(create, options, 'partitions'),
      retentionMs: integerOption(create, options, 'retention-ms', { forever: RETAIN_FOREVER }),
      dedupeWindowMs: integerOption(create, options, 'dedupe-window-ms'),
    };
    const topic = await client.createTopic(request);
    if (json) return writeJson(stdout, topic);
    stdout.write(
      `Created topic "${topic.name}": ${plural(topic.partitions, 'partition')}, ` +
        `retention ${formatRetention(topic.retentionMs)}, dedupe window ${formatDedupeWindow(topic.dedupeWindowMs)}.\n`,
    );
  },
};

const list: Command = {
  path: ['topics', 'list'],
  args: [],
  summary: 'List topics.',
  options: {},
  async run({ client, json, stdout }) {
    const response = await client.listTopics();
    if (json) return writeJson(stdout, response);
    if (response.topics.length === 0) {
      stdout.write('No topics.\n');
      return;
    }
    stdout.write(topicsTable(response.topics));
  },
};

const describe: Command = {
  path: ['topics', 'describe'],
  args: ['name'],
  summary: "Show a topic's configuration and, per partition, its log start offset and high watermark.",
  options: {},
  async run({ client, args, json, stdout }) {
    const topic = await client.describeTopic(args[0]!);
    if (json) return writeJson(stdout, topic);
    stdout.write(
      formatFields([
        ['Name', topic.name],
        ['Topic ID', topic.topicId],
        ['Partitions', String(topic.partitions)],
        ['Retention', formatRetention(topic.retentionMs)],
        ['Dedupe window', formatDedupeWindow(topic.dedupeWindowMs)],
        ['Created', topic.createdAt],
      ]),
    );
    stdout.write('\n');
    stdout.write(
      formatTable(
        [
          { header: 'PARTITION', align: 'right' },
          { header: 'LOG-START', align: 'right' },
          { header: 'HIGH-WATERMARK', align: 'right' },
        ],
        topic.partitionOffsets.map((p) => [String(p.partition), String(p.logStartOffset), String(p.highWatermark)]),
      ),
    );
  },
};

const update: Command = {
  path: ['topics', 'update'],
  args: ['name'],
  summary: "Change a topic's retention or dedupe window.",
  details: 'Give --retention-ms, --dedupe-window-ms or both; what is not given stays as it is.',
  options: {
    'retention-ms': {
      type: 'string',
      valueName: 'N',
      description:
        'New retention, in ms; -1 or "forever" keeps events forever, write -1 as --retention-ms=-1. ' +
        'Reads apply it at once; stored events keep the expiry they were written with',
    },
    'dedupe-window-ms': {
      type: 'string',
      valueName: 'N',
      description: `New dedupe window, in ms, at most ${formatDuration(TOPIC_LIMITS.maxDedupeWindowMs)}; 0 turns the check off`,
    },
  },
  async run({ client, args, options, json, stdout }) {
    const changes: UpdateTopicRequest = {
      retentionMs: integerOption(update, options, 'retention-ms', { forever: RETAIN_FOREVER }),
      dedupeWindowMs: integerOption(update, options, 'dedupe-window-ms'),
    };
    if (changes.retentionMs === undefined && changes.dedupeWindowMs === undefined) {
      throw new UsageError('give --retention-ms, --dedupe-window-ms or both', update.path);
    }
    const topic = await client.updateTopic(args[0]!, changes);
    if (json) return writeJson(stdout, topic);
    stdout.write(
      `Updated topic "${topic.name}": retention ${formatRetention(topic.retentionMs)}, ` +
        `dedupe window ${formatDedupeWindow(topic.dedupeWindowMs)}.\n`,
    );
  },
};

const remove: Command = {
  path: ['topics', 'delete'],
  args: ['name'],
  summary: 'Delete a topic; its events are removed in the background. Prints nothing with --json.',
  options: {},
  async run({ client, args, json, stdout }) {
    await client.deleteTopic(args[0]!);
    if (!json) stdout.write(`Deleted topic "${args[0]}".\n`);
  },
};

export const TOPICS_COMMANDS: readonly Command[] = [create, list, describe, update, remove];

export function topicsTable(topics: readonly TopicConfig[]): string {
  return formatTable(
    [{ header: 'NAME' }, { header: 'PARTITIONS', align: 'right' }, { header: 'RETENTION' }, { header: 'DEDUPE-WINDOW' }],
    topics.map((t) => [t.name, String(t.partitions), formatRetention(t.retentionMs), formatDedupeWindow(t.dedupeWindowMs)]),
  );
}

function writeJson(stdout: CommandContext['stdout'], value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
