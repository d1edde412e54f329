/** The Sluice client: `new SluiceClient(options)`, its Producer, Consumer, Queue and QueueWorker, and the types and errors they speak. */
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
export { Queue, type NackOptions, type Receipt, type ReceiveOptions } from './queue';
export {
  QueueWorker,
  QUEUE_WORKER_DEFAULTS,
  type EachQueueMessagePayload,
  type QueueWorkerOptions,
  type QueueWorkerRunConfig,
  type WorkerQueue,
} from './queue-worker';
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
  GroupNotEmptyError,
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
  QueueNotFoundError,
  QueueAlreadyExistsError,
  QueueReadOnlyError,
  QueueBusyError,
  MessageTooLargeError,
  ProcessorNotFoundError,
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
export {
  QUEUE_DEFAULTS,
  QUEUE_LIMITS,
  type CreateQueueRequest,
  type ListQueuesResponse,
  type PurgeRequest,
  type PurgeResponse,
  type QueueDescription,
  type QueueMessage,
  type QueueMessageInput,
  type QueueOrigin,
  type QueueSummary,
  type ReceiptResult,
  type RedriveResponse as QueueRedriveResponse,
  type SendResult,
} from '../api/queues';
export type {
  ListProcessorsResponse,
  ProcessorDescription,
  ProcessorInput,
  ProcessorPartition,
  ProcessorStateSize,
} from '../api/processors';
export { partitionForKey } from '../api/partitioner';
