/**
 * The Sluice client: topic administration over the HTTP API.
 *
 * ```ts
 * const sluice = new SluiceClient(); // the local platform, or SLUICE_ENDPOINT
 * await sluice.createTopic({ name: 'orders', partitions: 3 });
 * const { topics } = await sluice.listTopics();
 * ```
 *
 * Every method rejects with a typed error from api/errors (`TopicNotFoundError`, ...), a
 * `ConnectionError` when the endpoint cannot be reached, or `RetriesExceededError` when retriable
 * failures outlast the retry budget.
 */
import { InvalidRequestError } from '../api/errors';
import {
  topicNameSchema,
  type CreateTopicRequest,
  type ListTopicsResponse,
  type TopicConfig,
  type TopicDescription,
} from '../api/topics';
import { createHttpTransport, type HttpTransport } from './http';
import {
  DEFAULT_TIMEOUT_MS,
  defaultEndpoint,
  defaultRegion,
  parseEndpoint,
  type SluiceClientOptions,
} from './options';
import { createSigner, shouldSign } from './signing';

export class SluiceClient {
  /** The resolved endpoint, without a trailing slash. */
  readonly endpoint: string;
  /** The region requests are signed for. */
  readonly region: string;
  /** Whether requests are signed (the `signing` rule applied to this endpoint). */
  readonly signed: boolean;
  readonly #request: HttpTransport;

  /** @throws TypeError when `endpoint` is not an http(s) URL. */
  constructor(options: SluiceClientOptions = {}) {
    const url = parseEndpoint(options.endpoint ?? defaultEndpoint());
    this.endpoint = url.href.replace(/\/$/, '');
    this.region = options.region ?? defaultRegion(url);
    this.signed = shouldSign(options.signing ?? 'auto', url);
    this.#request = createHttpTransport({
      endpoint: url,
      signer: this.signed ? createSigner(this.region, options.credentials) : undefined,
      retry: options.retry ?? {},
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      fetch: options.fetch ?? globalThis.fetch,
    });
  }

  /**
   * Creates a topic; unset fields take the defaults of api/topics (`TOPIC_DEFAULTS`).
   * @throws TopicAlreadyExistsError, also when a retry follows a lost response to a create that
   * succeeded; InvalidRequestError when the request breaks a rule (`details.issues` says which).
   */
  createTopic(request: CreateTopicRequest): Promise<TopicConfig> {
    return this.#request('POST', '/topics', request);
  }

  listTopics(): Promise<ListTopicsResponse> {
    return this.#request('GET', '/topics');
  }

  /** The topic's configuration and, per partition, its log start offset and high watermark. */
  async describeTopic(name: string): Promise<TopicDescription> {
    return this.#request('GET', topicPath(name));
  }

  /** Deletes the topic; its events are removed in the background. */
  async deleteTopic(name: string): Promise<void> {
    await this.#request('DELETE', topicPath(name));
  }
}

/** Same as `new SluiceClient(options)`. */
export function createClient(options: SluiceClientOptions = {}): SluiceClient {
  return new SluiceClient(options);
}

/**
 * A topic name becomes a path segment, so it is checked here: `.` and `..` would be resolved away
 * by URL parsing and reach a different route. Fails as the server would, without a request.
 */
function topicPath(name: string): string {
  const result = topicNameSchema.safeParse(name);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ path: 'path.topic', message: issue.message }));
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new InvalidRequestError(`Invalid request: ${summary}`, { details: { issues } });
  }
  return `/topics/${encodeURIComponent(name)}`;
}
