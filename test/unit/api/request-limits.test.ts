/**
 * Issue 8: every list in every request schema has a cap, refused from its length alone; a value
 * nested too deep is a validation issue (never a stack overflow); numbers in paths and queries are
 * exact; a request naming the same partition twice is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RequestTooLargeError, TooManyHeadersError } from '../../../api/errors';
import {
  boundedArray,
  EVENT_LIMITS,
  fetchQuerySchema,
  jsonValueProblem,
  nonNegativeIntString,
  produceEventSchema,
  produceRequestSchema,
} from '../../../api/events';
import {
  commitRequestSchema,
  GROUP_LIMITS,
  joinGroupRequestSchema,
  recordsQuerySchema,
  REQUEST_LIMITS,
  seekRequestSchema,
  transactionRequestSchema,
} from '../../../api/groups';

const deep = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
  return v;
};

const issues = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('nesting depth of event values', () => {
  it(`accepts ${EVENT_LIMITS.maxValueDepth} levels and passes the value through unchanged`, () => {
    const value = deep(EVENT_LIMITS.maxValueDepth);
    const parsed = produceEventSchema.parse({ value });
    expect(parsed.value).toBe(value);
  });

  it.each([EVENT_LIMITS.maxValueDepth + 1, 1_500, 100_000])('refuses %i levels with an issue, not a RangeError', (levels) => {
    expect(issues(produceEventSchema, { value: deep(levels) })).toEqual([
      `value: must nest arrays and objects at most ${EVENT_LIMITS.maxValueDepth} levels deep`,
    ]);
  });

  it('still refuses what is not JSON', () => {
    expect(jsonValueProblem(Number.NaN)).toMatch(/finite/);
    expect(jsonValueProblem({ a: [undefined] })).toMatch(/undefined/);
    expect(jsonValueProblem(new Date())).toMatch(/plain objects/);
    expect(jsonValueProblem({ a: [1, 'x', null, true, { b: [] }] })).toBeUndefined();
  });
});

describe('caps on lists, refused before any item is parsed', () => {
  it('boundedArray refuses from the length alone', () => {
    let parsedItems = 0;
    const item = z.custom<number>(() => {
      parsedItems++;
      return true;
    });
    const schema = boundedArray(item, 10, { what: 'things' });
    expect(issues(schema, Array.from({ length: 100_000 }, () => 1))).toEqual([': must hold at most 10 things']);
    expect(parsedItems).toBe(0);
    expect(schema.parse([1, 2])).toEqual([1, 2]);
  });

  it(`answers more than ${EVENT_LIMITS.maxEventsPerRequest} events with 413 RequestTooLarge, and more than ${EVENT_LIMITS.maxHeaders} headers with TooManyHeaders`, () => {
    expect(() => produceRequestSchema.safeParse({ events: Array.from({ length: 100_000 }, () => ({})) })).toThrow(RequestTooLargeError);
    const headers = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`h${i}`, 'v']));
    let thrown: unknown;
    try {
      produceRequestSchema.safeParse({ events: [{ value: 1 }, { value: 2, headers }] });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TooManyHeadersError);
    expect((thrown as TooManyHeadersError).details).toEqual({ index: 1, max: EVENT_LIMITS.maxHeaders, actual: 10_000 });
  });

  it.each([
    ['join topics', joinGroupRequestSchema, { topics: Array.from({ length: GROUP_LIMITS.maxTopicsPerMember + 1 }, () => 't') }],
    ['commit offsets', commitRequestSchema, { memberId: 'm', generation: 1, offsets: Array.from({ length: REQUEST_LIMITS.maxCommitOffsets + 1 }, (_, p) => ({ topic: 't', partition: p, offset: 0 })) }],
    ['seek partitions', seekRequestSchema, { topic: 't', to: 'earliest', partitions: Array.from({ length: 100_000 }, () => 0) }],
    ['transaction entries', transactionRequestSchema, { produce: Array.from({ length: REQUEST_LIMITS.maxTransactionTopics + 1 }, (_, i) => ({ topic: `t${i}`, events: [{ value: 1 }] })) }],
  ])('refuses too many %s', (_, schema, value) => {
    expect(issues(schema, value).join('\n')).toMatch(/must hold at most \d+/);
  });
});

describe('the same partition twice', () => {
  it('in a commit: refused, naming it', () => {
    const offsets = [{ topic: 't', partition: 0, offset: 1 }, { topic: 'u', partition: 0, offset: 1 }, { topic: 't', partition: 0, offset: 2 }];
    expect(issues(commitRequestSchema, { memberId: 'm', generation: 1, offsets })).toEqual([
      'offsets.2: names partition t/0 twice; commit each partition once',
    ]);
    expect(issues(transactionRequestSchema, { commit: { group: 'g', memberId: 'm', generation: 1, offsets } })).toHaveLength(1);
  });

  it('in a seek: refused, naming it', () => {
    expect(issues(seekRequestSchema, { topic: 't', to: 'latest', partitions: [0, 1, 0] })).toEqual([
      'partitions.2: names partition 0 twice; name each partition once',
    ]);
  });

  it('a topic twice in a join is subscribed once (merged)', () => {
    expect(joinGroupRequestSchema.parse({ topics: ['a', 'a'] }).topics).toEqual(['a', 'a']);
  });
});

describe('transactions', () => {
  it.each([[null], [{}], [{ produce: [] }]])('refuses %j: an empty transaction', (body) => {
    expect(issues(transactionRequestSchema, body ?? {})).toEqual([': give produce entries, a commit, or both: an empty transaction does nothing']);
  });
});

describe('integers in paths and query strings', () => {
  it.each(['9'.repeat(400), '9007199254740992', '-1', '1.5', '', '1e3'])('refuses %s', (text) => {
    expect(nonNegativeIntString.safeParse(text).success).toBe(false);
  });

  it('accepts up to 2^53 - 1, exactly', () => {
    expect(nonNegativeIntString.parse('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(nonNegativeIntString.parse('0')).toBe(0);
  });

  it('applies to fetch and records queries', () => {
    expect(fetchQuerySchema.safeParse({ offset: '9'.repeat(400) }).success).toBe(false);
    expect(fetchQuerySchema.safeParse({ timestamp: '9'.repeat(400) }).success).toBe(false);
    expect(recordsQuerySchema.safeParse({ maxRecords: '9'.repeat(400) }).success).toBe(false);
  });
});
