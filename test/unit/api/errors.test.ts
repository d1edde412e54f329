import { describe, expect, it } from 'vitest';
import {
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  RouteNotFoundError,
  SluiceError,
  ThrottledError,
  TopicAlreadyExistsError,
  TopicNotFoundError,
  UnknownApiError,
  errorFromBody,
} from '../../../api/errors';

describe('errorFromBody', () => {
  it.each([
    [400, 'InvalidRequest', InvalidRequestError, false],
    [404, 'TopicNotFound', TopicNotFoundError, false],
    [409, 'TopicAlreadyExists', TopicAlreadyExistsError, false],
    [404, 'NotFound', RouteNotFoundError, false],
    [405, 'MethodNotAllowed', MethodNotAllowedError, false],
    [429, 'Throttled', ThrottledError, true],
    [500, 'InternalError', InternalError, true],
  ])('turns %i %s back into its class (retriable: %s)', (status, code, Class, retriable) => {
    const err = errorFromBody(status, { error: { code, message: 'm', topic: 't' } });
    expect(err).toBeInstanceOf(Class);
    expect(err.retriable).toBe(retriable);
    expect(err.details).toEqual({ topic: 't' });
    expect(err.message).toBe('m');
  });

  it('keeps an unknown code and its status', () => {
    const err = errorFromBody(418, { error: { code: 'Teapot', message: 'short and stout' } });
    expect(err).toBeInstanceOf(UnknownApiError);
    expect(err.details).toMatchObject({ code: 'Teapot', status: 418 });
  });

  it.each([
    [502, InternalError, true],
    [503, InternalError, true],
    [429, ThrottledError, true],
    [403, UnknownApiError, false],
  ])('treats a gateway answer without a Sluice body, HTTP %i, as %o', (status, Class, retriable) => {
    const err = errorFromBody(status, { message: 'Service Unavailable' });
    expect(err).toBeInstanceOf(Class);
    expect(err.retriable).toBe(retriable);
  });
});

describe('SluiceError.toBody', () => {
  it('puts code and message first and never lets details override them', () => {
    const err = new TopicNotFoundError('gone', { details: { topic: 'x', code: 'Forged', message: 'forged' } });
    expect(JSON.stringify(err.toBody())).toBe('{"error":{"code":"TopicNotFound","message":"gone","topic":"x"}}');
  });

  it('names the error after its class and keeps the cause', () => {
    const cause = new Error('root');
    const err = new InternalError('wrapped', { cause });
    expect(err.name).toBe('InternalError');
    expect(err.cause).toBe(cause);
    expect(err).toBeInstanceOf(SluiceError);
  });
});
