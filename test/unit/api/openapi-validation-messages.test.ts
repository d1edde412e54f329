/**
 * Validation errors say what is allowed (api/validation.ts, applied by the HTTP layer's validate()):
 * unions and enums list their accepted values instead of zod's "Invalid input".
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aclFilterSchema } from '../../../api/acls';
import { InvalidRequestError } from '../../../api/errors';
import { fetchQuerySchema } from '../../../api/events';
import { recordsQuerySchema, seekRequestSchema } from '../../../api/groups';
import { startAtSchema } from '../../../api/subscriptions';
import { validate } from '../../../lambda/middleware/validate';

function issues(schema: z.ZodType, value: unknown): { path: string; message: string }[] {
  try {
    validate(schema, value, 'query');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return (err as InvalidRequestError).details.issues as { path: string; message: string }[];
  }
  throw new Error('expected a validation error');
}

describe('allowed values in validation errors', () => {
  it('lists the forms of a union of literals and a pattern (?offset=earliset)', () => {
    expect(issues(fetchQuerySchema, { offset: 'earliset' })).toEqual([
      { path: 'query.offset', message: 'must be one of "earliest", "latest" or a non-negative integer of at most 16 digits' },
    ]);
  });

  it('names the keys of object options', () => {
    expect(issues(seekRequestSchema, { topic: 't', to: 'begining' })[0]!.message).toBe(
      'must be one of "earliest", "latest", an object { offset } or an object { timestamp }',
    );
    expect(issues(startAtSchema, 'now')[0]!.message).toBe('must be one of "earliest", "latest" or an object { timestamp }');
  });

  it('lists the values of an enum', () => {
    expect(issues(aclFilterSchema, { operation: 'reed' })[0]).toEqual({
      path: 'query.operation',
      message: 'must be one of "read", "write", "create", "delete", "describe", "alter" or "all"',
    });
    expect(issues(recordsQuerySchema, { commit: 'yes' })[0]!.message).toBe('must be one of "true" or "false"');
  });

  it('keeps the message of the option that matched the type', () => {
    // An object of the right shape with a bad field is that field's error, not the union's.
    expect(issues(seekRequestSchema, { topic: 't', to: { offset: -1 } })[0]!.path).toBe('query.to.offset');
  });

  it('leaves messages a schema sets itself alone', () => {
    expect(issues(z.enum(['a', 'b'], { error: 'pick a or b' }), 'c')[0]!.message).toBe('pick a or b');
  });
});
