/**
 * SQS's refusals that mean something to a queue's caller, as the typed errors of api/errors.ts;
 * everything else (throttling, faults, grants) is classified once by ../aws/errors.ts.
 */
import { QueueAlreadyExistsError, QueueBusyError, QueueNotFoundError, type SluiceError } from '../../../api/errors';
import { toSluiceError, type ToSluiceErrorOptions } from '../aws/errors';

/** SQS's name for an error: the JSON protocol's `name`, or the query protocol's `Code` (AWS.SimpleQueueService.*). */
export function sqsErrorName(err: unknown): string {
  const e = (err ?? {}) as { name?: string; Code?: string };
  const code = e.Code?.replace(/^AWS\.SimpleQueueService\./, '');
  return e.name && e.name !== 'Error' && e.name !== 'SQSServiceException' ? e.name : (code ?? e.name ?? 'Error');
}

export function isQueueDoesNotExist(err: unknown): boolean {
  const name = sqsErrorName(err);
  return name === 'QueueDoesNotExist' || name === 'NonExistentQueue' || (err as { Code?: string } | null)?.Code === 'AWS.SimpleQueueService.NonExistentQueue';
}

/** What a failed SQS call on queue `queue` (its Sluice name) means to the caller. */
export function toQueueError(err: unknown, operation: string, queue: string, options: ToSluiceErrorOptions = {}): SluiceError {
  if (isQueueDoesNotExist(err)) {
    return new QueueNotFoundError(`Queue "${queue}" does not exist`, { details: { queue }, cause: err });
  }
  switch (sqsErrorName(err)) {
    case 'QueueDeletedRecently':
      return new QueueBusyError(`A queue named "${queue}" was deleted less than 60 seconds ago; SQS refuses the name until then. Retry later`, {
        details: { queue, reason: 'QueueDeletedRecently' },
        cause: err,
      });
    case 'PurgeQueueInProgress':
      return new QueueBusyError(`Queue "${queue}" was purged less than 60 seconds ago; SQS allows one purge a minute. Retry later`, {
        details: { queue, reason: 'PurgeQueueInProgress' },
        cause: err,
      });
    case 'QueueNameExists':
      return new QueueAlreadyExistsError(`A queue named "${queue}" already exists (with other settings)`, { details: { queue }, cause: err });
  }
  return toSluiceError(err, operation, options);
}
