import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, zshCompletion } from '../../../cli/completion';
import { COMMANDS, run } from '../../../cli/main';

const bash = bashCompletion(COMMANDS);

/** What bash completes for the command line `line` (the cursor at its end). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const script = `${bash}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_sluice; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter(Boolean).sort();
}

describe('sluice completion bash', () => {
  it.each([
    ['sluice to', ['topics']],
    ['sluice topics cr', ['create']],
    ['sluice groups ', ['delete', 'describe', 'list', 'reset-offsets'].filter((w) => COMMANDS.some((c) => c.path.join(' ') === `groups ${w}`))],
    ['sluice produce orders --ke', ['--key', '--key-separator']],
    ['sluice --endpoint http://x topics l', ['list']],
    ['sluice topics create orders --if', ['--if-not-exists']],
    ['sluice groups reset-offsets g --topic t --by', ['--by-duration']],
    ['sluice topics list --partitions', []],
    ['sluice --js', ['--json']],
  ])('%s → %j', (line, expected) => {
    expect(complete(line)).toEqual(expected);
  });

  it('completes every command word and every flag of every command', () => {
    for (const command of COMMANDS) {
      const words = command.path.join(' ');
      expect(complete(`sluice ${words.slice(0, -1)}`), words).toContain(command.path.at(-1));
      for (const [name, spec] of Object.entries(command.options)) {
        expect(complete(`sluice ${words} x --${name}`), `${words} --${name}`).toContain(`--${name}`);
        if (spec.short) expect(complete(`sluice ${words} x -${spec.short}`)).toContain(`-${spec.short}`);
      }
    }
  });
});

describe('sluice completion zsh', () => {
  const zsh = zshCompletion(COMMANDS);

  it('describes the commands and flags for _describe, escaping colons', () => {
    expect(zsh.startsWith('#compdef sluice\n')).toBe(true);
    expect(zsh).toContain(`'create:Create a topic.'`);
    expect(zsh).toMatch(/'--key-separator:Each line is a key, SEP, then the value \(kcat -K\)'/);
    expect(zsh).toContain('compdef _sluice sluice');
    // Every description is one single-quoted word whose colons (but the first) are escaped.
    for (const item of zsh.match(/'--[a-z-]+:[^']*'/g) ?? []) expect(item.slice(1, -1).split(/(?<!\\):/)).toHaveLength(2);
  });

  it('is valid zsh, and registers _sluice for sluice under compinit (.ci/run installs zsh)', () => {
    const syntax = spawnSync('zsh', ['-n'], { input: zsh, encoding: 'utf8' });
    expect(syntax.error).toBeUndefined();
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    // As a user's .zshrc would: compinit, then the script; `eval` takes it from stdin.
    const loaded = spawnSync('zsh', ['-f', '-c', 'autoload -U compinit && compinit -u -D && eval "$(cat)" && print -r -- "${_comps[sluice]}" && whence -w _sluice'], {
      input: zsh,
      encoding: 'utf8',
    });
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout.split('\n')).toEqual(['_sluice', '_sluice: function', '']);
  });

  it('is printed by `sluice completion zsh`; an unknown shell is a usage error', async () => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: { write: (c: string) => (stdout += c) }, stderr: { write: (c: string) => (stderr += c) }, env: {} };
    expect(await run(['completion', 'zsh'], io)).toBe(0);
    expect(stdout).toBe(zsh);
    expect(await run(['completion', 'fish'], io)).toBe(2);
    expect(stderr).toMatch(/^error: <shell> must be "bash" or "zsh", got "fish"/);
  });
});
