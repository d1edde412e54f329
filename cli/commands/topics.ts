/** `sluice topics create | list | describe | update | delete`. */
import {
  RETAIN_FOREVER,
  TOPIC_DEFAULTS,
  TOPIC_LIMITS,
  type CreateTopicRequest,
  type TopicConfig,
  type UpdateTopicRequest,
} from '../../api/topics';
import { TopicAlreadyExistsError } from '../../api/errors';
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
    'if-not-exists': {
      type: 'boolean',
      description: 'If the topic exists, leave it as it is and succeed (its settings are not compared)',
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
    let topic: TopicConfig;
    try {
      topic = await client.createTopic(request);
    } catch (err) {
      if (!(err instanceof TopicAlreadyExistsError) || options['if-not-exists'] !== true) throw err;
      const existing = await client.describeTopic(request.name);
      if (json) return writeJson(stdout, existing);
      stdout.write(`Topic "${existing.name}" exists already (${plural(existing.partitions, 'partition')}); left as it is.\n`);
      return;
    }
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

const alter: Command = {
  path: ['topics', 'alter'],
  args: ['name'],
  summary: "Grow a topic's partitions (and change its retention or dedupe window), as kafka-topics --alter.",
  details: [
    'Partitions can only be added. Adding them moves keys: a key goes to murmur2(key) mod the partition',
    'count, so after the change most keys map to another partition than before, and the events of one',
    'key are in order within the events written before the change and within those written after it,',
    'not across the two. Keyless events are spread over all partitions from then on. Consumer groups pick',
    'up the new partitions at their next rebalance; where they have nothing committed there, a member',
    'starts as its offset reset says (new events only, by default).',
  ].join('\n'),
  options: {
    partitions: {
      type: 'string',
      valueName: 'N',
      description: `The new number of partitions, more than now and at most ${TOPIC_LIMITS.maxPartitions}`,
    },
    'retention-ms': update.options['retention-ms']!,
    'dedupe-window-ms': update.options['dedupe-window-ms']!,
  },
  async run({ client, args, options, json, stdout }) {
    const changes: UpdateTopicRequest = {
      partitions: integerOption(alter, options, 'partitions', {}, 1),
      retentionMs: integerOption(alter, options, 'retention-ms', { forever: RETAIN_FOREVER }),
      dedupeWindowMs: integerOption(alter, options, 'dedupe-window-ms'),
    };
    if (changes.partitions === undefined && changes.retentionMs === undefined && changes.dedupeWindowMs === undefined) {
      throw new UsageError('give --partitions, --retention-ms or --dedupe-window-ms', alter.path);
    }
    const topic = await client.updateTopic(args[0]!, changes);
    if (json) return writeJson(stdout, topic);
    stdout.write(
      `Altered topic "${topic.name}": ${plural(topic.partitions, 'partition')}, retention ${formatRetention(topic.retentionMs)}, ` +
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

export const TOPICS_COMMANDS: readonly Command[] = [create, list, describe, update, alter, remove];

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
