/**
 * The command line, parsed with commander: one commander command per Sluice command, each with its
 * own flags and arguments, under the global flags. Commander's own error texts and help are not
 * used: its error paths are overridden to throw UsageError with our wording (and a "did you mean"),
 * and help comes from help.ts, built from the same definitions.
 */
import { Command as Commander, CommanderError, Option } from 'commander';
import { UsageError, type Command, type OptionSpec, type OptionValue } from './command';
import { GLOBAL_OPTIONS } from './help';
import { suggest } from './suggest';

export type Selection =
  | { readonly kind: 'version'; readonly values: Readonly<Record<string, OptionValue>> }
  /** `command` or `group` whose help to print; neither: the main help. */
  | { readonly kind: 'help'; readonly command?: Command; readonly group?: string; readonly values: Readonly<Record<string, OptionValue>> }
  | {
      readonly kind: 'run';
      readonly command: Command;
      readonly args: readonly string[];
      /** The command's and the global flags, by long name. */
      readonly values: Readonly<Record<string, OptionValue>>;
    };

/** Thrown through commander to stop parsing once the answer is known (help, version, the command). */
class Selected extends Error {
  constructor(readonly selection: Selection) {
    super('selected');
  }
}

interface ParseState {
  readonly commands: readonly Command[];
  /** Global flag values, known once the root has parsed its options (before any subcommand). */
  globals(): Record<string, OptionValue>;
}

/** A commander command whose error paths throw UsageError (or select help, when it was asked for). */
class SluiceCommander extends Commander {
  state!: ParseState;
  /** The Sluice command this commander command runs; undefined for the root and the groups. */
  sluiceCommand?: Command;

  override createCommand(name: string): SluiceCommander {
    const child = new SluiceCommander(name);
    child.state = this.state;
    return child;
  }

  /** The command words that lead here, e.g. `['topics', 'create']`. */
  words(): string[] {
    const words: string[] = [];
    for (let c: Commander | null = this; c?.parent; c = c.parent) words.unshift(c.name());
    return words;
  }

  /** Help was asked for (-h anywhere): whatever is wrong with the rest, show this level's help. */
  private helpIfAsked(): void {
    const globals = this.state.globals();
    if (globals.help !== true) return;
    const words = this.words();
    throw new Selected({
      kind: 'help',
      values: globals,
      ...(this.sluiceCommand ? { command: this.sluiceCommand } : words.length ? { group: words[0] } : {}),
    });
  }

  private fail(message: string): never {
    this.helpIfAsked();
    throw new UsageError(message, this.words());
  }

  // Commander calls these (as `this.<name>(...)`) on its error paths; see node_modules/commander/lib/command.js.
  override help(): never {
    this.helpIfAsked();
    const words = this.words();
    if (words.length === 0) {
      if (this.state.globals().version === true) throw new Selected({ kind: 'version', values: this.state.globals() });
      throw new UsageError('missing command');
    }
    throw new UsageError(`missing ${words.join(' ')} command`, words);
  }

  unknownCommand(): never {
    const word = this.args[0] ?? '';
    const names = this.commands.map((c) => c.name());
    const words = this.words();
    this.helpIfAsked();
    throw new UsageError(`unknown command "${[...words, word].join(' ')}"${didYouMean(word, names, words)}`, words);
  }

  unknownOption(flag: string): never {
    const here = this.sluiceCommand ? ` for "sluice ${this.words().join(' ')}"` : '';
    const name = flag.split('=')[0]!;
    const known = [...this.options, ...rootOf(this).options];
    const boolean = known.find((o) => o.long === name && !o.required && !o.optional);
    if (boolean && flag.includes('=')) this.fail(`${name} takes no value, got "${flag}"`);
    const candidates = known.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f);
    this.fail(`unknown option "${name}"${here}${didYouMean(name, candidates)}`);
  }

  missingArgument(name: string): never {
    this.fail(`missing <${name}>`);
  }

  optionMissingArgument(option: Option): never {
    this.fail(`${option.long ?? option.short} needs a value (${option.flags})`);
  }

  missingMandatoryOptionValue(option: Option): never {
    this.fail(`missing ${option.long}`);
  }

  _excessArguments(received: readonly string[]): never {
    const expected = this.registeredArguments.length;
    this.fail(`unexpected argument "${received[expected]}"`);
  }
}

