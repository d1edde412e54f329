/** `sluice queues create | list | describe | send | receive | ack | nack | redrive | purge | delete`: message queues. */
import {
  QUEUE_DEFAULTS,
  QUEUE_LIMITS,
  type JsonValue,
  type QueueDescription,
  type QueueMessage,
  type QueueMessageInput,
  type ReceiptResult,
} from '../../api/queues';
import type { Queue } from '../../client/queue';
import { integerOption, type Command, type CommandContext } from '../command';
import { formatDuration, formatFields, formatTable } from '../format';

/** A send request stays well below Lambda's 6 MB invocation payload. */
const MAX_SEND_BYTES = 3 * 1024 * 1024;

const create: Command = {
  path: ['queues', 'create'],
  args: ['name'],
  summary: 'Create a queue (SQS FIFO) and its dead-letter queue.',
  details: [
    'A message that was received --max-receive-count times without being acked moves to the',
    'dead-letter queue; `sluice queues redrive` moves dead letters back.',
  ].join('\n'),
  options: {
    'visibility-timeout-ms': {
      type: 'string',
      valueName: 'N',
      description: `How long a received message stays hidden from other consumers, in ms (default: ${formatDuration(QUEUE_DEFAULTS.visibilityTimeoutMs)})`,
    },
    'max-receive-count': {
      type: 'string',
      valueName: 'N',
      description: `Receives before a message moves to the dead-letter queue, 1-${QUEUE_LIMITS.maxReceiveCount} (default: ${QUEUE_DEFAULTS.maxReceiveCount})`,
    },
    'retention-ms': {
      type: 'string',
      valueName: 'N',
      description: `How long a message is kept, in ms, ${formatDuration(QUEUE_LIMITS.minRetentionMs)} to ${formatDuration(QUEUE_LIMITS.maxRetentionMs)} (default: ${formatDuration(QUEUE_DEFAULTS.retentionMs)})`,
    },
    'delivery-delay-ms': {
      type: 'string',
      valueName: 'N',
      description: `Every message is hidden this long after it is sent, in ms, at most ${formatDuration(QUEUE_LIMITS.maxDeliveryDelayMs)} (default: 0)`,
    },
  },
  async run({ client, args, options, json, stdout }) {
    // Unset flags stay undefined, which JSON leaves out, so the server's defaults apply.
    const queue = await client.createQueue({
      name: args[0]!,
      visibilityTimeoutMs: integerOption(create, options, 'visibility-timeout-ms', {}, 0),
      maxReceiveCount: integerOption(create, options, 'max-receive-count', {}, 1),
      retentionMs: integerOption(create, options, 'retention-ms', {}, 0),
      deliveryDelayMs: integerOption(create, options, 'delivery-delay-ms', {}, 0),
    });
    if (json) return writeJson(stdout, queue);
    stdout.write(
      `Created queue "${queue.name}": visibility timeout ${formatDuration(queue.visibilityTimeoutMs)}, ` +
        `max receive count ${queue.maxReceiveCount}, retention ${formatDuration(queue.retentionMs)}.\n`,
    );
  },
};

const list: Command = {
  path: ['queues', 'list'],
  args: [],
  summary: 'List queues (created here, and declared in the stack).',
  options: {},
  async run({ client, json, stdout }) {
    const response = await client.listQueues();
    if (json) return writeJson(stdout, response);
    if (response.queues.length === 0) return void stdout.write('No queues.\n');
    stdout.write(formatTable([{ header: 'NAME' }, { header: 'ORIGIN' }], response.queues.map((q) => [q.name, q.origin])));
  },
};

const describe: Command = {
  path: ['queues', 'describe'],
  args: ['name'],
  summary: "Show a queue's configuration and its approximate counts: visible, in flight, delayed, dead letters.",
  options: {},
  async run({ client, args, json, stdout }) {
    const queue = await client.describeQueue(args[0]!);
    if (json) return writeJson(stdout, queue);
    stdout.write(formatFields(describeFields(queue)));
  },
};

