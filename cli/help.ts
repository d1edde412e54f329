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

/** Help is laid out for a terminal of this width. */
export const HELP_WIDTH = 80;

const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the request failed: an API error ("error: <Code>: <message>" on stderr),
     or no credentials to sign with
  2  usage error: bad command, flags or arguments
  3  cannot reach the endpoint
`;

/** `sluice <words> <args> <required flags> [options]`: one line, for usage errors. */
export function synopsis(command: Command): string {
  const required = Object.entries(command.options)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => ` --${name}${spec.valueName ? ` ${spec.valueName}` : ''}`)
    .join('');
  const optional = Object.values(command.options).some((spec) => !spec.required) ? ' [options]' : '';
  return `sluice ${command.path.join(' ')}${argsText(command)}${required}${optional}`;
}

export function mainHelp(commands: readonly Command[]): string {
  return [
    'Usage: sluice [--endpoint URL] [--json] <command> [arguments]',
    '',
    ...wrap(
      'Administer Sluice topics; produce, fetch and consume events; manage consumer groups, ACLs and ' +
        'subscriptions; send and resolve queue messages; watch stream processors; serve the web console.',
    ),
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
    ...twoColumns(commands.map((c) => [`${c.path.slice(1).join(' ')}${argsText(c)}`, c.summary])),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `Run 'sluice ${group} <command> --help' for a command's options.`,
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const own = Object.keys(command.options).length > 0 ? ['Options:', ...optionLines(command.options), ''] : [];
  return [
    ...wrap(`Usage: ${synopsis(command)}`, HELP_WIDTH, '         '),
    '',
    ...wrap(command.summary),
    '',
    ...(command.details ? [...reflow(command.details), ''] : []),
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
      `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.valueName ? ` ${spec.valueName}` : ''}`,
      spec.description,
    ]),
  );
}

/** Widest left column before its text moves to a line of its own. */
const MAX_LEFT = 26;

/** `  left  right`, the right column wrapped; a left cell wider than MAX_LEFT gets its own line. */
function twoColumns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(MAX_LEFT, Math.max(0, ...rows.map(([left]) => left.length)));
  const indent = ' '.repeat(2 + width + 2);
  return rows.flatMap(([left, right]) => {
    const lines = wrap(right, HELP_WIDTH - indent.length);
    if (left.length > width) return [`  ${left}`, ...lines.map((l) => indent + l)];
    return [`  ${left.padEnd(width)}  ${lines[0] ?? ''}`, ...lines.slice(1).map((l) => indent + l)];
  });
}

/**
 * Details text rewrapped: its lines are one paragraph, except that a blank line ends one and a line
 * starting with "-" or a space (a list item, an example) starts a new one.
 */
function reflow(text: string): string[] {
  const paragraphs: string[] = [];
  for (const line of text.split('\n')) {
    const last = paragraphs.length - 1;
    if (line === '' || last < 0 || paragraphs[last] === '' || /^[- ]/.test(line)) paragraphs.push(line);
    else paragraphs[last] += ` ${line}`;
  }
  return paragraphs.flatMap((p) => (p === '' ? [''] : wrap(p, HELP_WIDTH, /^ *- /.test(p) ? ' '.repeat(/^ */.exec(p)![0].length + 2) : undefined)));
}

/**
 * `text` broken at spaces into lines of at most `width` characters (a single longer word stays
 * whole); continuation lines start with `hang` (default: the text's own leading spaces).
 */
export function wrap(text: string, width = HELP_WIDTH, hang?: string): string[] {
  const lead = /^ */.exec(text)![0];
  const next = hang ?? lead;
  const words = text.slice(lead.length).split(/ +/);
  const lines: string[] = [];
  let line = lead;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = next + word;
    } else {
      line += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}
