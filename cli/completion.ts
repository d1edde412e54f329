/**
 * `sluice completion bash|zsh`: shell completion scripts generated from the command definitions,
 * so they cannot drift from them. They complete command words and flags (with their descriptions
 * in zsh); values are left to the shell's default (files).
 */
import type { Command, OptionSpec } from './command';
import { GLOBAL_OPTIONS } from './help';

interface Tables {
  /** Top-level words: the groups and the commands without a group. */
  readonly top: string[];
  /** Each group's command words. */
  readonly groups: Map<string, string[]>;
  /** Flags by command path ("topics create"), each `--name` (and `-s`). */
  readonly flags: Map<string, { readonly flag: string; readonly description: string }[]>;
  /** Flags that take a value: the word after one is not a command word. */
  readonly valueFlags: Set<string>;
}

function tables(commands: readonly Command[]): Tables {
  const top: string[] = [];
  const groups = new Map<string, string[]>();
  const flags = new Map<string, { flag: string; description: string }[]>();
  const valueFlags = new Set<string>();
  const flagsOf = (options: Readonly<Record<string, OptionSpec>>) =>
    Object.entries(options).flatMap(([name, spec]) => {
      const names = [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])];
      if (spec.type === 'string') for (const n of names) valueFlags.add(n);
      return names.map((flag) => ({ flag, description: spec.description }));
    });
  const globals = flagsOf(GLOBAL_OPTIONS);
  for (const command of commands) {
    const [first, second] = command.path;
    if (!top.includes(first!)) top.push(first!);
    if (second !== undefined) groups.set(first!, [...(groups.get(first!) ?? []), second]);
    flags.set(command.path.join(' '), [...flagsOf(command.options), ...globals]);
  }
  flags.set('', globals);
  return { top, groups, flags, valueFlags };
}

export function bashCompletion(commands: readonly Command[]): string {
  const { top, groups, flags, valueFlags } = tables(commands);
  const flagCases = [...flags]
    .map(([path, list]) => `    '${path}') flags='${list.map((f) => f.flag).join(' ')}' ;;`)
    .join('\n');
  const groupCases = [...groups].map(([group, words]) => `    ${group}) subs='${words.join(' ')}' ;;`).join('\n');
  return `# sluice completion for bash. Load it with:  source <(sluice completion bash)
# or save it:  sluice completion bash > ~/.local/share/bash-completion/completions/sluice
_sluice() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" value_flags=' ${[...valueFlags].join(' ')} '
  local -a typed=()
  local i w skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -* ]]; then
      [[ $w != *=* && $value_flags == *" $w "* ]] && skip=1
      continue
    fi
    typed+=("$w")
  done
  ((skip)) && return 0 # completing a flag's value: the shell's default
  local subs='' cmdpath=''
  case "\${typed[0]}" in
${groupCases}
  esac
  if ((\${#typed[@]} == 0)); then
    cmdpath=''
    [[ $cur != -* ]] && { COMPREPLY=($(compgen -W '${top.join(' ')}' -- "$cur")); return 0; }
  elif [[ -n $subs ]]; then
    if ((\${#typed[@]} == 1)); then
      [[ $cur != -* ]] && { COMPREPLY=($(compgen -W "$subs" -- "$cur")); return 0; }
      cmdpath="\${typed[0]}"
    else
      cmdpath="\${typed[0]} \${typed[1]}"
    fi
  else
    cmdpath="\${typed[0]}"
  fi
  local flags=''
  case "$cmdpath" in
${flagCases}
  esac
  [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  return 0
}
complete -o default -F _sluice sluice
`;
}

/** For a zsh `_describe` spec: `:` and `\\` escaped, in single quotes. */
function zshItem(word: string, description: string): string {
  const text = `${word.replace(/[:\\]/g, '\\$&')}:${description.replace(/[\\:]/g, '\\$&')}`;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function zshCompletion(commands: readonly Command[]): string {
  const { groups, flags, valueFlags } = tables(commands);
  const summaryOf = (words: readonly string[]) => commands.find((c) => c.path.join(' ') === words.join(' '))?.summary ?? '';
  const topItems = [...new Set(commands.map((c) => c.path[0]!))].map((word) =>
    zshItem(word, groups.has(word) ? `${word} commands` : summaryOf([word])),
  );
  const groupCases = [...groups]
    .map(([group, words]) => `    ${group}) subs=(${words.map((w) => zshItem(w, summaryOf([group, w]))).join(' ')}) ;;`)
    .join('\n');
  const flagCases = [...flags]
    .map(([path, list]) => `    '${path}') flags=(${list.map((f) => zshItem(f.flag, f.description)).join(' ')}) ;;`)
    .join('\n');
  return `#compdef sluice
# sluice completion for zsh. Load it with:  source <(sluice completion zsh)
# or save it as _sluice in a directory of your $fpath.
_sluice() {
  local -a typed subs flags
  local value_flags=' ${[...valueFlags].join(' ')} ' i w skip=0 cur="\${words[CURRENT]}"
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -* ]]; then
      [[ $w != *=* && $value_flags == *" $w "* ]] && skip=1
      continue
    fi
    typed+=("$w")
  done
  if ((skip)); then _files; return; fi
  case "\${typed[1]}" in
${groupCases}
  esac
  local cmdpath=''
  if ((\${#typed} == 0)); then
    if [[ $cur != -* ]]; then
      local -a top=(${topItems.join(' ')})
      _describe 'command' top
      return
    fi
  elif ((\${#subs} > 0)); then
    if ((\${#typed} == 1)); then
      if [[ $cur != -* ]]; then _describe 'command' subs; return; fi
      cmdpath="\${typed[1]}"
    else
      cmdpath="\${typed[1]} \${typed[2]}"
    fi
  else
    cmdpath="\${typed[1]}"
  fi
  case "$cmdpath" in
${flagCases}
  esac
  if [[ $cur == -* ]]; then _describe 'option' flags; else _files; fi
}
if [[ $funcstack[1] == _sluice ]]; then _sluice "$@"; else compdef _sluice sluice; fi
`;
}
