/**
 * A local Lambda function: execution environments as worker threads, each with exactly the
 * environment the template gives the function (plus what Lambda's runtime sets), a heap capped at
 * the function's memory size, one invocation at a time, and the function's timeout enforced by
 * ending the environment, as Lambda does. More environments start when all are busy, so a function
 * serves several requests at once.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lambda/core/logger';
import type { TwinFunction } from '../template/twin';

/** Lambda's limit on a synchronous invocation's request and response payloads. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

/** A failed invocation, with the error type Lambda reports (`Sandbox.Timedout`, `Runtime.ImportModuleError`, ...). */
export class InvocationError extends Error {
  override readonly name = 'InvocationError';
  constructor(
    readonly errorType: string,
    message: string,
    readonly stack_?: string,
  ) {
    super(`${errorType}: ${message}`);
  }
}

export interface InvokeResult {
  /** The handler's result as JSON, exactly as Lambda returns it to the caller. */
  readonly payload: string;
  readonly requestId: string;
  readonly coldStart: boolean;
  readonly initDurationMs?: number;
}

export interface FunctionPoolOptions {
  readonly fn: TwinFunction;
  /** Variables Lambda's runtime sets besides the template's: region, credentials, endpoints. */
  readonly runtimeEnvironment: Readonly<Record<string, string>>;
  /** Where the function's stdout and stderr go (CloudWatch Logs on AWS). */
  readonly output: (line: string) => void;
  readonly logger: Logger;
  /** Most environments at once; more invocations wait. @default 16 */
  readonly maxConcurrency?: number;
}

interface Environment {
  readonly worker: Worker;
  readonly ready: Promise<{ initDurationMs: number }>;
  busy: boolean;
  used: boolean;
  dead: boolean;
  /** Ended by `crash()`. */
  killed?: boolean;
}

export interface CrashOptions {
  /** End only environments running an invocation right now. @default true */
  readonly busyOnly?: boolean;
  /** End at most this many, chosen at random. @default all of them */
  readonly count?: number;
}

export class FunctionPool {
  private readonly environments = new Set<Environment>();
  private readonly observers = new Set<(event: unknown) => void>();
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(private readonly options: FunctionPoolOptions) {}

  get name(): string {
    return this.options.fn.functionName;
  }

  get arn(): string {
    return this.options.fn.functionArn;
  }

