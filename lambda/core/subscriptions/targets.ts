/**
 * The three kinds of target a delivery goes to. Each `send` resolves when the target took the
 * delivery (a 2xx answer, an SQS message sent, a Lambda invocation without a function error) and
 * throws a DeliveryError otherwise.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { SIGNATURE_HEADER, SUBSCRIPTION_DEFAULTS, type DeliveryBody, type SubscriptionTarget } from '../../../api/subscriptions';
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
}

export class TargetSender implements DeliverySender {
  constructor(private readonly options: TargetSenderOptions) {}

  async send(target: SubscriptionTarget, delivery: Delivery): Promise<void> {
    const payload = JSON.stringify(delivery.body);
    switch (target.type) {
      case 'webhook':
        return this.postWebhook(target.url, target.secret, payload, delivery);
      case 'queue':
        return this.sendToQueue(target.queueUrl, payload, delivery);
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
