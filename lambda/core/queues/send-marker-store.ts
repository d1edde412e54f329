/**
 * Markers of the message IDs a queue accepted, so a send can answer "duplicate": SQS FIFO drops a
 * message whose deduplication ID it saw in the last 5 minutes but answers exactly as if it had
 * enqueued it. After SQS accepted a message, the service marks its ID; a marker already there
 * (and not yet past its window) means SQS had it already and enqueued nothing new.
 */

export interface SendMarker {
  /**
   * `queue#<sqsQueueName>#<createdTimestamp>#<groupId>#<messageId>`: per group, as SQS dedupes in
   * high-throughput mode, and per incarnation of the queue (a re-created queue inherits nothing).
   */
  readonly id: string;
  /** Epoch ms when SQS's window for this ID ends; a marker past it counts as absent. */
  readonly untilMs: number;
}

export interface SendMarkerStore {
  /** Writes the marker unless a live one exists: true if written (new), false if one was there (duplicate). */
  mark(marker: SendMarker, nowMs: number): Promise<boolean>;
}

/** A store in memory, for tests. */
export class InMemorySendMarkerStore implements SendMarkerStore {
  readonly markers = new Map<string, number>();

  async mark(marker: SendMarker, nowMs: number): Promise<boolean> {
    const until = this.markers.get(marker.id);
    if (until !== undefined && until > nowMs) return false;
    this.markers.set(marker.id, marker.untilMs);
    return true;
  }
}

export function sendMarkerId(sqsQueueName: string, createdTimestamp: number, groupId: string, messageId: string): string {
  return `queue#${sqsQueueName}#${createdTimestamp}#${groupId}#${messageId}`;
}