  /** Invokes the function with `event` (RequestResponse) and resolves with its JSON result. */
  async invoke(event: unknown): Promise<InvokeResult> {
    const fn = this.options.fn;
    const request = JSON.stringify(event);
    if (Buffer.byteLength(request) > MAX_SYNC_PAYLOAD_BYTES) {
      throw new InvocationError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    for (const observer of this.observers) observer(event);
    const env = await this.acquire();
    const coldStart = !env.used;
    env.used = true;
    const requestId = randomUUID();
    try {
      const { initDurationMs } = await env.ready;
      const deadline = Date.now() + fn.timeoutSeconds * 1000;
      const context = {
        functionName: fn.functionName,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.functionArn,
        memoryLimitInMB: String(fn.memorySize),
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${fn.functionName}`,
        logStreamName: `local/${fn.functionName}`,
        deadline,
      };
      const payload = await this.run(env, JSON.parse(request), context, deadline);
      if (Buffer.byteLength(payload) > MAX_SYNC_PAYLOAD_BYTES) {
        throw new InvocationError(
          'Function.ResponseSizeTooLarge',
          `Response payload size (${Buffer.byteLength(payload)} bytes) exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).`,
        );
      }
      return { payload, requestId, coldStart, initDurationMs: coldStart ? initDurationMs : undefined };
    } finally {
      this.release(env);
    }
  }

  /** Calls `observer` with the event of every invocation from now on (tests count deliveries). Returns a function that stops it. */
  observe(observer: (event: unknown) => void): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  /** Execution environments running an invocation right now. */
  get busyEnvironments(): number {
    return [...this.environments].filter((env) => env.busy && !env.dead).length;
  }

  /**
   * Ends execution environments at once, as when a Lambda runtime dies mid-invocation (killed, out
   * of memory, its host lost): the handler stops wherever it is, what it already wrote stays
   * written, and each invocation running in one fails with `Runtime.ExitError`; the next
   * invocation starts a new environment (a cold start). Returns how many were ended.
   */
  crash(options: CrashOptions = {}): number {
    const candidates = [...this.environments].filter((env) => !env.dead && (env.busy || options.busyOnly === false));
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    const chosen = candidates.slice(0, options.count ?? candidates.length);
    for (const env of chosen) {
      env.killed = true;
      env.dead = true;
      void env.worker.terminate();
    }
    return chosen.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.environments].map((env) => this.end(env)));
  }

  private run(env: Environment, event: unknown, context: Record<string, unknown>, deadline: number): Promise<string> {
    const id = randomUUID();
    return new Promise<string>((resolve, reject) => {
      const onMessage = (message: { id?: string; payload?: string; error?: { errorType: string; errorMessage: string; stack?: string } }) => {
        if (message.id !== id) return;
        cleanup();
        if (message.error) reject(new InvocationError(message.error.errorType, message.error.errorMessage, message.error.stack));
        else resolve(message.payload ?? 'null');
      };
      const onExit = (code: number) => {
        cleanup();
        const how = env.killed ? 'signal: killed' : `exit status ${code}`;
        reject(new InvocationError('Runtime.ExitError', `RequestId: ${context.awsRequestId} Error: Runtime exited with error: ${how}`));
      };
      const onError = (error: Error & { code?: string }) => {
        cleanup();
        env.dead = true;
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new InvocationError('Runtime.OutOfMemory', `Runtime exited with error: the function used more than its ${this.options.fn.memorySize} MB`)
            : new InvocationError('Runtime.ExitError', error.message),
        );
      };
      // Lambda stops the environment when the function times out; the next invocation starts a new one.
      const timer = setTimeout(() => {
        cleanup();
        env.dead = true;
        void env.worker.terminate();
        reject(new InvocationError('Sandbox.Timedout', `Task timed out after ${this.options.fn.timeoutSeconds.toFixed(2)} seconds`));
      }, Math.max(0, deadline - Date.now()));
      const cleanup = () => {
        clearTimeout(timer);
        env.worker.off('message', onMessage);
        env.worker.off('exit', onExit);
        env.worker.off('error', onError);
      };
      env.worker.on('message', onMessage);
      env.worker.once('exit', onExit);
      env.worker.once('error', onError);
      env.worker.postMessage({ id, event, context });
    });
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.closed) throw new InvocationError('ServiceException', `Function ${this.name} is shutting down`);
      for (const env of this.environments) {
        if (!env.busy && !env.dead) {
          env.busy = true;
          return env;
        }
      }
      if (this.environments.size < (this.options.maxConcurrency ?? 16)) {
        const env = this.start();
        env.busy = true;
        return env;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(env: Environment): void {
    env.busy = false;
    if (env.dead) void this.end(env);
    this.waiting.shift()?.();
  }

  private start(): Environment {
    const fn = this.options.fn;
    const worker = new Worker(BOOTSTRAP, {
      workerData: { file: fn.file, exportName: fn.exportName },
      // Exactly what Lambda gives the function: the template's variables and the runtime's own.
      env: { ...this.options.runtimeEnvironment, ...fn.environment },
      // A worker's own process.execArgv (tsx's loader, --inspect) is no business of the bundle's.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: fn.memorySize },
      stdout: true,
      stderr: true,
    });
    for (const stream of [worker.stdout, worker.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) this.options.output(line);
      });
    }
    const ready = new Promise<{ initDurationMs: number }>((resolve, reject) => {
      worker.once('message', (m: { ready?: boolean; initDurationMs: number }) => (m.ready ? resolve(m) : reject(new Error('bootstrap did not report ready'))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new InvocationError('Runtime.ExitError', `Runtime exited with error: exit status ${code}`)));
    });
    ready.catch(() => {}); // observed by invoke()
    const env: Environment = { worker, ready, busy: false, used: false, dead: false };
    worker.once('exit', () => {
      env.dead = true;
      if (!env.busy) this.environments.delete(env);
    });
    this.environments.add(env);
    return env;
  }

  private async end(env: Environment): Promise<void> {
    this.environments.delete(env);
    env.dead = true;
    await env.worker.terminate();
  }
}
