/** Help texts, built from the command and option definitions so they cannot drift from them. */
import { DEFAULT_ENDPOINT } from '../client/options';
import type { Command, OptionSpec } from './command';

export const GLOBAL_OPTIONS = {
  endpoint: {
    type: 'string',
    valueName: 'URL',
    description: `Sluice API endpoint (default: $SLUICE_ENDPOINT, else ${DEFAULT_ENDPOINT}, the local platform)`,
  },
  json: { type: 'boolean', description: "Print the API's JSON instead of tables (errors: the error body, on stderr)" },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
  version: { type: 'boolean', description: 'Print the version' },
} as const satisfies Record<string, OptionSpec>;

/** Documented in `--help`; scripts may rely on them. */
export const EXIT_CODES = {
  ok: 0,
  /** The API answered with an error (or the request failed for another reason). */
  apiError: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** The endpoint could not be reached. */
  connection: 3,
} as const;

const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the request failed: an API error ("error: <Code>: <message>" on stderr) or no credentials to sign with
  2  usage error: bad command, flags or arguments
  3  cannot reach the endpoint
`;

export function synopsis(command: Command): string {
  const args = argsText(command);
  const options = Object.entries(command.options)
    .map(([name, spec]) => {
      const flag = `--${name}${spec.valueName ? ` ${spec.valueName}` : ''}`;
      return spec.required ? ` ${flag}` : ` [${flag}]`;
    })
    .join('');
  return `sluice ${command.path.join(' ')}${args}${options}`;
}

export function mainHelp(commands: readonly Command[]): string {
  return [
    'Usage: sluice [--endpoint URL] [--json] <command> [arguments]',
    '',
    'Administer Sluice topics; produce, fetch and consume events; manage consumer groups, ACLs and subscriptions; send and resolve queue messages; watch stream processors; serve the web console.',
    '',
    'Commands:',
    ...twoColumns(commands.map((c) => [`${c.path.join(' ')}${argsText(c)}`, c.summary])),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    EXIT_CODES_HELP,
    "Run 'sluice <command> --help' for a command's options.",
    '',
  ].join('\n');
}

export function groupHelp(group: string, commands: readonly Command[]): string {
  return [
    `Usage: sluice ${group} <command> [arguments]`,
    '',
    'Commands:',
    ...twoColumns(commands.map((c) => [synopsis(c).replace(/^sluice /, ''), c.summary])),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const own = Object.keys(command.options).length > 0 ? ['Options:', ...optionLines(command.options), ''] : [];
  return [
    `Usage: ${synopsis(command)}`,
    '',
    command.summary,
    '',
    ...(command.details ? [command.details, ''] : []),
    ...own,
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

/** ` <name>` per argument, ` [<name>]` per optional one, `...` after a variadic last one. */
function argsText(command: Command): string {
  const required = command.args.map((a) => ` <${a}>`).join('');
  const optional = (command.optionalArgs ?? []).map((a) => ` [<${a}>]`).join('');
  return `${required}${command.variadic ? '...' : ''}${optional}`;
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return twoColumns(
    Object.entries(options).map(([name, spec]) => [
      `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.valueName ? ` ${spec.valueName}` : ''}`,
      spec.description,
    ]),
  );
}

function twoColumns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
