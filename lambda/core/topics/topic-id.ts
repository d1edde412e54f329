/** Topic IDs: what tells a topic from an earlier one of the same name. */
import { randomBytes } from 'node:crypto';

/**
 * A new topic ID: 128 random bits as 22 base64url characters. A UUID's 36 would do as well, but the
 * ID starts the key of every log item, and 14 bytes more in a partition head leave room for fewer
 * events in its tail (one write unit).
 */
export const newTopicId = (): string => randomBytes(16).toString('base64url');
