/** The `deliveries` FIFO queue, written with SendMessageBatch (10 messages a call). */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { InternalError } from '../../../api/errors';
import { toSluiceError } from '../aws/errors';
import type { DeliveriesQueue, OutgoingMessage } from './messages';

export class SqsDeliveriesQueue implements DeliveriesQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      let out;
      try {
        out = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((m, j) => ({
              Id: String(j),
              MessageBody: JSON.stringify(m.body),
              MessageGroupId: m.groupId,
              MessageDeduplicationId: m.deduplicationId,
            })),
          }),
        );
      } catch (err) {
        throw toSluiceError(err, 'EnqueueDeliveries', { write: true });
      }
      // A failed entry is sent again by the caller's retry; the deduplication ID keeps it single.
      if (out.Failed && out.Failed.length > 0) {
        const f = out.Failed[0]!;
        throw new InternalError(`EnqueueDeliveries: ${out.Failed.length} messages were refused (${f.Code}: ${f.Message})`);
      }
    }
  }
}
