/** `sluice subscriptions create | list | describe | delete | seek | dead-letters | redrive`: push subscriptions. */
import type { SubscriptionSeekRequest, SubscriptionTarget } from '../../api/subscriptions';
import { UsageError, type Command, type CommandContext } from '../command';
import { formatTable } from '../format';

type Options = CommandContext['options'];

const create: Command = {
  path: ['subscriptions', 'create'],
  args: ['topic', 'name'],
  summary: "Subscribe a webhook, an SQS queue or a Lambda function to a topic's events.",
  details: [
    'Give exactly one target: --webhook URL (https; signed with Sluice-Signature, the secret printed once),',
    '--queue URL (an SQS queue the stack may send to) or --lambda ARN. --filter takes a JSON filter on key,',
    'headers and value fields (see docs/api.md). Starts at the latest event unless --start-at says',
    '"earliest" or a timestamp in epoch ms. Needs topic read when ACLs are on.',
  ].join('\n'),
  options: {
    webhook: { type: 'string', valueName: 'URL', description: 'Deliver to this HTTPS endpoint' },
    secret: { type: 'string', valueName: 'SECRET', description: 'The webhook signing secret (default: generated, printed once)' },
    queue: { type: 'string', valueName: 'URL', description: 'Deliver to this SQS queue (FIFO: grouped by topic and partition)' },
    lambda: { type: 'string', valueName: 'ARN', description: 'Deliver to this Lambda function (synchronous invoke)' },
    filter: { type: 'string', valueName: 'JSON', description: 'Only events matching this filter, e.g. {"headers":{"type":["created"]}}' },
    'start-at': { type: 'string', valueName: 'WHERE', description: '"latest" (default), "earliest" or epoch ms' },
    'max-attempts': { type: 'string', valueName: 'N', description: 'Attempts before events become dead letters (default 10)' },
  },
  async run({ client, args, options, json, stdout }) {
    const target = targetOf(options);
    let filter: unknown;
    if (typeof options.filter === 'string') {
      try {
        filter = JSON.parse(options.filter);
      } catch {
        throw new UsageError('--filter must be JSON', create.path);
      }
    }
    const response = await client.createSubscription(args[0]!, {
      name: args[1]!,
      target,
      ...(filter === undefined ? {} : { filter: filter as never }),
      ...(typeof options['start-at'] === 'string' ? { startAt: startAtOf(options['start-at']) } : {}),
      ...(typeof options['max-attempts'] === 'string' ? { maxAttempts: intOf(options['max-attempts'], '--max-attempts', create) } : {}),
    });
    if (json) return writeJson(stdout, response);
    stdout.write(`Created subscription ${response.name} on ${response.topic} → ${targetText(response.target)}\n`);
    if (response.secret) stdout.write(`Webhook secret (shown once): ${response.secret}\n`);
  },
};

const list: Command = {
  path: ['subscriptions', 'list'],
  args: ['topic'],
  summary: "List a topic's subscriptions (declared in the stack, and created here).",
  options: {},
  async run({ client, args, json, stdout }) {
    const subscriptions = await client.listSubscriptions(args[0]!);
    if (json) return writeJson(stdout, { subscriptions });
    if (subscriptions.length === 0) return void stdout.write('No subscriptions.\n');
    stdout.write(
      formatTable(
        [{ header: 'NAME' }, { header: 'TARGET' }, { header: 'FILTER' }, { header: 'SOURCE' }],
        subscriptions.map((s) => [s.name, targetText(s.target), s.filter ? JSON.stringify(s.filter) : '-', s.source]),
      ),
    );
  },
};

const describe: Command = {
  path: ['subscriptions', 'describe'],
  args: ['topic', 'name'],
  summary: 'Show a subscription: target, filter, and per partition its position, lag and failures.',
  options: {},
  async run({ client, args, json, stdout }) {
    const d = await client.describeSubscription(args[0]!, args[1]!);
    if (json) return writeJson(stdout, d);
    stdout.write(
      `Subscription ${d.name} on ${d.topic} (${d.source})\n` +
        `Target:       ${targetText(d.target)}\n` +
        `Filter:       ${d.filter ? JSON.stringify(d.filter) : 'none'}\n` +
        `Start at:     ${typeof d.startAt === 'string' ? d.startAt : `timestamp ${d.startAt.timestamp}`}\n` +
        `Max attempts: ${d.maxAttempts}\nLag:          ${d.lag}\nFailing:      ${d.failing} partition(s)\nDead letters: ${d.deadLetters}\n`,
    );
    stdout.write(
      formatTable(
        [{ header: 'PARTITION' }, { header: 'POSITION' }, { header: 'HIGH WATERMARK' }, { header: 'LAG' }, { header: 'FAILED ATTEMPTS' }, { header: 'LAST ERROR' }],
        d.partitions.map((p) => [
          String(p.partition),
          p.position === null ? '-' : String(p.position),
          String(p.highWatermark),
          String(p.lag),
          String(p.failedAttempts),
          p.lastError ?? '',
        ]),
      ),
    );
  },
};

const remove: Command = {
  path: ['subscriptions', 'delete'],
  args: ['topic', 'name'],
  summary: 'Delete a subscription (with its positions and dead letters). Declared ones are removed in CDK.',
  options: {},
  async run({ client, args, json, stdout }) {
    await client.deleteSubscription(args[0]!, args[1]!);
    if (json) return writeJson(stdout, { deleted: args[1] });
    stdout.write(`Deleted subscription ${args[1]} of ${args[0]}\n`);
  },
};

