import { describe, expect, it } from 'vitest';
import { COMMANDS, run } from '../../../cli/main';
import { suggest } from '../../../cli/suggest';

async function sluice(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (c: string) => (stdout += c) },
    stderr: { write: (c: string) => (stderr += c) },
    env: {},
    createClient: () => {
      throw new Error('no request expected');
    },
  });
  return { code, stdout, stderr };
}

const groups = [...new Set(COMMANDS.filter((c) => c.path.length > 1).map((c) => c.path[0]!))];
const helpCommands: string[][] = [['--help'], ...groups.map((g) => [g, '--help']), ...COMMANDS.map((c) => [...c.path, '--help'])];

describe('help texts', () => {
  it.each(helpCommands)('%s fits 80 columns', async (...argv) => {
    const { code, stdout } = await sluice(argv);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sluice/);
    const long = stdout.split('\n').filter((line) => line.length > 80);
    expect(long).toEqual([]);
  });

  it('covers every command (the list above is not empty)', () => {
    expect(helpCommands.length).toBeGreaterThan(40);
  });

  it('fits usage errors of every command in 80 columns', async () => {
    for (const command of COMMANDS) {
      const { code, stderr } = await sluice([...command.path, '--no-such-flag']);
      expect(code).toBe(2);
      expect(stderr.split('\n').filter((line) => line.length > 80)).toEqual([]);
    }
  });
});

describe('per-command flags', () => {
  it("refuses another command's flag", async () => {
    const { code, stderr } = await sluice(['topics', 'describe', 'orders', '--follow']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: unknown option "--follow" for "sluice topics describe"\n/);
  });

  it('shows no raw parser text', async () => {
    for (const argv of [['fetch'], ['fetch', 'orders', '--limit'], ['groups', 'describe', 'g', '-x'], ['consume', '--group']]) {
      const { code, stderr } = await sluice(argv);
      expect(code).toBe(2);
      expect(stderr).not.toMatch(/Option '|argument missing|ambiguous|commander/i);
      expect(stderr).toMatch(/^error: [a-z-]/);
    }
  });
});

describe('Function: suggest', () => {
  it.each([
    ['tpoics', ['topics', 'groups'], 'topics'],
    ['--partiton', ['--partition', '--from'], '--partition'],
    ['--parti', ['--partition', '--from'], '--partition'],
    ['--xyz', ['--partition', '--from'], undefined],
    ['qeues', ['queues', 'acls'], 'queues'],
  ])('%s among %j → %s', (word, candidates, expected) => {
    expect(suggest(word, candidates)).toBe(expected);
  });
});
