/** The Sluice client: `new SluiceClient(options)` and the types and errors it speaks. */
export { SluiceClient, createClient } from './sluice-client';
export type { AwsCredentials, SigningMode, SluiceClientOptions } from './options';
export { DEFAULT_ENDPOINT, defaultEndpoint } from './options';
export {
  SluiceError,
  InvalidRequestError,
  TopicNotFoundError,
  TopicAlreadyExistsError,
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
} from '../api/topics';
