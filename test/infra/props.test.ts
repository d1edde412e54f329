/**
 * Synth-time validation of the Sluice constructs' props: wrong props fail with every problem
 * listed, minor ones warn. None of these tests bundles a function.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionDefinition, type FunctionName } from '../../definitions/functions';
import { QUEUES } from '../../definitions/queues';
import { SluiceApi } from '../../lib/sluice-api';
import { SluiceFunctions, definitionRules } from '../../lib/sluice-functions';
import { SluiceQueues } from '../../lib/sluice-queues';
import { SluiceTables } from '../../lib/sluice-tables';
import { SluicePropsError } from '../../lib/validation';

describe('props validation', () => {
  const stackWith = () => new Stack(new App(), 'Test');

  it.each([
    [{ removalPolicy: RemovalPolicy.SNAPSHOT }, /removalPolicy must be one of .*got RemovalPolicy\.SNAPSHOT/],
    [{ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: true }, /can never delete the tables/],
  ])('SluiceTables rejects %o', (tableProps, message) => {
    expect(() => new SluiceTables(stackWith(), 'Tables', tableProps)).toThrow(message);
  });

  it('SluiceTables encrypts with a customer managed key when given one', () => {
    const stack = stackWith();
    const key = new kms.Key(stack, 'Key');
    new SluiceTables(stack, 'Tables', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).allResourcesProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    Template.fromStack(stack).allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it.each([Duration.seconds(59), Duration.days(15)])('SluiceQueues rejects a dead-letter retention of %s', (period) => {
    expect(() => new SluiceQueues(stackWith(), 'Queues', { deadLetterRetentionPeriod: period })).toThrow(
      /deadLetterRetentionPeriod must be 60 seconds to 14 days/,
    );
  });

  it('SluiceFunctions reports every bad prop in one error, before bundling anything', () => {
    const stack = stackWith();
    const tables = new SluiceTables(stack, 'Tables');
    const queues = new SluiceQueues(stack, 'Queues');
    let error: unknown;
    try {
      new SluiceFunctions(stack, 'Functions', {
        tables,
        queues,
        runtime: lambda.Runtime.NODEJS_20_X,
        memorySize: 64,
        logRetention: 42 as logs.RetentionDays,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SluicePropsError);
    expect((error as SluicePropsError).path).toBe('Test/Functions');
    expect((error as SluicePropsError).problems).toEqual([
      expect.stringMatching(/runtime must be Node\.js 22 or newer.*nodejs20\.x/),
      expect.stringMatching(/memorySize .* got 64/),
      expect.stringMatching(/logRetention must be one of logs\.RetentionDays.* got 42/),
    ]);
  });

  it.each([
    [{ rateLimit: 0 }, /throttle\.rateLimit/],
    [{ burstLimit: 5001 }, /throttle\.burstLimit/],
    [{ burstLimit: 1.5 }, /throttle\.burstLimit/],
  ])('SluiceApi rejects throttle %o', (throttle, message) => {
    const stack = stackWith();
    expect(() => new SluiceApi(stack, 'Api', { functions: importedFunctions(stack), throttle })).toThrow(message);
  });

  it('SluiceApi rejects an API type other than http or rest', () => {
    const stack = stackWith();
    expect(() => new SluiceApi(stack, 'Api', { functions: importedFunctions(stack), type: 'soap' as 'rest' })).toThrow(
      /type must be 'http' or 'rest'; got "soap"/,
    );
  });

  it('SluiceApi warns, without failing, when access logs are kept forever', () => {
    const stack = stackWith();
    new SluiceApi(stack, 'Api', { functions: importedFunctions(stack), accessLogRetention: logs.RetentionDays.INFINITE });
    Annotations.fromStack(stack).hasWarning('/Test/Api', Match.stringLikeRegexp('INFINITE'));
  });

  describe('definitionRules', () => {
    const queue = { name: 'q', description: '', fifo: false, visibilityTimeoutSeconds: 60, maxReceiveCount: 3, envVar: 'Q' };
    const fn = (overrides: Partial<FunctionDefinition>): Record<string, FunctionDefinition> => ({
      f: { name: 'f', description: '', entry: 'x.ts', tables: {}, queues: {}, ...overrides } as FunctionDefinition,
    });
    const problems = (fns: Record<string, FunctionDefinition>) =>
      definitionRules(fns, { q: queue }).filter((r) => r.condition).map((r) => r.message);

    it('accepts the real definitions', () => {
      expect(definitionRules(FUNCTIONS, QUEUES).filter((r) => r.condition)).toEqual([]);
    });

    it('accepts a visibility timeout of exactly 6× the function timeout (AWS guidance for SQS event sources)', () => {
      const sixTimes = { queues: { q: 'consume' }, trigger: { queue: 'q', batchSize: 1 }, timeoutSeconds: 10 };
      expect(problems(fn(sixTimes as Partial<FunctionDefinition>))).toEqual([]);
    });

    it.each([
      ['a visibility timeout under 6× the function timeout', { queues: { q: 'consume' }, trigger: { queue: 'q', batchSize: 1 }, timeoutSeconds: 11 }, /visibility timeout of 60 s; it must be at least 6× the function timeout of 11 s \(66 s\)/],
      ['consuming without a trigger', { queues: { q: 'consume' } }, /consumes queue q but has no trigger/],
      ['a trigger without consume access', { queues: { q: 'send' }, trigger: { queue: 'q', batchSize: 1 } }, /does not declare it as 'consume'/],
      ['a batch size over 10', { queues: { q: 'consume' }, trigger: { queue: 'q', batchSize: 11 } }, /batchSize must be 1 to 10/],
      ['a timeout over 15 minutes', { timeoutSeconds: 901 }, /timeoutSeconds must be a whole number from 1 to 900/],
    ])('rejects %s', (_, overrides, message) => {
      expect(problems(fn(overrides as Partial<FunctionDefinition>))).toEqual([expect.stringMatching(message)]);
    });

    describe('stream triggers', () => {
      const tables = {
        streamed: { name: 'streamed', description: '', partitionKey: { name: 'pk', type: 'S' }, stream: 'NEW_IMAGE', envVar: 'T' },
        plain: { name: 'plain', description: '', partitionKey: { name: 'pk', type: 'S' }, envVar: 'P' },
      } as const;
      const fifo = { ...queue, name: 'f', fifo: true };
      const stream = {
        stream: 'streamed',
        startingPosition: 'LATEST',
        batchSize: 100,
        maxBatchingWindowSeconds: 0,
        parallelizationFactor: 10,
        bisectBatchOnError: true,
        maxRetryAttempts: 10,
        maxRecordAgeSeconds: 86_400,
        onFailure: 'q',
        filters: [{ eventName: ['INSERT'] }],
      };
      const streamProblems = (overrides: Record<string, unknown>) =>
        definitionRules(fn({ trigger: { ...stream, ...overrides } as never }), { q: queue, f: fifo }, tables)
          .filter((r) => r.condition)
          .map((r) => r.message);

      it('accepts a valid one, and the limits of each range', () => {
        expect(streamProblems({})).toEqual([]);
        for (const edge of [
          { batchSize: 1 },
          { batchSize: 10_000 },
          { maxBatchingWindowSeconds: 300 },
          { parallelizationFactor: 1 },
          { maxRetryAttempts: -1 },
          { maxRetryAttempts: 10_000 },
          { maxRecordAgeSeconds: -1 },
          { maxRecordAgeSeconds: 60 },
          { maxRecordAgeSeconds: 604_800 },
          { startingPosition: 'TRIM_HORIZON' },
        ]) {
          expect(streamProblems(edge), JSON.stringify(edge)).toEqual([]);
        }
      });

      it.each([
        ['an unknown table', { stream: 'nope' }, /reads unknown table nope/],
        ['a table without a stream', { stream: 'plain' }, /reads table plain, which has no stream/],
        ['an unknown starting position', { startingPosition: 'AT_TIMESTAMP' }, /startingPosition must be LATEST or TRIM_HORIZON/],
        ['a batch size of 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10,000; got 0/],
        ['a batch size over 10,000', { batchSize: 10_001 }, /batchSize must be a whole number from 1 to 10,000/],
        ['a batching window over 300 s', { maxBatchingWindowSeconds: 301 }, /maxBatchingWindowSeconds must be a whole number from 0 to 300/],
        ['a parallelization factor over 10', { parallelizationFactor: 11 }, /parallelizationFactor must be a whole number from 1 to 10/],
        ['retries below -1', { maxRetryAttempts: -2 }, /maxRetryAttempts must be -1 .* or a whole number from 0 to 10,000/],
        ['a record age under 60 s', { maxRecordAgeSeconds: 59 }, /maxRecordAgeSeconds must be -1 .* or a whole number from 60 to 604,800/],
        ['a record age over 7 days', { maxRecordAgeSeconds: 604_801 }, /maxRecordAgeSeconds/],
        ['an unknown on-failure queue', { onFailure: 'nope' }, /sends failed batches to unknown queue nope/],
        ['a FIFO on-failure queue', { onFailure: 'f' }, /FIFO queue f; a stream's on-failure destination must be a standard queue/],
        ['more than 5 filters', { filters: Array.from({ length: 6 }, () => ({ eventName: ['INSERT'] })) }, /has 6 filters; an event source mapping takes at most 5/],
        ['an empty filter', { filters: [{}] }, /filter 0 must be a non-empty object pattern/],
      ])('rejects %s', (_, overrides, message) => {
        expect(streamProblems(overrides)).toEqual([expect.stringMatching(message)]);
      });

      it('does not count a stream trigger as consuming a queue', () => {
        const problems = definitionRules(fn({ queues: { q: 'consume' } as never, trigger: stream as never }), { q: queue }, tables)
          .filter((r) => r.condition)
          .map((r) => r.message);
        expect(problems).toEqual([expect.stringMatching(/consumes queue q but has no trigger on it/)]);
      });
    });

    it('rejects high-throughput mode on a standard queue', () => {
      expect(
        definitionRules({}, { q: { ...queue, highThroughput: true } })
          .filter((r) => r.condition)
          .map((r) => r.message),
      ).toEqual([expect.stringMatching(/queue q: highThroughput is a mode of FIFO queues/)]);
    });
  });
});

function importedFunctions(scope: Stack): Record<FunctionName, lambda.IFunction> {
  const fns = {} as Record<FunctionName, lambda.IFunction>;
  for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
    fns[name] = lambda.Function.fromFunctionArn(scope, `Imported${name}`, `arn:aws:lambda:us-east-1:111111111111:function:${name}`);
  }
  return fns;
}
