// One shell-word splitter (contract/command-line.ts) for the CLI, the new-run dialog and the
// Codex command unwrapping; `literal` refuses what a shell would expand or treat as an operator.
import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../src/contract/index.js';

describe('splitCommandLine', () => {
  it.each([
    [`a "b \\$c \\" \\\\ \\\`" d`, ['a', 'b $c " \\ `', 'd']],
    [`'it''s' x\\ y`, ['its', 'x y']],
    [`"" ''`, ['', '']],
  ])('splits %s as a POSIX shell would', (line, words) => expect(splitCommandLine(line)).toEqual(words));

  it.each([['echo $HOME'], ['a; b'], ['a && b'], ['"$(id)"'], ['`id`'], ['a > f'], ['(a)'], ['x\\']])('literal refuses %s', (line) => {
    expect(() => splitCommandLine(line, { literal: true })).toThrow(/would not take literally/);
  });

  it('literal keeps what is quoted or escaped: the words are exactly what would run', () => {
    expect(splitCommandLine(`npm test -- 'a;b' "c|d" \\$e`, { literal: true })).toEqual(['npm', 'test', '--', 'a;b', 'c|d', '$e']);
  });
});
