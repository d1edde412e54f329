/**
 * Turns AWS SDK failures into Sluice errors, in one place, so retriability is decided once.
 *
 * By the time an error gets here the SDK has already retried what it retries (throttling,
 * transient 5xx and network faults; see clients.ts). What is left is classified for the caller:
 * - throttling and conflicts: `ThrottledError` (429, retriable);
 * - transient server faults and network errors: `InternalError` (500, retriable), on reads and
 *   on calls that were never sent;
 * - on a write (`{ write: true }`), the same faults when the call may have reached the service: a
 *   timeout, a reset or aborted connection, a 5xx. The write may have been applied, or may yet be
 *   (DynamoDB finishes a request whose caller gave up), so the answer is `OutcomeUnknownError`
 *   (500, retriable with the same request only), never "nothing was changed";
 * - everything the service rejected for good (permissions, missing resources, bad credentials,
 *   invalid requests, size limits): `DependencyFailedError` (500, not retriable), so neither the
 *   service nor the client retries what cannot succeed.
 */
import { DependencyFailedError, InternalError, OutcomeUnknownError, SluiceError, ThrottledError } from '../../../api/errors';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'KMSThrottlingException',
]);

/** Server-side faults that may pass: worth another attempt later. */
const TRANSIENT = new Set([
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'KMSInternalException',
]);

/** Rejections that no retry can turn into a success (listed for clarity: any other 4xx is too). */
const PERMANENT = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'IncompleteSignature',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'ValidationException',
  'SerializationException',
  'ResourceNotFoundException',
  'ItemCollectionSizeLimitExceededException',
  'ConditionalCheckFailedException',
  'DuplicateItemException',
  'IdempotentParameterMismatchException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSNotFoundException',
  'KMSInvalidStateException',
  // SQS
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'InvalidParameterValue',
  'InvalidAttributeValue',
  'UnsupportedOperation',
  'MessageTooLong',
  'InvalidMessageContents',
]);

/** Reasons of a cancelled transaction worth retrying (the rest are conditions or rejections). */
const RETRIABLE_CANCELLATION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Whether a cancelled transaction lost to a conflict or throttling (retriable) rather than a condition. */
function isRetriableCancellation(err: unknown): boolean {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code !== undefined && RETRIABLE_CANCELLATION_CODES.has(r.Code));
}

export type AwsErrorKind = 'throttled' | 'transient' | 'permanent';

/** How an AWS SDK error should be treated: by its name first, then by who was at fault. */
export function classifyAwsError(err: unknown): AwsErrorKind {
  const e = (err ?? {}) as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = e.name ?? 'Error';
  if (THROTTLING.has(name)) return 'throttled';
  if (name === 'TransactionCanceledException') return isRetriableCancellation(err) ? 'throttled' : 'permanent';
  if (TRANSIENT.has(name)) return 'transient';
  if (PERMANENT.has(name)) return 'permanent';
  const status = e.$metadata?.httpStatusCode;
  if (status === 429) return 'throttled';
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) return 'transient';
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return 'permanent';
  // No answer from the service at all: a network error, a timeout, an aborted connection.
  return 'transient';
}

/**
 * Failures that happen before a request leaves the machine (no connection, no DNS answer, no
 * credentials): whatever the call was, it was not applied.
 */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const NEVER_SENT_NAMES = new Set(['CredentialsProviderError', 'TokenProviderError']);

/** Whether a failed call can be known not to have been sent (so not applied). */
export function wasNeverSent(err: unknown): boolean {
  const e = (err ?? {}) as { name?: string; code?: string; cause?: { code?: string } };
  return (
    NEVER_SENT_NAMES.has(e.name ?? '') ||
    NEVER_SENT_CODES.has(e.code ?? '') ||
    NEVER_SENT_CODES.has(e.cause?.code ?? '')
  );
}

export interface ToSluiceErrorOptions {
  /**
   * The call writes: a transient failure (no answer, a timeout, a 5xx) then leaves its outcome
   * unknown, and the answer must say so. Throttling and rejections are known not to have written.
   */
  readonly write?: boolean;
}

export function toSluiceError(err: unknown, operation: string, options: ToSluiceErrorOptions = {}): SluiceError {
  if (err instanceof SluiceError) return err;
  const name = (err as { name?: string } | null)?.name ?? 'Error';
  switch (classifyAwsError(err)) {
    case 'throttled':
      return new ThrottledError(`${operation} was throttled or conflicted (${name}); retry with backoff`, { cause: err });
    case 'transient':
      if (options.write && !wasNeverSent(err)) {
        return new OutcomeUnknownError(
          `${operation} got no answer that says whether it was applied (${name}): the outcome is unknown, and the ` +
            'change may have been made or may still be made. Retry the same request: a produce or transaction ' +
            'only with the same message IDs (events sent without one may then be appended twice).',
          { cause: err, details: { operation } },
        );
      }
      return new InternalError(`${operation} failed (${name}); retry later`, { cause: err });
    case 'permanent':
      return new DependencyFailedError(`${operation} was refused (${name}); retrying will not help`, { cause: err });
  }
}
