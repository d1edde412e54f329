/**
 * The three kinds of target a delivery goes to. Each `send` resolves when the target took the
 * delivery (a 2xx answer, an SQS message sent, a Lambda invocation without a function error) and
 * throws a DeliveryError otherwise.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { QUEUE_LIMITS } from '../../../api/queues';
import {
  SIGNATURE_HEADER,
  SUBSCRIPTION_DEFAULTS,
  type DeliveredEvent,
  type DeliveryBody,
  type SubscriptionTarget,
} from '../../../api/subscriptions';
import type { QueueDirectory } from '../queues/queue-directory';
import { MESSAGE_ID_ATTRIBUTE, attributeBytes, deduplicationId, encodeBody } from '../queues/message-format';
import { isQueueDoesNotExist } from '../queues/sqs-errors';
import { signatureHeader } from './signing';
import { defaultResolver, resolveWebhookAddress, type Resolver } from './webhook-address';

/** A delivery the target did not take; `message` is what the dead letter will say. */
export class DeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeliveryError';
  }
}

export interface Delivery {
  readonly body: DeliveryBody;
  /** The same for every attempt at the same events: SQS deduplication ID, `Sluice-Delivery-Id`. */
  readonly deliveryId: string;
  /** `<topic>#<partition>`: the message group of a FIFO queue target. */
  readonly groupId: string;
  /** The subscription's topic ID: with subscription, partition and offset, what names an event's message in a Sluice queue. */
  readonly topicId: string;
}

export interface DeliverySender {
  send(target: SubscriptionTarget, delivery: Delivery): Promise<void>;
}

export interface TargetSenderOptions {
  readonly sqs: () => SQSClient;
  readonly lambda: () => LambdaClient;
  readonly allowPrivateNetworks: boolean;
  /** @default 10 s */
  readonly webhookTimeoutMs?: number;
  readonly resolver?: Resolver;
  /** @default Date.now */
  readonly now?: () => number;
  /** The installation's message queues, for targets that name one. */
  readonly messageQueues?: QueueDirectory;
}

export class TargetSender implements DeliverySender {
  constructor(private readonly options: TargetSenderOptions) {}

  async send(target: SubscriptionTarget, delivery: Delivery): Promise<void> {
    const payload = JSON.stringify(delivery.body);
    switch (target.type) {
      case 'webhook':
        return this.postWebhook(target.url, target.secret, payload, delivery);
      case 'queue':
        return 'queue' in target ? this.sendToSluiceQueue(target.queue, delivery) : this.sendToQueue(target.queueUrl, payload, delivery);
      case 'lambda':
        return this.invokeLambda(target.functionArn, payload);
    }
  }

