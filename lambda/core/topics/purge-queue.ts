/** Where deleted topics wait for their log to be reclaimed. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { toSluiceError } from '../aws/errors';

export const purgeJobSchema = z.strictObject({
  name: z.string(),
  topicId: z.string(),
  partitions: z.number().int().positive(),
});
export type PurgeJob = z.infer<typeof purgeJobSchema>;

export interface PurgeQueue {
  enqueue(job: PurgeJob): Promise<void>;
}

/**
 * Jobs are sent before the topic is deleted (so a failed send leaves the topic untouched) and
 * delayed, so the purger normally finds the topic already gone; if not, it retries later.
 */
export const PURGE_DELAY_SECONDS = 5;

export class SqsPurgeQueue implements PurgeQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(job: PurgeJob): Promise<void> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(job),
          DelaySeconds: PURGE_DELAY_SECONDS,
        }),
      );
    } catch (err) {
      // Not a write whose outcome matters to the caller: the job is sent before the topic is
      // deleted, and a job for a topic that still exists is refused by the purger, so a send that
      // may have landed changed nothing the caller can see.
      throw toSluiceError(err, 'EnqueueTopicPurge');
    }
  }
}
