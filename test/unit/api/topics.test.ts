import { describe, expect, it } from 'vitest';
import { createTopicRequestSchema, topicNameSchema } from '../../../api/topics';

describe('topicNameSchema (Kafka topic name rule)', () => {
  it.each([['a'], ['orders'], ['Orders.v2_final-1'], ['...'], ['.a'], ['a'.repeat(249)]])('accepts %j', (name) => {
    expect(topicNameSchema.safeParse(name).success).toBe(true);
  });

  it.each([[''], ['.'], ['..'], ['a'.repeat(250)], ['has space'], ['slash/'], ['ünïcode'], ['a#b'], [42]])(
    'rejects %j',
    (name) => {
      expect(topicNameSchema.safeParse(name).success).toBe(false);
    },
  );
});

describe('createTopicRequestSchema', () => {
  it.each([
    [{ name: 't', partitions: 1 }],
    [{ name: 't', partitions: 1000 }],
    [{ name: 't', retentionMs: -1 }],
    [{ name: 't', retentionMs: 1000 }],
    [{ name: 't', dedupeWindowMs: 0 }],
    [{ name: 't', dedupeWindowMs: 7 * 86_400_000 }],
  ])('accepts the boundary value %j', (body) => {
    expect(createTopicRequestSchema.safeParse(body).success).toBe(true);
  });

  it.each([
    [{ name: 't', partitions: 0 }],
    [{ name: 't', partitions: 1001 }],
    [{ name: 't', retentionMs: 999 }],
    [{ name: 't', retentionMs: -2 }],
    [{ name: 't', retentionMs: 1.5 }],
    [{ name: 't', dedupeWindowMs: 7 * 86_400_000 + 1 }],
    [{ name: 't', extra: true }],
  ])('rejects %j', (body) => {
    expect(createTopicRequestSchema.safeParse(body).success).toBe(false);
  });
});

describe('group names and member IDs', () => {
  it.each([['.'], ['..'], [''], ['a b'], ['x'.repeat(250)]])('refuses %j', async (name) => {
    const { groupNameSchema, memberIdSchema } = await import('../../../api/groups');
    expect(groupNameSchema.safeParse(name).success).toBe(false);
    expect(memberIdSchema.safeParse(name).success).toBe(false);
  });
});
