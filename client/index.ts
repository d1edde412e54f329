/** The Sluice client: `new SluiceClient(options)`, its Producer and Consumer, and the types and errors they speak. */
export {
  SluiceClient,
  createClient,
  type FetchOffset,
  type FetchOptions,
  type ListGroupsResponse,
  type RecordsOptions,
  type RecordsResponse,
  type SeekResponse,
  type TransactionResponse,
} from './sluice-client';
export { Consumer, type ConsumerClient, type RunConfig } from './consumer';
export { CONSUMER_DEFAULTS, type ConsumerLogger, type ConsumerOptions } from './consumer-options';
export type {
  ConsumerTransaction,
  EachBatchPayload,
  EachMessagePayload,
  Guarantee,
} from './consumer-delivery';
export type { TopicPartition } from './consumer-membership';
export type { TopicPartitions } from './consumer-pauses';
export {
  Producer,
  ProducerDisconnectedError,
  PRODUCER_DEFAULTS,
  type ProducerClient,
  type ProducerMessage,
  type ProducerOptions,
  type ProducerRecord,
} from './producer';
export type { AwsCredentials, SigningMode, SluiceClientOptions } from './options';
export { DEFAULT_ENDPOINT, defaultEndpoint } from './options';
export {
  SluiceError,
  InvalidRequestError,
  TopicNotFoundError,
  TopicAlreadyExistsError,
  PartitionNotFoundError,
  OffsetOutOfRangeError,
  EventTooLargeError,
  RequestTooLargeError,
  TooManyHeadersError,
  KeyTooLargeError,
  GroupNotFoundError,
  FencedMemberError,
  RebalanceInProgressError,
  RouteNotFoundError,
  MethodNotAllowedError,
  ThrottledError,
  InternalError,
  OutcomeUnknownError,
  DependencyFailedError,
  AuthorizationFailedError,
  UnsupportedMediaTypeError,
  SubscriptionNotFoundError,
  SubscriptionAlreadyExistsError,
  SubscriptionReadOnlyError,
  ConnectionError,
  UnknownApiError,
  type ErrorBody,
} from '../api/errors';
export { RetriesExceededError, RETRY_DEFAULTS, type RetryOptions } from '../api/retry';
export {
  TOPIC_DEFAULTS,
  TOPIC_LIMITS,
  RETAIN_FOREVER,
  type CreateTopicRequest,
  type ListTopicsResponse,
  type PartitionOffsets,
  type TopicConfig,
  type TopicDescription,
  type UpdateTopicRequest,
} from '../api/topics';
export {
  EVENT_LIMITS,
  FETCH_LIMITS,
  type FetchedEvent,
  type FetchResponse,
  type ProduceEvent,
  type ProduceResult,
} from '../api/events';
export {
  GROUP_DEFAULTS,
  GROUP_LIMITS,
  type Assignment,
  type CommitRequest,
  type GroupDescription,
  type GroupPartitionState,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type MembershipResponse,
  type OffsetReset,
  type SeekRequest,
  type TopicPartitionOffset,
  type TransactionRequest,
} from '../api/groups';
export { partitionForKey } from '../api/partitioner';