const send: Command = {
  path: ['queues', 'send'],
  args: ['queue'],
  optionalArgs: ['body'],
  summary: 'Send a message (the body argument), or one per line of stdin.',
  details: [
    'A body that parses as JSON is sent as that JSON value (an object, a number, a "quoted" string, ...),',
    'any other as a string; with --raw, as a string. From stdin, empty lines are skipped.',
    'Prints "<message-id> <status>" per message, in order: "sent", or "duplicate" when a message with',
    'that ID (and group) was sent within the last 5 minutes, so nothing new was enqueued (--json: one',
    'result object per line). Without --id, every message gets a random ID.',
  ].join('\n'),
  options: {
    group: {
      type: 'string',
      valueName: 'GROUP',
      description: 'The message group: messages of one group are delivered in order, one at a time (default: the message ID)',
    },
    id: {
      type: 'string',
      valueName: 'ID',
      description: 'The message ID (deduplication ID): send again with it to retry safely. From stdin, line N gets "<ID>-<N>"',
    },
    raw: { type: 'boolean', description: 'Send the body as a string, even one that parses as JSON' },
  },
  async run({ client, args, options, json, stdout, stdinLines }) {
    const queue = client.queue(args[0]!);
    const group = typeof options.group === 'string' ? options.group : undefined;
    const id = typeof options.id === 'string' ? options.id : undefined;
    const raw = options.raw === true;
    const message = (text: string, messageId: string | undefined): QueueMessageInput => ({
      body: raw ? text : parseBody(text),
      ...(group === undefined ? {} : { groupId: group }),
      ...(messageId === undefined ? {} : { messageId }),
    });
    const print = (results: Awaited<ReturnType<Queue['send']>>) => {
      for (const r of results) stdout.write(json ? `${JSON.stringify(r)}\n` : `${r.messageId} ${r.status}\n`);
    };

    if (args[1] !== undefined) return print(await queue.send([message(args[1], id)]));

    let batch: QueueMessageInput[] = [];
    let bytes = 0;
    let line = 0;
    for await (const text of stdinLines()) {
      if (text === '') continue;
      line++;
      const next = message(text, id === undefined ? undefined : `${id}-${line}`);
      const size = Buffer.byteLength(JSON.stringify(next));
      if (batch.length > 0 && (batch.length >= QUEUE_LIMITS.maxMessagesPerSend || bytes + size > MAX_SEND_BYTES)) {
        print(await queue.send(batch));
        batch = [];
        bytes = 0;
      }
      batch.push(next);
      bytes += size;
    }
    print(await queue.send(batch));
  },
};

const receive: Command = {
  path: ['queues', 'receive'],
  args: ['queue'],
  summary: 'Receive messages and print them with their receipt handles (to ack, nack).',
  details: [
    'The messages stay hidden from other consumers for the visibility timeout; resolve each with',
    '`sluice queues ack` (or `nack`), or --ack at once. Not acked, a message is delivered again once its',
    'visibility timeout ends. Prints "No messages." when none came (--json: one message object per line).',
  ].join('\n'),
  options: {
    'max-messages': { type: 'string', valueName: 'N', description: `Most messages, 1-${QUEUE_LIMITS.maxReceive} (default: ${QUEUE_DEFAULTS.maxMessages})` },
    'wait-ms': {
      type: 'string',
      valueName: 'MS',
      description: `When there is no message, wait up to this long for one, at most ${QUEUE_LIMITS.maxWaitMs} (default: 0, answer at once)`,
    },
    'visibility-timeout-ms': { type: 'string', valueName: 'MS', description: "How long the messages stay hidden (default: the queue's)" },
    ack: { type: 'boolean', description: 'Ack the messages once printed (resolved: gone from the queue)' },
  },
  async run({ client, args, options, json, stdout }) {
    const queue = client.queue(args[0]!);
    const messages = await queue.receive({
      maxMessages: integerOption(receive, options, 'max-messages', {}, 1),
      waitMs: integerOption(receive, options, 'wait-ms', {}, 0),
      visibilityTimeoutMs: integerOption(receive, options, 'visibility-timeout-ms', {}, 0),
    });
    if (json) for (const m of messages) stdout.write(`${JSON.stringify(m)}\n`);
    else if (messages.length === 0) stdout.write('No messages.\n');
    else stdout.write(messages.map((m) => formatFields(messageFields(m))).join('\n'));
    if (options.ack === true && messages.length > 0) {
      const results = await queue.ack(messages);
      checkResults(results, 'ack');
      if (!json) stdout.write(`\nAcked ${plural(results.length, 'message')}.\n`);
    }
  },
};

const ack: Command = {
  path: ['queues', 'ack'],
  args: ['queue', 'receipt-handle'],
  variadic: true,
  summary: 'Ack messages by their receipt handles: they are resolved, gone from the queue.',
  details: 'Fails (exit 1) when a handle is not valid any more: its visibility timeout ran out (it is delivered again).',
  options: {},
  async run({ client, args, json, stdout }) {
    const results = await client.queue(args[0]!).ack(args.slice(1));
    if (json) writeJson(stdout, { results });
    else stdout.write(`Acked ${plural(results.filter((r) => r.status === 'ok').length, 'message')}.\n`);
    checkResults(results, 'ack');
  },
};

const nack: Command = {
  path: ['queues', 'nack'],
  args: ['queue', 'receipt-handle'],
  variadic: true,
  summary: 'Nack messages by their receipt handles: visible again, at once or after --delay-ms.',
  details: "Each receive counts towards the queue's max receive count: then the message moves to the dead-letter queue.",
  options: {
    'delay-ms': { type: 'string', valueName: 'MS', description: 'Visible again after this long (default: 0, at once)' },
  },
  async run({ client, args, options, json, stdout }) {
    const delayMs = integerOption(nack, options, 'delay-ms', {}, 0);
    const results = await client.queue(args[0]!).nack(args.slice(1), { delayMs });
    if (json) writeJson(stdout, { results });
    else stdout.write(`Nacked ${plural(results.filter((r) => r.status === 'ok').length, 'message')}.\n`);
    checkResults(results, 'nack');
  },
};

