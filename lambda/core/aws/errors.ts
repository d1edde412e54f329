/** Turns AWS SDK failures into Sluice errors, in one place, so retriability is decided once. */
import { InternalError, SluiceError, ThrottledError } from '../../../api/errors';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
]);

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Whether a cancelled transaction lost to a conflict or throttling (retriable) rather than a condition. */
function isRetriableCancellation(err: unknown): boolean {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError');
}

export function toSluiceError(err: unknown, operation: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const name = (err as { name?: string } | null)?.name ?? 'Error';
  if (THROTTLING.has(name) || (name === 'TransactionCanceledException' && isRetriableCancellation(err))) {
    return new ThrottledError(`${operation} was throttled or conflicted (${name}); retry with backoff`, { cause: err });
  }
  return new InternalError(`${operation} failed (${name})`, { cause: err });
}
