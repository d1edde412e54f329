/**
 * Every error Sluice answers with, defined once. The service throws them, the HTTP layer turns
 * them into `{ "error": { "code", "message", ...details } }`, and the client turns that body back
 * into the same class, so a caller can `instanceof` across the wire.
 */

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly [detail: string]: unknown };
}

export interface SluiceErrorOptions {
  /** Extra machine-readable context, sent to the caller next to `code` and `message`. */
  readonly details?: Record<string, unknown>;
  readonly cause?: unknown;
}

export class SluiceError extends Error {
  /** Stable, machine-readable error code (the `error.code` of the HTTP body). */
  readonly code: string = 'InternalError';
  /** HTTP status the API answers with. */
  readonly status: number = 500;
  /** Whether the same request may succeed if simply sent again later. */
  readonly retriable: boolean = false;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? {};
  }

  toBody(): ErrorBody {
    // Details never override code and message.
    const { code: _code, message: _message, ...details } = this.details;
    return { error: { code: this.code, message: this.message, ...details } };
  }
}

/** The request is malformed or breaks a documented rule; `details.issues` says what. */
export class InvalidRequestError extends SluiceError {
  override readonly code = 'InvalidRequest';
  override readonly status = 400;
}

export class TopicNotFoundError extends SluiceError {
  override readonly code = 'TopicNotFound';
  override readonly status = 404;
}

export class TopicAlreadyExistsError extends SluiceError {
  override readonly code = 'TopicAlreadyExists';
  override readonly status = 409;
}

/** The partition number is not below the topic's partition count. */
export class PartitionNotFoundError extends SluiceError {
  override readonly code = 'PartitionNotFound';
  override readonly status = 404;
}

/** The offset is below the log start or above the high watermark; `details` carries both bounds. */
export class OffsetOutOfRangeError extends SluiceError {
  override readonly code = 'OffsetOutOfRange';
  override readonly status = 416;
}

/** One event is over the size limit (`details.index`, `details.max`, `details.actual`). */
export class EventTooLargeError extends SluiceError {
  override readonly code = 'EventTooLarge';
  override readonly status = 413;
}

/**
 * The request is over a limit of one atomic append: events, bytes, or transaction actions
 * (`details.limit` names it, with `details.max` and `details.actual`). Split it; nothing was written.
 */
export class RequestTooLargeError extends SluiceError {
  override readonly code = 'RequestTooLarge';
  override readonly status = 413;
}

/** An event has more headers than allowed. */
export class TooManyHeadersError extends SluiceError {
  override readonly code = 'TooManyHeaders';
  override readonly status = 400;
}

/** An event key is over the size limit. */
export class KeyTooLargeError extends SluiceError {
  override readonly code = 'KeyTooLarge';
  override readonly status = 400;
}

/** No group of that name has members, offsets or history. */
export class GroupNotFoundError extends SluiceError {
  override readonly code = 'GroupNotFound';
  override readonly status = 404;
}

/**
 * The group still has live members (`details.members`), so it cannot be deleted (Kafka's
 * NON_EMPTY_GROUP): stop them, or wait until their sessions time out. Nothing was deleted.
 */
export class GroupNotEmptyError extends SluiceError {
  override readonly code = 'GroupNotEmpty';
  override readonly status = 409;
}

/**
 * The member is not (or no longer) in the group, or does not own the partition: a zombie. It must
 * rejoin; what it sent changed nothing (Kafka's fencing).
 */
export class FencedMemberError extends SluiceError {
  override readonly code = 'FencedMember';
  override readonly status = 409;
}

/**
 * An idempotent producer's epoch is older than one that has written to the partition since (a
 * restarted producer with the same ID took over): this one is a zombie. Nothing was appended.
 */
export class ProducerFencedError extends SluiceError {
  override readonly code = 'ProducerFenced';
  override readonly status = 409;
}

/**
 * An idempotent producer's sequence is not the next one the partition expects (a batch is
 * missing before it, or a retry carries other events). Nothing was appended; start a new epoch.
 */
export class OutOfOrderSequenceError extends SluiceError {
  override readonly code = 'OutOfOrderSequence';
  override readonly status = 409;
}

/**
 * The group moved to a newer generation since the member last heard: it should heartbeat to learn
 * its new assignments, then retry for partitions it still owns. Nothing was changed.
 */
