/** What a CLI command is, what it gets to run with, and the usage error it throws. */
import type { SluiceClient } from '../client/sluice-client';

/** The part of the client the commands use (a fake can stand in for it in tests). */
export type SluiceApi = Pick<
  SluiceClient,
  | 'createTopic'
  | 'listTopics'
  | 'describeTopic'
  | 'updateTopic'
  | 'deleteTopic'
  | 'fetch'
  | 'producer'
  | 'consumer'
  | 'listGroups'
  | 'describeGroup'
  | 'deleteGroup'
  | 'seek'
  | 'createAcls'
  | 'listAcls'
  | 'deleteAcls'
  | 'createSubscription'
  | 'listSubscriptions'
  | 'describeSubscription'
  | 'deleteSubscription'
  | 'seekSubscription'
  | 'deadLetters'
  | 'redriveDeadLetters'
  | 'queue'
  | 'createQueue'
  | 'listQueues'
  | 'describeQueue'
  | 'deleteQueue'
  | 'redriveQueue'
  | 'purgeQueue'
  | 'listProcessors'
  | 'describeProcessor'
>;

export interface Writer {
  write(chunk: string): unknown;
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Shown in help after the flag, e.g. `N` or `URL`. */
  readonly valueName?: string;
  readonly description: string;
  /** The command cannot run without it: a usage error when absent. @default false */
  readonly required?: boolean;
  /** A string flag that may be given more than once; its value is the list. @default false */
  readonly multiple?: boolean;
}

/** A flag's value: a string, `true` for a boolean flag, a list for a `multiple` one. */
export type OptionValue = string | boolean | readonly string[] | undefined;

export interface CommandContext {
  readonly client: SluiceApi;
  /** Positional arguments after the command's own words, already checked against `args`. */
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Print the API's JSON instead of the human view. */
  readonly json: boolean;
  readonly stdout: Writer;
  /** For notices to a person while a command runs (`consume`: assignment changes), not errors. */
  readonly stderr: Writer;
  /** Standard input, one line at a time without its line ending; read only by commands that need it. */
  readonly stdinLines: () => AsyncIterable<string>;
  /** When aborted, a command that runs until interrupted (`fetch --follow`, `consume`) ends with exit code 0. */
  readonly signal: AbortSignal | undefined;
}

export interface Command {
  /** The words that select it, e.g. `['topics', 'create']`. */
  readonly path: readonly string[];
  /** Names of the required positional arguments, in order, e.g. `['name']`. */
  readonly args: readonly string[];
  /** Names of optional positional arguments after `args`, e.g. `['body']`. @default - none */
  readonly optionalArgs?: readonly string[];
  /** The last of `args` takes one or more values (e.g. receipt handles). @default false */
  readonly variadic?: boolean;
  readonly summary: string;
  /** More about it, shown in its own help after the summary. @default - none */
  readonly details?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /**
   * It watches `signal` and ends cleanly when it is aborted, so the executable turns Ctrl-C and
   * SIGTERM into that signal instead of ending the process. @default false
   */
  readonly interruptible?: boolean;
  /** Validates its options before it sends any request. */
  run(context: CommandContext): Promise<void>;
}

/** Bad flags or arguments (exit code 2); `helpFor` names the command whose help to point at. */
export class UsageError extends Error {
  readonly helpFor: readonly string[];
  constructor(message: string, helpFor: readonly string[] = []) {
    super(message);
    this.name = 'UsageError';
    this.helpFor = helpFor;
  }
}

/**
 * An integer flag: `undefined` when absent; `aliases` maps words to numbers (`forever` → -1).
 * @throws UsageError when the value is not a safe integer (or not at least `min`, when given).
 */
export function integerOption(
  command: Command,
  options: CommandContext['options'],
  name: string,
  aliases: Readonly<Record<string, number>> = {},
  min?: number,
): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const alias = aliases[text.toLowerCase()];
  if (alias !== undefined) return alias;
  const value = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    const words = Object.keys(aliases).map((a) => ` or "${a}"`).join('');
    throw new UsageError(`--${name} must be an integer${words}, got "${raw}"`, command.path);
  }
  if (min !== undefined && value < min) {
    throw new UsageError(`--${name} must be an integer of at least ${min}, got "${raw}"`, command.path);
  }
  return value;
}
