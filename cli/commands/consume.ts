/**
 * `sluice consume`: with --group, a Consumer in a group printing events as they arrive (like
 * kafka-console-consumer); without, a tail of every partition of the topics (like kcat -C).
 */
import { GROUP_DEFAULTS, GROUP_LIMITS, groupNameSchema } from '../../api/groups';
import type { FetchedEvent } from '../../api/events';
import type { Guarantee } from '../../client/consumer-delivery';
import type { TopicPartition } from '../../client/consumer-membership';
import { integerOption, UsageError, type Command, type CommandContext } from '../command';
import { formatEvent } from '../format';
import { eventPrinter, parseStart, partitionsOf, PRINT_OPTIONS, START_OPTIONS, tail } from '../tail';

const GUARANTEES: readonly Guarantee[] = ['at-least-once', 'at-most-once'];

export const consume: Command = {
  path: ['consume'],
  args: ['topic'],
  variadic: true,
  summary: 'Print the events of one or more topics as they arrive, in a consumer group or not.',
  details: [
    'With --group, joins the group, reads the partitions assigned to this member and commits as',
    '--guarantee says; prints "assigned: <topic>/<partition>, ..." to stderr whenever the assignment',
    'changes. Where the group has nothing committed it starts at new events (--from-beginning: the',
    'earliest retained ones); use `sluice groups reset-offsets` to move a group. On Ctrl-C or SIGTERM',
    '(or --max-messages) it commits what it printed, leaves the group at once and exits 0.',
    '',
    'Without --group, reads every partition of the topics without joining anything, from --from,',
    '--from-time (or --from-beginning), by default new events only, and waits for more until Ctrl-C.',
    '',
    'Prints "<topic>/<partition>/<offset> <key> <value>" (key and value as `sluice fetch` prints',
    'them); -f FMT, --pretty or --json print otherwise.',
  ].join('\n'),
  interruptible: true,
  options: {
    group: { type: 'string', valueName: 'GROUP', description: 'Consume as a member of this consumer group (default: no group)' },
    'from-beginning': {
      type: 'boolean',
      description: 'Start at the earliest retained event where nothing is committed (default: only new events)',
    },
    ...START_OPTIONS,
    ...PRINT_OPTIONS,
    guarantee: {
      type: 'string',
      valueName: 'G',
      description: 'With --group: "at-least-once": print, then commit (default); "at-most-once": commit, then print',
    },
    'max-messages': { type: 'string', valueName: 'N', description: 'Stop after printing N events (default: until Ctrl-C)' },
    'session-timeout-ms': {
      type: 'string',
      valueName: 'MS',
      description:
        `With --group: how long the group waits for a heartbeat before it gives this member's partitions to others, ` +
        `${GROUP_LIMITS.minSessionTimeoutMs}-${GROUP_LIMITS.maxSessionTimeoutMs} (default: ${GROUP_DEFAULTS.sessionTimeoutMs})`,
    },
    'client-id': {
      type: 'string',
      valueName: 'ID',
      description: 'With --group: the name `groups describe` shows for this member (default: sluice-<host>-<pid>)',
    },
  },
  async run(context) {
    const { options } = context;
    const print = eventPrinter(consume, options, context.json, (e) => `${e.topic}/${formatEvent(e)}`);
    const maxMessages = integerOption(consume, options, 'max-messages', {}, 1);
    if (typeof options.group === 'string') return consumeInGroup(context, String(options.group), print, maxMessages);
    for (const flag of ['guarantee', 'session-timeout-ms', 'client-id']) {
      if (options[flag] !== undefined) throw new UsageError(`--${flag} needs --group`, consume.path);
    }
    if (options['from-beginning'] === true && (options.from !== undefined || options['from-time'] !== undefined)) {
      throw new UsageError('give one of --from-beginning, --from and --from-time', consume.path);
    }
    const start = parseStart(consume, options, { offset: options['from-beginning'] === true ? 'earliest' : 'latest' });
    if (context.signal?.aborted) return;
    const partitions = await partitionsOf(context.client, [...new Set(context.args)], undefined, start);
    await tail({
      client: context.client,
      partitions,
      follow: true,
      limit: maxMessages,
      signal: context.signal,
      print: (e) => context.stdout.write(print(e)),
    });
  },
};

async function consumeInGroup(
  { client, args, options, stderr, stdout, signal }: CommandContext,
  groupId: string,
  print: (event: FetchedEvent) => string,
  maxMessages: number | undefined,
): Promise<void> {
  if (!groupNameSchema.safeParse(groupId).success) {
    throw new UsageError(`--group must be 1-249 ASCII letters, digits, ".", "_" or "-", got "${groupId}"`, consume.path);
  }
  if (options.from !== undefined || options['from-time'] !== undefined) {
    throw new UsageError(
      `--from and --from-time read without a group; to move group "${groupId}", use \`sluice groups reset-offsets\``,
      consume.path,
    );
  }
  const guarantee = parseGuarantee(options.guarantee);
  const sessionTimeoutMs = integerOption(consume, options, 'session-timeout-ms', {}, GROUP_LIMITS.minSessionTimeoutMs);
  if (sessionTimeoutMs !== undefined && sessionTimeoutMs > GROUP_LIMITS.maxSessionTimeoutMs) {
    throw new UsageError(`--session-timeout-ms must be at most ${GROUP_LIMITS.maxSessionTimeoutMs}`, consume.path);
  }
  const clientId = typeof options['client-id'] === 'string' ? options['client-id'] : undefined;
  if (signal?.aborted) return;

  let consumer;
  try {
    consumer = client.consumer({
      groupId,
      sessionTimeoutMs,
      offsetReset: options['from-beginning'] === true ? 'earliest' : undefined,
      // At-most-once commits a whole read before printing: read no more than --max-messages at a time.
      maxRecords: maxMessages === undefined ? undefined : Math.min(maxMessages, GROUP_LIMITS.maxRecords),
      ...(clientId === undefined ? {} : { clientId }),
    });
  } catch (err) {
    // The consumer checks its options (a client ID with spaces, ...): a usage error here.
    if (clientId !== undefined && err instanceof TypeError) throw new UsageError(`--client-id: ${err.message}`, consume.path);
    throw err;
  }
  consumer.subscribe({ topics: [...new Set(args)] });
  const stop = () => void consumer.disconnect().catch(() => undefined); // run() reports a failure
  signal?.addEventListener('abort', stop, { once: true });
  let printed = 0;
  try {
    await consumer.run({
      guarantee,
      onAssignment: (assignments) => stderr.write(`assigned: ${formatAssignments(assignments)}\n`),
      eachMessage: async ({ message }) => {
        stdout.write(print(message));
        if (maxMessages !== undefined && ++printed >= maxMessages) stop();
      },
    });
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

export function formatAssignments(assignments: readonly TopicPartition[]): string {
  return assignments.length === 0 ? '(none)' : assignments.map((a) => `${a.topic}/${a.partition}`).join(', ');
}

function parseGuarantee(value: CommandContext['options'][string]): Guarantee {
  if (value === undefined) return 'at-least-once';
  const guarantee = GUARANTEES.find((g) => g === String(value).trim().toLowerCase());
  if (!guarantee) throw new UsageError(`--guarantee must be "at-least-once" or "at-most-once", got "${value}"`, consume.path);
  return guarantee;
}
