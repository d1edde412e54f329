/** `sluice consume`: a Consumer in a group, printing events as they arrive (like kafka-console-consumer). */
import { GROUP_DEFAULTS, GROUP_LIMITS, groupNameSchema } from '../../api/groups';
import type { Guarantee } from '../../client/consumer-delivery';
import type { TopicPartition } from '../../client/consumer-membership';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
import { formatEvent } from '../format';

const GUARANTEES: readonly Guarantee[] = ['at-least-once', 'at-most-once'];

export const consume: Command = {
  path: ['consume'],
  args: ['topic'],
  summary: 'Consume a topic as a member of a consumer group, printing events as they arrive.',
  details: [
    'Joins the group, reads the partitions assigned to this member and prints each event as',
    '"<topic>/<partition>/<offset> <key> <value>" (key and value as `sluice fetch` prints them; --json: one',
    'event object per line), committing as --guarantee says. Prints "assigned: <topic>/<partition>, ..."',
    'to stderr whenever the assignment changes. Runs until Ctrl-C or SIGTERM (or --max-messages), then',
    'commits what it printed, leaves the group at once (its partitions go to the other members) and exits 0.',
  ].join('\n'),
  interruptible: true,
  options: {
    group: { type: 'string', valueName: 'GROUP', description: 'The consumer group (required)', required: true },
    'from-beginning': {
      type: 'boolean',
      description: 'Where the group has no committed offset, start at the earliest retained event (default: only new events)',
    },
    guarantee: {
      type: 'string',
      valueName: 'G',
      description: '"at-least-once": print, then commit (default); "at-most-once": commit, then print',
    },
    'max-messages': { type: 'string', valueName: 'N', description: 'Stop after printing N events (default: until Ctrl-C)' },
    'session-timeout-ms': {
      type: 'string',
      valueName: 'MS',
      description:
        `How long the group waits for a heartbeat before it gives this member's partitions to others, ` +
        `${GROUP_LIMITS.minSessionTimeoutMs}-${GROUP_LIMITS.maxSessionTimeoutMs} (default: ${GROUP_DEFAULTS.sessionTimeoutMs})`,
    },
  },
  async run({ client, args, options, json, stdout, stderr, signal }) {
    const topic = args[0]!;
    const groupId = String(options.group);
    if (!groupNameSchema.safeParse(groupId).success) {
      throw new UsageError(`--group must be 1-249 ASCII letters, digits, ".", "_" or "-", got "${groupId}"`, consume.path);
    }
    const guarantee = parseGuarantee(options.guarantee);
    const maxMessages = integerOption(consume, options, 'max-messages', {}, 1);
    const sessionTimeoutMs = integerOption(consume, options, 'session-timeout-ms', {}, GROUP_LIMITS.minSessionTimeoutMs);
    if (sessionTimeoutMs !== undefined && sessionTimeoutMs > GROUP_LIMITS.maxSessionTimeoutMs) {
      throw new UsageError(`--session-timeout-ms must be at most ${GROUP_LIMITS.maxSessionTimeoutMs}`, consume.path);
    }
    if (signal?.aborted) return;

    const consumer = client.consumer({
      groupId,
      sessionTimeoutMs,
      offsetReset: options['from-beginning'] === true ? 'earliest' : undefined,
      // At-most-once commits a whole read before printing: read no more than --max-messages at a time.
      maxRecords: maxMessages === undefined ? undefined : Math.min(maxMessages, GROUP_LIMITS.maxRecords),
    });
    consumer.subscribe({ topic });
    const stop = () => void consumer.disconnect().catch(() => undefined); // run() reports a failure
    signal?.addEventListener('abort', stop, { once: true });
    let printed = 0;
    try {
      await consumer.run({
        guarantee,
        onAssignment: (assignments) => stderr.write(`assigned: ${formatAssignments(assignments)}\n`),
        eachMessage: async ({ message }) => {
          stdout.write(json ? `${JSON.stringify(message)}\n` : `${message.topic}/${formatEvent(message)}\n`);
          if (maxMessages !== undefined && ++printed >= maxMessages) stop();
        },
      });
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  },
};

export function formatAssignments(assignments: readonly TopicPartition[]): string {
  return assignments.length === 0 ? '(none)' : assignments.map((a) => `${a.topic}/${a.partition}`).join(', ');
}

function parseGuarantee(value: CommandContext['options'][string]): Guarantee {
  if (value === undefined) return 'at-least-once';
  const guarantee = GUARANTEES.find((g) => g === String(value).trim().toLowerCase());
  if (!guarantee) throw new UsageError(`--guarantee must be "at-least-once" or "at-most-once", got "${value}"`, consume.path);
  return guarantee;
}