export class RebalanceInProgressError extends SluiceError {
  override readonly code = 'RebalanceInProgress';
  override readonly status = 409;
}

/** No route matches the path. */
export class RouteNotFoundError extends SluiceError {
  override readonly code = 'NotFound';
  override readonly status = 404;
}

/** The path exists but not with this method; `details.allowed` lists the methods that do. */
export class MethodNotAllowedError extends SluiceError {
  override readonly code = 'MethodNotAllowed';
  override readonly status = 405;
}

/** DynamoDB or SQS pushed back (throttling, transaction conflict); retry with backoff. */
export class ThrottledError extends SluiceError {
  override readonly code = 'Throttled';
  override readonly status = 429;
  override readonly retriable = true;
}

/**
 * Something failed that the caller cannot fix but that may pass (a transient DynamoDB or SQS
 * fault the SDK's own retries did not outlast on a read, or on a write known not to have been
 * applied; a gateway 5xx); retriable. When a write may have been applied, the answer is
 * OutcomeUnknownError instead.
 */
export class InternalError extends SluiceError {
  override readonly code: string = 'InternalError';
  override readonly status = 500;
  override readonly retriable = true;
}

/**
 * DynamoDB or SQS refused the call for a reason that sending it again will not change: a missing
 * grant (AccessDenied), a missing table or queue (ResourceNotFound), rejected credentials, a
 * request DynamoDB found invalid, an item collection over its size limit. Nothing was written; an
 * operator must fix the deployment (or the data). Not retriable.
 */
export class DependencyFailedError extends SluiceError {
  override readonly code = 'DependencyFailed';
  override readonly status = 500;
  override readonly retriable = false;
}

/**
 * With ACLs on, the caller's principal may not perform `details.operation` on `details.resourceType`
 * `details.resourceName`. Nothing was changed; not retriable until an operator grants it.
 */
export class AuthorizationFailedError extends SluiceError {
  override readonly code = 'AuthorizationFailed';
  override readonly status = 403;
  override readonly retriable = false;
}

/**
 * A write was sent to DynamoDB (or SQS) and no answer came back that says whether it was applied:
 * a timeout, a reset connection, an aborted call, a server fault. It may have been applied, or may
 * yet be applied. Retriable, but only with the same request: a produce or transaction retried with
 * the same message IDs is appended at most once (dedupe), a commit or seek sets the same offsets
 * again; events sent without message IDs may be appended twice.
 *
 * A kind of InternalError (code and meaning differ: InternalError now means nothing was changed),
 * so a caller that handles InternalError handles this too. A gateway 5xx without a Sluice body
 * (the function failed or timed out, perhaps in the middle of a write) is one as well.
 */
export class OutcomeUnknownError extends InternalError {
  override readonly code: string = 'OutcomeUnknown';
}

/**
 * The request has a body whose `content-type` is not JSON (`application/json` or
 * `application/<something>+json`, parameters allowed, a charset only UTF-8). Nothing was done;
 * send the same body as JSON. Not retriable.
 */
export class UnsupportedMediaTypeError extends SluiceError {
  override readonly code = 'UnsupportedMediaType';
  override readonly status = 415;
  override readonly retriable = false;
}

/** No subscription of that name on that topic (in the table or declared in the stack). */
export class SubscriptionNotFoundError extends SluiceError {
  override readonly code = 'SubscriptionNotFound';
  override readonly status = 404;
}

/** The topic already has a subscription of that name (created through the API or declared in CDK). */
export class SubscriptionAlreadyExistsError extends SluiceError {
  override readonly code = 'SubscriptionAlreadyExists';
  override readonly status = 409;
}

/** The subscription is declared in the stack (CDK): change or delete it there. Nothing was changed. */
export class SubscriptionReadOnlyError extends SluiceError {
  override readonly code = 'SubscriptionReadOnly';
  override readonly status = 409;
}

/** No queue of that name. */
export class QueueNotFoundError extends SluiceError {
  override readonly code = 'QueueNotFound';
  override readonly status = 404;
}

/** A queue of that name exists (created through the API or declared in the stack). */
export class QueueAlreadyExistsError extends SluiceError {
  override readonly code = 'QueueAlreadyExists';
  override readonly status = 409;
}

/** The queue is declared in the stack (CDK `sluice.addQueue`): delete it there. Nothing was changed. */
export class QueueReadOnlyError extends SluiceError {
  override readonly code = 'QueueReadOnly';
  override readonly status = 409;
}

