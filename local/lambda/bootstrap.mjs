// The Lambda runtime inside one local execution environment (a worker thread): loads the
// function's bundle from the cloud assembly once (the cold start), then runs one invocation at a
// time, as Lambda does. Plain JavaScript: it runs the bundle, not the TypeScript sources.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { file, exportName } = workerData;

function describe(error, fallbackType) {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorType: e.name && e.name !== 'Error' ? e.name : fallbackType, errorMessage: e.message, stack: e.stack };
}

let handler;
let initError;
const started = performance.now();
try {
  const mod = await import(pathToFileURL(file).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') {
    initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: `${file} does not export a function "${exportName}"` };
  }
} catch (error) {
  initError = describe(error, 'Runtime.ImportModuleError');
}
const initDurationMs = performance.now() - started;

parentPort.on('message', async ({ id, event, context }) => {
  if (initError) {
    parentPort.postMessage({ id, error: initError });
    return;
  }
  const deadline = context.deadline;
  const ctx = {
    ...context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(event, ctx);
    // Lambda serializes the result as JSON; undefined becomes null.
    parentPort.postMessage({ id, payload: JSON.stringify(result) ?? 'null' });
  } catch (error) {
    parentPort.postMessage({ id, error: describe(error, 'Error') });
  }
});
parentPort.postMessage({ ready: true, initDurationMs, initError });
