/**
 * The checks the service makes on one event before it appends anything (the produce schema of
 * api/events and the per-event EVENT_LIMITS), made by the Producer when a message is sent: a bad
 * message then fails its own `send`, instead of the request it would share with other sends.
 */
import { InvalidRequestError, PartitionNotFoundError } from '../api/errors';
import { checkEventLimits, produceEventSchema, type ProduceEvent } from '../api/events';

/**
 * Checks message `index` of a send against the schema, the limits and the topic's partition
 * count; returns the bytes it counts against `EVENT_LIMITS.maxRequestBytes`.
 * @throws the error the service would answer with (InvalidRequestError, TooManyHeadersError,
 * KeyTooLargeError, EventTooLargeError, PartitionNotFoundError)
 */
export function checkMessage(message: ProduceEvent, index: number, topic: string, partitions: number): number {
  const parsed = produceEventSchema.safeParse(message);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: ['messages', index, ...issue.path.map(String)].join('.'),
      message: issue.message,
    }));
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new InvalidRequestError(`Invalid message: ${summary}`, { details: { issues } });
  }
  const size = checkEventLimits(message, index);
  if (message.partition !== undefined && message.partition >= partitions) {
    throw new PartitionNotFoundError(
      `Topic "${topic}" has partitions 0 to ${partitions - 1}; there is no partition ${message.partition}`,
      { details: { topic, partition: message.partition, partitions } },
    );
  }
  return size;
}
