/**
 * Loads a function's handler module (the same file the CDK stack bundles) and invokes it
 * in-process with a Lambda-like context.
 */
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../definitions/functions';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type AnyHandler = (event: unknown, context: Context) => Promise<unknown>;
const loaded = new Map<FunctionName, Promise<AnyHandler>>();

export function loadHandler(name: FunctionName): Promise<AnyHandler> {
  let handler = loaded.get(name);
  if (!handler) {
    const url = pathToFileURL(resolve(REPO_ROOT, FUNCTIONS[name].entry)).href;
    handler = import(url).then((mod: { handler?: AnyHandler }) => {
      if (typeof mod.handler !== 'function') throw new Error(`${FUNCTIONS[name].entry} does not export a handler`);
      return mod.handler;
    });
    loaded.set(name, handler);
  }
  return handler;
}

export async function invoke(name: FunctionName, event: unknown): Promise<unknown> {
  const fn = FUNCTIONS[name];
  const timeoutMs = ('timeoutSeconds' in fn ? fn.timeoutSeconds : 10) * 1000;
  const deadline = Date.now() + timeoutMs;
  const requestId = randomUUID();
  const context: Context = {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `sluice-local-${fn.name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:sluice-local-${fn.name}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/sluice-local-${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  const handler = await loadHandler(name);
  return handler(event, context);
}
