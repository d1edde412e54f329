/**
 * A Sluice queue message as it lies in SQS: the body's JSON text as MessageBody, the Sluice
 * message ID in the `sluice-message-id` attribute (its MessageDeduplicationId is derived from it and the group). Shared by the
 * queues API and the deliverer (topic-to-queue subscriptions), so both write the same format.
 */
import { createHash } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { QueueMessage } from '../../../api/queues';

/** The message attribute that carries a message's Sluice ID. */
export const MESSAGE_ID_ATTRIBUTE = 'sluice-message-id';

/**
 * The MessageDeduplicationId Sluice sends for a message: a hash of its group and Sluice message ID.
 * The queues are created with `DeduplicationScope=messageGroup`, so SQS already dedupes per group;
 * naming the group in the ID makes the same hold on servers that dedupe per queue (fauxqs), and a
 * hash fits SQS's 128 characters whatever the two IDs' lengths.
 */
export function deduplicationId(groupId: string, messageId: string): string {
  return createHash('sha256').update(groupId).update('\0').update(messageId).digest('hex');
}

/** SQS FIFO's deduplication window. */
export const SQS_DEDUPE_WINDOW_MS = 5 * 60 * 1000;

/**
 * A body as SQS stores it: its JSON text, with the characters SQS refuses (U+FFFE, U+FFFF) and
 * those outside the Basic Multilingual Plane \u-escaped. Both only occur inside JSON strings, where
 * the escape means the same character, so the body parses to the same value; the second keeps
 * SQS servers that check UTF-16 code units (fauxqs) from refusing an emoji.
 */
export function encodeBody(body: unknown): string {
  return JSON.stringify(body).replace(/[\ud800-\udfff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Bytes SQS counts for the `sluice-message-id` attribute: name, data type and value. */
export function attributeBytes(messageId: string): number {
  return Buffer.byteLength(MESSAGE_ID_ATTRIBUTE) + Buffer.byteLength('String') + Buffer.byteLength(messageId);
}

/** A received SQS message as the API answers it. */
export function toQueueMessage(m: Message): QueueMessage {
  const attributes = m.Attributes ?? {};
  const raw = m.Body ?? '';
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = raw; // not sent through Sluice: the text as it is
  }
  return {
    messageId: m.MessageAttributes?.[MESSAGE_ID_ATTRIBUTE]?.StringValue ?? attributes.MessageDeduplicationId ?? m.MessageId ?? '',
    groupId: attributes.MessageGroupId ?? '',
    body,
    receiptHandle: m.ReceiptHandle ?? '',
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 1),
    sentAt: Number(attributes.SentTimestamp ?? 0),
    sequenceNumber: attributes.SequenceNumber ?? '',
  };
}