/**
 * SQS refuses for a while: a queue of that name was deleted less than 60 s ago, or the queue was
 * purged less than 60 s ago. Retry later.
 */
export class QueueBusyError extends SluiceError {
  override readonly code = 'QueueBusy';
  override readonly status = 409;
  override readonly retriable = true;
}

/** One message is over SQS's size limit (`details.index`, `details.max`, `details.actual`); nothing was enqueued. */
export class MessageTooLargeError extends SluiceError {
  override readonly code = 'MessageTooLarge';
  override readonly status = 413;
}

/** No stream processor of that name is deployed in the stack (`StreamProcessor`). */
export class ProcessorNotFoundError extends SluiceError {
  override readonly code = 'ProcessorNotFound';
  override readonly status = 404;
}

/** The client could not reach the endpoint at all (connection refused, DNS, timeout). */
export class ConnectionError extends SluiceError {
  override readonly code = 'ConnectionError';
  override readonly status = 0;
  override readonly retriable = true;
}

const byCode: Record<string, new (message: string, options?: SluiceErrorOptions) => SluiceError> = {
  InvalidRequest: InvalidRequestError,
  TopicNotFound: TopicNotFoundError,
  TopicAlreadyExists: TopicAlreadyExistsError,
  PartitionNotFound: PartitionNotFoundError,
  OffsetOutOfRange: OffsetOutOfRangeError,
  EventTooLarge: EventTooLargeError,
  RequestTooLarge: RequestTooLargeError,
  TooManyHeaders: TooManyHeadersError,
  KeyTooLarge: KeyTooLargeError,
  GroupNotFound: GroupNotFoundError,
  GroupNotEmpty: GroupNotEmptyError,
  FencedMember: FencedMemberError,
  ProducerFenced: ProducerFencedError,
  OutOfOrderSequence: OutOfOrderSequenceError,
  RebalanceInProgress: RebalanceInProgressError,
  NotFound: RouteNotFoundError,
  MethodNotAllowed: MethodNotAllowedError,
  AuthorizationFailed: AuthorizationFailedError,
  UnsupportedMediaType: UnsupportedMediaTypeError,
  SubscriptionNotFound: SubscriptionNotFoundError,
  SubscriptionAlreadyExists: SubscriptionAlreadyExistsError,
  SubscriptionReadOnly: SubscriptionReadOnlyError,
  QueueNotFound: QueueNotFoundError,
  QueueAlreadyExists: QueueAlreadyExistsError,
  QueueReadOnly: QueueReadOnlyError,
  QueueBusy: QueueBusyError,
  MessageTooLarge: MessageTooLargeError,
  ProcessorNotFound: ProcessorNotFoundError,
  Throttled: ThrottledError,
  InternalError,
  OutcomeUnknown: OutcomeUnknownError,
  DependencyFailed: DependencyFailedError,
};

/** Rebuild the typed error from an HTTP error body (used by the client). */
export function errorFromBody(status: number, body: unknown): SluiceError {
  const err = (body as Partial<ErrorBody> | undefined)?.error;
  if (err && typeof err.code === 'string' && typeof err.message === 'string') {
    const { code, message, ...details } = err;
    const Known = byCode[code];
    if (Known) return new Known(message, { details });
    return new UnknownApiError(message, { status, details: { ...details, code, status } });
  }
  // API Gateway's own answers (Lambda throttled or timed out) carry no Sluice body; they are retriable.
  if (status === 429) return new ThrottledError(`HTTP 429 from the gateway`, { details: { status, body } });
  // The function failed or timed out, perhaps while a write was in flight: nobody can say what it did.
  if (status >= 500) {
    return new OutcomeUnknownError(
      `HTTP ${status} from the gateway (the function failed or timed out): the outcome is unknown; retry the same ` +
        'request, a produce or transaction only with the same message IDs',
      { details: { status, body } },
    );
  }
  return new UnknownApiError(`HTTP ${status} without a Sluice error body`, { status, details: { status, body } });
}

/** An error code this client version does not know; `status` is the HTTP status it came with. */
export class UnknownApiError extends SluiceError {
  override readonly code = 'UnknownError';
  override readonly status: number;
  constructor(message: string, options: SluiceErrorOptions & { readonly status?: number } = {}) {
    super(message, options);
    this.status = options.status ?? 500;
  }
}