const seek: Command = {
  path: ['subscriptions', 'seek'],
  args: ['topic', 'name'],
  summary: 'Rewind (or skip) a subscription: it delivers again from there.',
  details: 'Give --to earliest, --to latest, --timestamp MS, or --partition N --offset N.',
  options: {
    to: { type: 'string', valueName: 'WHERE', description: '"earliest" or "latest"' },
    timestamp: { type: 'string', valueName: 'MS', description: 'The first event at or after this time (epoch ms), every partition' },
    partition: { type: 'string', valueName: 'N', description: 'One partition (with --offset)' },
    offset: { type: 'string', valueName: 'N', description: 'The offset on --partition' },
  },
  async run({ client, args, options, json, stdout }) {
    let to: SubscriptionSeekRequest['to'];
    const given = [options.to, options.timestamp, options.partition ?? options.offset].filter((v) => v !== undefined).length;
    if (given !== 1) throw new UsageError('give exactly one of --to, --timestamp, or --partition with --offset', seek.path);
    if (options.to === 'earliest' || options.to === 'latest') to = options.to;
    else if (options.to !== undefined) throw new UsageError('--to must be "earliest" or "latest"', seek.path);
    else if (typeof options.timestamp === 'string') to = { timestamp: intOf(options.timestamp, '--timestamp', seek) };
    else {
      if (typeof options.partition !== 'string' || typeof options.offset !== 'string') throw new UsageError('--partition needs --offset', seek.path);
      to = { partition: intOf(options.partition, '--partition', seek), offset: intOf(options.offset, '--offset', seek) };
    }
    const response = await client.seekSubscription(args[0]!, args[1]!, to);
    if (json) return writeJson(stdout, response);
    stdout.write(formatTable([{ header: 'PARTITION' }, { header: 'POSITION' }], response.positions.map((p) => [String(p.partition), String(p.position)])));
  },
};

const deadLetters: Command = {
  path: ['subscriptions', 'dead-letters'],
  args: ['topic', 'name'],
  summary: "List a subscription's dead letters: the events it could not deliver, with the error.",
  options: {
    partition: { type: 'string', valueName: 'N', description: 'Only this partition' },
    limit: { type: 'string', valueName: 'N', description: 'At most N (default 100)' },
  },
  async run({ client, args, options, json, stdout }) {
    const response = await client.deadLetters(args[0]!, args[1]!, {
      ...(typeof options.partition === 'string' ? { partition: intOf(options.partition, '--partition', deadLetters) } : {}),
      ...(typeof options.limit === 'string' ? { limit: intOf(options.limit, '--limit', deadLetters) } : {}),
    });
    if (json) return writeJson(stdout, response);
    if (response.deadLetters.length === 0) return void stdout.write('No dead letters.\n');
    stdout.write(
      formatTable(
        [{ header: 'PARTITION' }, { header: 'OFFSET' }, { header: 'KEY' }, { header: 'ATTEMPTS' }, { header: 'FAILED AT' }, { header: 'ERROR' }],
        response.deadLetters.map((d) => [String(d.partition), String(d.offset), d.event.key ?? '', String(d.attempts), d.failedAt, d.error]),
      ),
    );
    stdout.write(`${response.deadLetters.length} of ${response.total} dead letters\n`);
  },
};

const redrive: Command = {
  path: ['subscriptions', 'redrive'],
  args: ['topic', 'name'],
  summary: "Deliver a subscription's dead letters again; delivered ones are removed.",
  options: { partition: { type: 'string', valueName: 'N', description: 'Only this partition' } },
  async run({ client, args, options, json, stdout }) {
    const partitions = typeof options.partition === 'string' ? [intOf(options.partition, '--partition', redrive)] : undefined;
    const response = await client.redriveDeadLetters(args[0]!, args[1]!, partitions);
    if (json) return writeJson(stdout, response);
    stdout.write(`Redriving ${response.deadLetters} dead letters of partitions ${response.partitions.join(', ') || '(none)'}\n`);
  },
};

export const SUBSCRIPTIONS_COMMANDS: readonly Command[] = [create, list, describe, remove, seek, deadLetters, redrive];

function targetOf(options: Options): SubscriptionTarget {
  const given = (['webhook', 'queue', 'lambda'] as const).filter((k) => typeof options[k] === 'string');
  if (given.length !== 1) throw new UsageError('give exactly one of --webhook, --queue, --lambda', create.path);
  if (options.secret !== undefined && given[0] !== 'webhook') throw new UsageError('--secret is for --webhook', create.path);
  switch (given[0]) {
    case 'webhook':
      return { type: 'webhook', url: String(options.webhook), ...(typeof options.secret === 'string' ? { secret: options.secret } : {}) };
    case 'queue':
      return { type: 'queue', queueUrl: String(options.queue) };
    default:
      return { type: 'lambda', functionArn: String(options.lambda) };
  }
}

function startAtOf(value: string) {
  if (value === 'earliest' || value === 'latest') return value;
  if (/^\d{1,16}$/.test(value)) return { timestamp: Number(value) };
  throw new UsageError('--start-at must be "earliest", "latest" or epoch ms', create.path);
}

function intOf(value: string, flag: string, command: Command): number {
  if (!/^\d{1,16}$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer`, command.path);
  return Number(value);
}

function targetText(target: { type: string; url?: string; queueUrl?: string; functionArn?: string }): string {
  return `${target.type} ${target.url ?? target.queueUrl ?? target.functionArn ?? ''}`;
}

function writeJson(out: { write(chunk: string): unknown }, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
