/** The Sluice client: `new SluiceClient(options)`, its Producer, and the types and errors they speak. */
export { SluiceClient, createClient, type FetchOffset, type FetchOptions } from './sluice-client';
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
  RouteNotFoundError,
  MethodNotAllowedError,
  ThrottledError,
  InternalError,
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
export { partitionForKey } from '../api/partitioner';
