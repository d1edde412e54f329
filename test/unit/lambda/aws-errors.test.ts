/** Which AWS errors are retriable, and that the client sees the same answer across the wire. */
import { describe, expect, it } from 'vitest';
import { DependencyFailedError, errorFromBody, InternalError, OutcomeUnknownError, ThrottledError } from '../../../api/errors';
import { withRetries } from '../../../api/retry';
import { toSluiceError } from '../../../lambda/core/aws/errors';

/** An error shaped like the SDK's ServiceException. */
const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, ...extra });

describe('toSluiceError', () => {
  it.each([
    'AccessDeniedException',
    'ValidationException',
    'ResourceNotFoundException',
    'UnrecognizedClientException',
    'InvalidSignatureException',
    'MissingAuthenticationToken',
    'SerializationException',
    'ItemCollectionSizeLimitExceededException',
    'QueueDoesNotExist',
    'SomeFutureClientException',
  ])('maps %s to a non-retriable DependencyFailed', (name) => {
    const err = toSluiceError(awsError(name, 400), 'Op');
    expect(err).toBeInstanceOf(DependencyFailedError);
    expect(err).toMatchObject({ code: 'DependencyFailed', status: 500, retriable: false });
  });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TransactionConflictException'])(
    'maps %s to a retriable Throttled',
    (name) => {
      const err = toSluiceError(awsError(name, 400), 'Op');
      expect(err).toBeInstanceOf(ThrottledError);
      expect(err.retriable).toBe(true);
    },
  );

  it.each([
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
    ['SomeFutureServerFault', 502],
  ])('maps %s to a retriable InternalError', (name, status) => {
    const err = toSluiceError(awsError(name, status), 'Op');
    expect(err).toBeInstanceOf(InternalError);
    expect(err.retriable).toBe(true);
  });

  it('treats a network failure (no answer at all) as transient', () => {
    const err = toSluiceError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'Op');
    expect(err).toBeInstanceOf(InternalError);
  });

  describe('on a write', () => {
    const noAnswer = [
      ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
      ['an abort', Object.assign(new Error('aborted'), { name: 'AbortError' })],
      ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      ['a 5xx', awsError('InternalServerError', 500)],
    ] as const;

    it.each(noAnswer)('answers %s with a retriable OutcomeUnknown that says so', (_, err) => {
      const mapped = toSluiceError(err, 'Append', { write: true });
      expect(mapped).toBeInstanceOf(OutcomeUnknownError);
      expect(mapped).toMatchObject({ code: 'OutcomeUnknown', status: 500, retriable: true });
      expect(mapped.message).toMatch(/outcome is unknown/);
      expect(mapped.message).toMatch(/same message IDs/);
    });

    it.each(noAnswer)('keeps answering %s on a read with InternalError', (_, err) => {
      expect(toSluiceError(err, 'GetTopic')).toBeInstanceOf(InternalError);
      expect(toSluiceError(err, 'GetTopic')).not.toBeInstanceOf(OutcomeUnknownError);
    });

    it('keeps what is known not to have written: throttling, rejections, calls never sent', () => {
      expect(toSluiceError(awsError('ProvisionedThroughputExceededException', 400), 'Append', { write: true })).toBeInstanceOf(ThrottledError);
      expect(toSluiceError(awsError('AccessDeniedException', 400), 'Append', { write: true })).toBeInstanceOf(DependencyFailedError);
      for (const code of ['ECONNREFUSED', 'ENOTFOUND']) {
        const mapped = toSluiceError(Object.assign(new Error(code), { code }), 'Append', { write: true });
        expect(mapped).toBeInstanceOf(InternalError);
        expect(mapped).not.toBeInstanceOf(OutcomeUnknownError);
      }
      expect(toSluiceError(Object.assign(new Error('no creds'), { name: 'CredentialsProviderError' }), 'Append', { write: true })).toBeInstanceOf(InternalError);
    });

    it('is rebuilt by the client as OutcomeUnknownError', () => {
      const body = JSON.parse(JSON.stringify(toSluiceError(Object.assign(new Error('t'), { name: 'TimeoutError' }), 'Append', { write: true }).toBody()));
      expect(errorFromBody(500, body)).toBeInstanceOf(OutcomeUnknownError);
    });
  });

  it('decides a cancelled transaction by its reasons', () => {
    const cancelled = (...codes: string[]) =>
      awsError('TransactionCanceledException', 400, { CancellationReasons: codes.map((Code) => ({ Code })) });
    expect(toSluiceError(cancelled('None', 'ThrottlingError'), 'Op')).toBeInstanceOf(ThrottledError);
    expect(toSluiceError(cancelled('TransactionConflict'), 'Op')).toBeInstanceOf(ThrottledError);
    expect(toSluiceError(cancelled('None', 'ValidationError'), 'Op')).toBeInstanceOf(DependencyFailedError);
    expect(toSluiceError(cancelled('ItemCollectionSizeLimitExceeded'), 'Op')).toBeInstanceOf(DependencyFailedError);
  });
});

describe('across the wire', () => {
  it('the client rebuilds DependencyFailed as non-retriable and tries once', async () => {
    const body = JSON.parse(JSON.stringify(new DependencyFailedError('Append was refused (AccessDeniedException)').toBody()));
    let attempts = 0;
    const err = await withRetries(
      async () => {
        attempts++;
        throw errorFromBody(500, body);
      },
      { sleep: async () => {} },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyFailedError);
    expect(attempts).toBe(1);
  });

  it('the client still retries InternalError and Throttled answers', async () => {
    for (const [status, error] of [
      [500, new InternalError('x')],
      [429, new ThrottledError('y')],
    ] as const) {
      let attempts = 0;
      await withRetries(
        async () => {
          if (++attempts < 3) throw errorFromBody(status, JSON.parse(JSON.stringify(error.toBody())));
          return 'ok';
        },
        { sleep: async () => {} },
      );
      expect(attempts).toBe(3);
    }
  });
});
