/**
 * The checks the service makes on one event before it appends anything (the produce schema of
 * api/events and the per-event EVENT_LIMITS), made by the Producer when a message is sent: a bad
 * message then fails its own `send`, instead of the request it would share with other sends.
 */
import {
  EventTooLargeError,
  InvalidRequestError,
  KeyTooLargeError,
  PartitionNotFoundError,
  TooManyHeadersError,
} from '../api/errors';
import { EVENT_LIMITS, produceEventSchema, type ProduceEvent } from '../api/events';

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
  const headerCount = Object.keys(message.headers ?? {}).length;
  if (headerCount > EVENT_LIMITS.maxHeaders) {
    throw new TooManyHeadersError(`Message ${index} has ${headerCount} headers; at most ${EVENT_LIMITS.maxHeaders} are allowed`, {
      details: { index, max: EVENT_LIMITS.maxHeaders, actual: headerCount },
    });
  }
  const keyBytes = message.key ? Buffer.byteLength(message.key, 'utf8') : 0;
  if (keyBytes > EVENT_LIMITS.maxKeyBytes) {
    throw new KeyTooLargeError(`Message ${index} has a ${keyBytes}-byte key; at most ${EVENT_LIMITS.maxKeyBytes} bytes`, {
      details: { index, max: EVENT_LIMITS.maxKeyBytes, actual: keyBytes },
    });
  }
  const size = keyBytes + valueBytes(message) + headerBytes(message);
  if (size > EVENT_LIMITS.maxEventBytes) {
    throw new EventTooLargeError(`Message ${index} is ${size} bytes; at most ${EVENT_LIMITS.maxEventBytes}`, {
      details: { index, max: EVENT_LIMITS.maxEventBytes, actual: size },
    });
  }
  if (message.partition !== undefined && message.partition >= partitions) {
    throw new PartitionNotFoundError(
      `Topic "${topic}" has partitions 0 to ${partitions - 1}; there is no partition ${message.partition}`,
      { details: { topic, partition: message.partition, partitions } },
    );
  }
  return size;
}

/** The value's bytes as the service counts them: decoded base64, or the value's JSON text. */
function valueBytes(message: ProduceEvent): number {
  if (message.valueBase64 !== undefined) return Buffer.byteLength(message.valueBase64, 'base64');
  return message.value === undefined ? 0 : Buffer.byteLength(JSON.stringify(message.value), 'utf8');
}

function headerBytes(message: ProduceEvent): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}