const redrive: Command = {
  path: ['queues', 'redrive'],
  args: ['name'],
  summary: "Move a queue's dead letters back to it, to be received again.",
  details: 'Moves as many as one request has time for; prints how many are left (run it again while some are).',
  options: {
    'max-messages': { type: 'string', valueName: 'N', description: 'Move at most N (default: all)' },
  },
  async run({ client, args, options, json, stdout }) {
    const maxMessages = integerOption(redrive, options, 'max-messages', {}, 1);
    const response = await client.redriveQueue(args[0]!, { maxMessages });
    if (json) return writeJson(stdout, response);
    stdout.write(`Moved ${plural(response.moved, 'dead letter')} back to "${args[0]}"; about ${response.remaining} left.\n`);
  },
};

const purge: Command = {
  path: ['queues', 'purge'],
  args: ['name'],
  summary: 'Delete every message of a queue (or of its dead-letter queue).',
  details: 'SQS takes up to 60 s to finish a purge, and refuses another one on the queue meanwhile (QueueBusy).',
  options: {
    'dead-letters': { type: 'boolean', description: 'Purge the dead-letter queue instead' },
  },
  async run({ client, args, options, json, stdout }) {
    const response = await client.purgeQueue(args[0]!, { target: options['dead-letters'] === true ? 'dead-letters' : 'queue' });
    if (json) return writeJson(stdout, response);
    stdout.write(response.target === 'queue' ? `Purged queue "${args[0]}".\n` : `Purged the dead letters of "${args[0]}".\n`);
  },
};

const remove: Command = {
  path: ['queues', 'delete'],
  args: ['name'],
  summary: 'Delete a queue with its messages and dead letters. Prints nothing with --json.',
  details: 'A queue declared in the stack is deleted in CDK (QueueReadOnly). SQS refuses a new queue of the same name for 60 s.',
  options: {},
  async run({ client, args, json, stdout }) {
    await client.deleteQueue(args[0]!);
    if (!json) stdout.write(`Deleted queue "${args[0]}".\n`);
  },
};

export const QUEUES_COMMANDS: readonly Command[] = [create, list, describe, send, receive, ack, nack, redrive, purge, remove];

function describeFields(q: QueueDescription): [string, string][] {
  return [
    ['Name', q.name],
    ['Origin', q.origin],
    ['Visibility timeout', formatDuration(q.visibilityTimeoutMs)],
    ['Max receive count', String(q.maxReceiveCount)],
    ['Retention', formatDuration(q.retentionMs)],
    ['Delivery delay', formatDuration(q.deliveryDelayMs)],
    ['Created', new Date(q.createdAt).toISOString()],
    ['Visible', String(q.messages.visible)],
    ['In flight', String(q.messages.inFlight)],
    ['Delayed', String(q.messages.delayed)],
    ['Dead letters', String(q.deadLetters.visible)],
    ['Oldest message', q.oldestMessageAgeMs === null ? 'unknown' : `${formatDuration(q.oldestMessageAgeMs)} old`],
  ];
}

function messageFields(m: QueueMessage): [string, string][] {
  return [
    ['Message ID', m.messageId],
    ['Group', m.groupId],
    ['Receive count', String(m.receiveCount)],
    ['Sent', new Date(m.sentAt).toISOString()],
    ['Receipt handle', m.receiptHandle],
    ['Body', formatBody(m.body)],
  ];
}

/**
 * A body on one line: a string as it is, unless it is empty, holds a control character (a line
 * break) or would itself parse as JSON (`7`, `true`, `{...}`): then as a JSON string; any other
 * value as compact JSON. So a body printed here reads back the same through `send`'s rule.
 */
export function formatBody(body: unknown): string {
  if (typeof body !== 'string') return JSON.stringify(body) ?? String(body);
  return body === '' || /[\u0000-\u001f\u007f]/.test(body) || parseBody(body) !== body ? JSON.stringify(body) : body;
}

/** Text that parses as JSON is that value; any other text, a string. */
function parseBody(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** Exit 1 when a receipt failed (after the output): the error names each one. */
function checkResults(results: readonly ReceiptResult[], what: string): void {
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length === 0) return;
  const lines = failed.map((r) => `${r.receiptHandle}: ${r.error?.code ?? 'Failed'}: ${r.error?.message ?? ''}`);
  throw Object.assign(new Error(`${failed.length} of ${results.length} failed to ${what}:\n${lines.join('\n')}`), { name: 'ReceiptFailed' });
}

function writeJson(stdout: CommandContext['stdout'], value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