function rootOf(command: Commander): Commander {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

function didYouMean(word: string, candidates: readonly string[], prefix: readonly string[] = []): string {
  const match = suggest(word, candidates);
  return match === undefined ? '' : ` (did you mean "${[...prefix, match].join(' ')}"?)`;
}

/** `--name <VALUE>` or `-s, --name` as commander spells it. */
export function toOption(name: string, spec: OptionSpec): Option {
  const value = spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : '';
  const option = new Option(`${spec.short ? `-${spec.short}, ` : ''}--${name}${value}`, spec.description);
  if (spec.multiple) option.argParser((v: string, previous: unknown) => [...((previous as string[] | undefined) ?? []), v]);
  return option;
}

/** The values commander collected, keyed by our long names. */
function valuesOf(command: Commander, specs: Readonly<Record<string, OptionSpec>>): Record<string, OptionValue> {
  const opts = command.opts() as Record<string, OptionValue>;
  const values: Record<string, OptionValue> = {};
  for (const name of Object.keys(specs)) {
    const value = opts[camelCase(name)];
    if (value !== undefined) values[name] = value;
  }
  return values;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Builds the commander tree for `commands`. */
function buildProgram(commands: readonly Command[]): SluiceCommander {
  const program = new SluiceCommander('sluice');
  let rootValues: Record<string, OptionValue> | undefined;
  program.state = {
    commands,
    globals: () => (rootValues ??= valuesOf(program, GLOBAL_OPTIONS)),
  };
  configure(program);
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) program.addOption(toOption(name, spec));
  // The root's own action: only reached with no command words, for --version and --help.
  const groups = new Map<string, SluiceCommander>();
  for (const command of commands) {
    let parent = program;
    for (const word of command.path.slice(0, -1)) {
      let group = groups.get(word);
      if (!group) {
        group = program.command(word) as SluiceCommander;
        configure(group);
        groups.set(word, group);
      }
      parent = group;
    }
    const leaf = parent.command(command.path.at(-1)!) as SluiceCommander;
    configure(leaf);
    leaf.sluiceCommand = command;
    for (const arg of command.args) leaf.argument(`<${arg}${command.variadic && arg === command.args.at(-1) ? '...' : ''}>`);
    for (const arg of command.optionalArgs ?? []) leaf.argument(`[${arg}]`);
    for (const [name, spec] of Object.entries(command.options)) leaf.addOption(toOption(name, spec));
    leaf.action(() => {
      const globals = program.state.globals();
      const values = { ...valuesOf(leaf, command.options), ...globals };
      if (globals.help === true) throw new Selected({ kind: 'help', command, values });
      if (globals.version === true) throw new Selected({ kind: 'version', values });
      const args = (leaf.processedArgs as (string | string[] | undefined)[]).flatMap((a) => (a === undefined ? [] : a));
      throw new Selected({ kind: 'run', command, args, values });
    });
  }
  return program;
}

function configure(command: SluiceCommander): void {
  command
    .helpOption(false)
    .helpCommand(false)
    .exitOverride()
    // Nothing of commander's reaches the user: every error path above throws first.
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
}

/**
 * What the command line asks for.
 * @throws UsageError for anything that does not parse
 */
export function parseCommandLine(argv: readonly string[], commands: readonly Command[]): Selection {
  const program = buildProgram(commands);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof Selected) return err.selection;
    if (err instanceof UsageError) throw err;
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  // No command words and no error: only the root's flags were given.
  const values = program.state.globals();
  if (values.version === true && values.help !== true) return { kind: 'version', values };
  return { kind: 'help', values };
}