  private async postWebhook(url: string, secret: string | undefined, body: string, delivery: Delivery): Promise<void> {
    let resolved;
    try {
      resolved = await resolveWebhookAddress(url, this.options.allowPrivateNetworks, this.options.resolver ?? defaultResolver);
    } catch (err) {
      throw new DeliveryError(`webhook refused: ${(err as Error).message}`, { cause: err });
    }
    const { url: target, address } = resolved;
    // Connect to the address that was checked, whatever DNS answers now (no rebinding).
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [address]);
      else callback(null, address.address, address.family);
    };
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': 'Sluice-Webhook/1',
      'sluice-delivery-id': delivery.deliveryId,
      'sluice-subscription': delivery.body.subscription,
    };
    if (secret) headers[SIGNATURE_HEADER] = signatureHeader(secret, body, Math.floor((this.options.now ?? Date.now)() / 1000));
    const timeoutMs = this.options.webhookTimeoutMs ?? SUBSCRIPTION_DEFAULTS.webhookTimeoutMs;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const status = await new Promise<number>((resolve, reject) => {
      const req = send(target, { method: 'POST', headers, lookup, timeout: timeoutMs, servername: target.hostname }, (res: IncomingMessage) => {
        res.resume(); // the body is not needed; drain it so the socket is freed
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    }).catch((err: unknown) => {
      throw new DeliveryError(`webhook POST ${target.origin} failed: ${(err as Error).message}`, { cause: err });
    });
    if (status < 200 || status >= 300) throw new DeliveryError(`webhook answered HTTP ${status}`);
  }

  private async sendToQueue(queueUrl: string, body: string, delivery: Delivery): Promise<void> {
    const fifo = queueUrl.endsWith('.fifo');
    try {
      await this.options.sqs().send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          ...(fifo ? { MessageGroupId: delivery.groupId, MessageDeduplicationId: delivery.deliveryId } : {}),
        }),
      );
    } catch (err) {
      throw new DeliveryError(`SendMessage to ${queueUrl} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * One message per event, in the Sluice queue's format, in offset order: SendMessageBatch calls of
   * at most 10 messages and 1 MiB, one after another (so each group keeps the partition's order).
   * A failed message fails the delivery; its retry sends every message again under the same
   * deduplication IDs, which SQS drops within its 5-minute window.
   */
  private async sendToSluiceQueue(queue: string, delivery: Delivery): Promise<void> {
    const directory = this.options.messageQueues;
    if (!directory) throw new DeliveryError(`queue "${queue}": this function was not given the message queues' prefix`);
    let url;
    try {
      url = await directory.find(queue);
    } catch (err) {
      throw new DeliveryError(`queue "${queue}": GetQueueUrl failed: ${(err as Error).message}`, { cause: err });
    }
    if (url === undefined) throw new DeliveryError(`queue "${queue}" does not exist`);
    const messages = delivery.body.events.map((event) => {
      const body = encodeBody(event);
      const messageId = eventMessageId(delivery.topicId, event);
      const bytes = Buffer.byteLength(body) + attributeBytes(messageId);
      return { body, messageId, groupId: eventGroupId(event), bytes };
    });
    const tooLarge = messages.find((m) => m.bytes > QUEUE_LIMITS.maxMessageBytes);
    if (tooLarge) throw new DeliveryError(`an event is ${tooLarge.bytes} bytes as a queue message; SQS takes at most ${QUEUE_LIMITS.maxMessageBytes}`);
    let batch: typeof messages = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      let out;
      try {
        out = await this.options.sqs().send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: batch.map((m, i) => ({
              Id: String(i),
              MessageBody: m.body,
              MessageGroupId: m.groupId,
              MessageDeduplicationId: deduplicationId(m.groupId, m.messageId),
              MessageAttributes: { [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: m.messageId } },
            })),
          }),
        );
      } catch (err) {
        if (isQueueDoesNotExist(err)) directory.forget(queue);
        throw new DeliveryError(`SendMessageBatch to queue "${queue}" failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
      }
      const failed = out.Failed ?? [];
      if (failed.length > 0) {
        throw new DeliveryError(`queue "${queue}" refused ${failed.length} of ${batch.length} messages (${failed[0]!.Code}: ${failed[0]!.Message})`);
      }
      batch = [];
      bytes = 0;
    };
    for (const m of messages) {
      if (batch.length >= 10 || bytes + m.bytes > QUEUE_LIMITS.maxMessageBytes) await flush();
      batch.push(m);
      bytes += m.bytes;
    }
    await flush();
  }

  private async invokeLambda(functionArn: string, payload: string): Promise<void> {
    let out;
    try {
      out = await this.options.lambda().send(
        new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: Buffer.from(payload) }),
      );
    } catch (err) {
      throw new DeliveryError(`Invoke ${functionArn} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
    if (out.FunctionError) {
      const detail = out.Payload ? Buffer.from(out.Payload).toString('utf8').slice(0, 500) : '';
      throw new DeliveryError(`${functionArn} returned a ${out.FunctionError} function error: ${detail}`);
    }
  }
}

/**
 * The `sluice-message-id` (and deduplication ID) of an event sent to a Sluice queue: the same for
 * every attempt at the same event of the same subscription, different for another subscription or
 * a re-created topic (its topic ID differs).
 */
export function eventMessageId(topicId: string, event: DeliveredEvent): string {
  const hash = createHash('sha256').update([event.subscription, topicId, event.partition, event.offset].join('\u0000')).digest('hex');
  return `${event.topic.slice(0, 40)}-${event.partition}-${event.offset}-${hash.slice(0, 32)}`;
}

/**
 * The message group of an event sent to a Sluice queue: its key (SQS's alphabet allowing; else a
 * hash of it), so events of one key stay in order while different keys go to competing consumers
 * in parallel; an event without a key goes in `<topic>#<partition>`, the partition's order.
 */
export function eventGroupId(event: DeliveredEvent): string {
  if (event.key === null) return `${event.topic}#${event.partition}`;
  if (/^[\x21-\x7e]{1,128}$/.test(event.key)) return event.key;
  return `key-sha256-${createHash('sha256').update(event.key).digest('hex')}`;
}
