// The policy engine's rules, one at a time: exec pattern matching, program trust, layers and
// strictest-wins, defaults per kind, the deps section, unattended, and the actions commands
// normalise to. The acceptance case of issue 11 is here too (and end to end in the CLI suite).
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  argvActions,
  BUILTIN_POLICY,
  combineLayers,
  commandActions,
  evaluate,
  matchExecPattern,
  matchPathGlob,
  parsePolicyText,
  type EffectivePolicy,
} from '../src/policy/index.js';
import type { PolicyDecision } from '../src/contract/index.js';
import { ISSUE_POLICY, makeWorld, policyFrom, type PolicyWorld } from './fixtures/policy-kit.js';

const STRICTNESS_FOR_TESTS: Record<PolicyDecision, number> = { allow: 0, ask: 1, deny: 2 };
let world: PolicyWorld;
let issue: EffectivePolicy;
beforeAll(async () => {
  world = await makeWorld();
  issue = policyFrom(ISSUE_POLICY);
});
afterAll(() => world.cleanup());

const decide = (policy: EffectivePolicy, command: string, extra: Partial<PolicyWorld['context']> = {}) =>
  evaluate(policy, { command }, { ...world.context, ...extra });

describe("issue 11's acceptance", () => {
  it('FOO=1 bash -c \'npm test && git push --force\' is denied by no-force-push, every action judged', () => {
    const result = decide(issue, "FOO=1 bash -c 'npm test && git push --force'");
    expect(result).toMatchObject({ decision: 'deny', rule: 'no-force-push', why: 'History on shared branches is never rewritten.', policyHash: issue.hash });
    expect(result.actions.map((action) => [action.kind, action.decision, action.rule])).toEqual([
      ['exec', 'allow', 'keel.wrappers'],
      ['exec', 'allow', 'tests'],
      ['push', 'deny', 'no-force-push'],
    ]);
    expect(result.actions[1]).toMatchObject({ program: 'npm', args: ['test'], env: ['FOO'], via: ['bash -c'], cwd: world.workspace });
    expect(result.actions[2]).toMatchObject({ kind: 'push', remote: null, branch: null, force: true, program: 'git', args: ['push', '--force'] });
  });
});

describe('exec patterns', () => {
  const view = (program: string, args: string[], dynamic: number[] = [], moreArgs = false) => ({ program, args, dynamic: new Set(dynamic), moreArgs });

  it('words match exactly, a word may hold * globs, a final lone * matches zero or more arguments', () => {
    expect(matchExecPattern('npm test *', view('npm', ['test']), 'sure')).toBe(true);
    expect(matchExecPattern('npm test *', view('npm', ['test', '--', '-x']), 'sure')).toBe(true);
    expect(matchExecPattern('npm test', view('npm', ['test', 'x']), 'sure')).toBe(false);
    expect(matchExecPattern('npm test', view('npm', ['test']), 'sure')).toBe(true);
    expect(matchExecPattern('npm run test:* *', view('npm', ['run', 'test:unit']), 'sure')).toBe(true);
    expect(matchExecPattern('npm run test:* *', view('npm', ['run', 'build']), 'sure')).toBe(false);
    expect(matchExecPattern('python*', view('python3', []), 'sure')).toBe(true);
    expect(matchExecPattern('git status', view('git', ['status*']), 'sure')).toBe(false);
    expect(matchExecPattern('git s*', view('git', ['status']), 'sure')).toBe(true);
  });

  it('allow ("sure") compares the bare name; deny/ask ("could") the basename of a path', () => {
    expect(matchExecPattern('git *', view('/usr/bin/git', ['push']), 'sure')).toBe(false);
    expect(matchExecPattern('git *', view('/usr/bin/git', ['push']), 'could')).toBe(true);
    expect(matchExecPattern('git *', view('./git', []), 'could')).toBe(true);
  });

  it('an argument that is not statically known: never covered by a fixed word for allow, may be anything for deny', () => {
    // `rm $X /` : $X could be -rf
    expect(matchExecPattern('rm -rf *', view('rm', ['$X', '/'], [0]), 'could')).toBe(true);
    expect(matchExecPattern('rm -rf *', view('rm', ['$X', '/'], [0]), 'sure')).toBe(false);
    // `rm $X` could expand to "-r -f /" (several words)
    expect(matchExecPattern('rm -r -f *', view('rm', ['$X'], [0]), 'could')).toBe(true);
    // or to nothing
    expect(matchExecPattern('git status', view('git', ['status', '$X'], [1]), 'could')).toBe(true);
    expect(matchExecPattern('git status', view('git', ['status', '$X'], [1]), 'sure')).toBe(false);
    expect(matchExecPattern('git status *', view('git', ['status', '$X'], [1]), 'sure')).toBe(true);
    // more arguments at run time (xargs): a deny pattern could still be completed
    expect(matchExecPattern('rm -rf *', view('rm', [], [], true), 'could')).toBe(true);
    expect(matchExecPattern('rm', view('rm', [], [], true), 'sure')).toBe(false);
    // a static argument that differs rules the pattern out
    expect(matchExecPattern('rm -rf *', view('rm', ['-i', '$X'], [1]), 'could')).toBe(false);
  });

  it('long argument lists do not blow the stack', () => {
    const args = Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? '$X' : 'a'));
    const dynamic = args.flatMap((arg, i) => (arg === '$X' ? [i] : []));
    expect(matchExecPattern('rm -rf *', view('rm', args, dynamic), 'could')).toBe(true);
  });
});

describe('path globs (gitignore-style, relative to the workspace)', () => {
  const where = { workspace: '/w', home: '/h' };
  it.each([
    ['src/**', '/w/src/a/b.ts', true],
    ['src/**', '/w/lib/src/a.ts', false],
    ['src', '/w/src/a.ts', true],
    ['*.log', '/w/deep/x/app.log', true],
    ['.env', '/w/config/.env', true],
    ['/etc/**', '/etc/passwd', true],
    ['~/.ssh/**', '/h/.ssh/id_rsa', true],
    ['build/', '/w/build/out.js', true],
    ['src/**', '/elsewhere/src/a.ts', false],
    ['**', '/w/anything', true],
    ['**', '/etc/passwd', false],
  ])('%s vs %s -> %s', (glob, target, expected) => {
    expect(matchPathGlob(glob, target, where)).toBe(expected);
  });
});

describe('layers: the strictest decision among all matching rules of all layers wins', () => {
  const layered = (user: string, workspace: string) => {
    const parse = (text: string) => {
      const parsed = parsePolicyText(text);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      return parsed.policy;
    };
    return combineLayers([
      { name: 'builtin', file: null, policy: BUILTIN_POLICY },
      { name: 'user', file: 'user.yaml', policy: parse(user) },
      { name: 'workspace', file: 'ws.yaml', policy: parse(workspace) },
    ]);
  };

  it('a workspace allow cannot lift a user deny; a later ask beats an earlier allow', () => {
    const policy = layered(
      'schema_version: 1\nrules:\n  - { id: no-make, exec: ["make *"], decision: deny, why: "no make" }\n  - { id: ls, exec: ["ls *"], decision: allow }\n',
      'schema_version: 1\nrules:\n  - { id: make, exec: ["make *"], decision: allow }\n  - { id: ls-ask, exec: ["ls -R *"], decision: ask }\n',
    );
    expect(decide(policy, 'make all')).toMatchObject({ decision: 'deny', rule: 'no-make', layer: 'user', why: 'no make' });
    expect(decide(policy, 'ls -R src')).toMatchObject({ decision: 'ask', rule: 'ls-ask', layer: 'workspace' });
    expect(decide(policy, 'ls src')).toMatchObject({ decision: 'allow', rule: 'ls', layer: 'user' });
  });

  it('defaults come from the last layer that sets each key, and say so', () => {
    const policy = layered('schema_version: 1\ndefaults: { exec: deny, network: allow }\n', 'schema_version: 1\ndefaults: { exec: allow }\n');
    expect(decide(policy, 'make')).toMatchObject({ decision: 'allow', rule: null, layer: 'workspace', why: 'no rule: default for exec' });
    expect(evaluate(policy, { network: 'example.com' }, world.context)).toMatchObject({ decision: 'allow', layer: 'user', why: 'no rule: default for network' });
  });
});

describe('the policy files themselves', () => {
  it('an agent writing .keel/ (the policy that judges it), directly or by a redirection, is always asked, even where writes are allowed', () => {
    const allowEverything = policyFrom('schema_version: 1\ndefaults: { exec: allow, write_inside: allow, unattended_ask: allow }\nrules:\n  - id: all-writes\n    write: ["**"]\n    decision: allow\n');
    const ctx = world.context;
    expect(evaluate(allowEverything, { write: '.keel/policy.yaml' }, ctx)).toMatchObject({ decision: 'ask', rule: 'keel.policy-files' });
    expect(evaluate(allowEverything, { write: 'notes.md' }, ctx)).toMatchObject({ decision: 'allow', rule: 'all-writes' });
    expect(decide(allowEverything, 'echo "defaults: {exec: allow}" >> .keel/policy.yaml')).toMatchObject({ decision: 'ask', rule: 'keel.policy-files' });
    expect(decide(allowEverything, "sh -c 'cat x > .keel/policy.yaml'")).toMatchObject({ decision: 'ask', rule: 'keel.policy-files' });
    // Unattended, that ask is the unattended_ask default (deny unless a person set it otherwise).
    expect(decide(issue, 'echo x >> .keel/policy.yaml', { unattended: true })).toMatchObject({ decision: 'deny' });
  });
});

describe('defaults per kind and the inputs other than commands', () => {
  it('write inside / outside the workspace (realpath), read inside / outside, network, push, deps', () => {
    const ctx = world.context;
    expect(evaluate(issue, { write: 'src/a.ts' }, ctx)).toMatchObject({ decision: 'allow', rule: 'sources' });
    expect(evaluate(issue, { write: 'notes.md' }, ctx)).toMatchObject({ decision: 'allow', rule: null, why: 'no rule: default for write_inside' });
    expect(evaluate(issue, { write: '/etc/passwd' }, ctx)).toMatchObject({ decision: 'deny', why: 'no rule: default for write_outside' });
    expect(evaluate(issue, { write: 'link-etc/passwd' }, ctx)).toMatchObject({ decision: 'deny', why: 'no rule: default for write_outside' });
    expect(evaluate(issue, { write: ['src/a.ts', '../x'] }, ctx).decision).toBe('deny');
    expect(evaluate(issue, { read: 'README.md' }, ctx)).toMatchObject({ decision: 'allow', why: 'no rule: default for read_inside' });
    expect(evaluate(issue, { read: '/etc/hosts' }, ctx)).toMatchObject({ decision: 'ask', why: 'no rule: default for read_outside' });
    expect(evaluate(issue, { network: 'https://registry.npmjs.org/zod' }, ctx)).toMatchObject({ decision: 'allow', rule: 'registry' });
    expect(evaluate(issue, { network: 'example.com' }, ctx)).toMatchObject({ decision: 'ask', why: 'no rule: default for network' });
    expect(decide(issue, 'git push origin main')).toMatchObject({ decision: 'ask', why: 'no rule: default for push' });
    expect(decide(issue, 'npm i left-pad')).toMatchObject({ decision: 'ask', why: 'no rule: default for deps' });
    expect(decide(issue, 'npm i zod')).toMatchObject({ decision: 'allow', rule: 'deps:allowlist' });
    const write = evaluate(issue, { write: 'link-etc/passwd' }, ctx).actions[0]!;
    expect(write).toMatchObject({ kind: 'write', paths: [path.join(path.resolve('/etc'), 'passwd')], inside: false });
  });

  it('an argv is judged like the command it is, wrappers and nested shells included', () => {
    expect(evaluate(issue, { argv: ['bash', '-lc', 'npm test && git push -f'] }, world.context)).toMatchObject({ decision: 'deny', rule: 'no-force-push' });
    expect(evaluate(issue, { argv: ['npm', 'test'] }, world.context)).toMatchObject({ decision: 'allow', rule: 'tests' });
    // No shell: a `;` in an argument is just a character.
    expect(argvActions(['echo', 'a; rm -rf /'], { cwd: '/w' })).toEqual([{ kind: 'exec', program: 'echo', args: ['a; rm -rf /'], cwd: '/w' }]);
  });

  it('the deps section: strict denies every change, open allows every change', () => {
    const strict = policyFrom('schema_version: 1\ndeps: { mode: strict }\n');
    const open = policyFrom('schema_version: 1\ndeps: { mode: open }\nrules:\n  - { id: no-evil, deps: ["evil*"], decision: deny }\n');
    expect(decide(strict, 'npm i zod')).toMatchObject({ decision: 'deny', rule: 'deps:strict' });
    expect(decide(open, 'npm i anything')).toMatchObject({ decision: 'allow', rule: 'deps:open' });
    expect(decide(open, 'pip install evil-pkg requests')).toMatchObject({ decision: 'deny', rule: 'no-evil' });
  });
});

describe('unattended and not statically known', () => {
  it('unattended: ask becomes the policy\'s unattended_ask; not statically known always becomes deny', () => {
    expect(decide(issue, 'make', { unattended: true })).toMatchObject({ decision: 'deny', why: 'no rule: default for exec (unattended: ask becomes deny)' });
    const lenient = policyFrom('schema_version: 1\ndefaults: { unattended_ask: allow }\n');
    expect(decide(lenient, 'make', { unattended: true })).toMatchObject({ decision: 'allow', why: 'no rule: default for exec (unattended: ask becomes allow)' });
    expect(decide(lenient, '$X', { unattended: true }).decision).toBe('deny');
    expect(decide(lenient, 'echo "unterminated', { unattended: true }).decision).toBe('deny');
    expect(decide(lenient, 'echo "unterminated')).toMatchObject({ decision: 'ask', why: expect.stringMatching(/does not parse as shell \(line 1, column 6\)/) });
  });

  it('an allow rule never allows what is not statically known', () => {
    const everything = policyFrom('schema_version: 1\ndefaults: { exec: allow, write_outside: allow, network: allow }\nrules:\n  - { id: all, exec: ["*"], decision: allow }\n');
    for (const command of ['$X', '$(echo rm) -rf /', 'g*t status', 'echo x > $F', 'curl $URL', 'bash -c "$CMD"', 'gіt status', 'npm test &&']) {
      expect(decide(everything, command).decision, command).toBe('ask');
    }
    expect(decide(everything, 'make && curl https://x.example').decision).toBe('allow');
  });
});

describe('commands normalise to actions', () => {
  const actions = (command: string) => commandActions(command, { cwd: '/w', home: '/h' });

  it('git push: remote, branch, force', () => {
    expect(actions('git push origin feature/x')[0]).toMatchObject({ kind: 'push', remote: 'origin', branch: 'feature/x', refspecs: ['feature/x'], force: false });
    expect(actions('git push -u origin HEAD:refs/heads/main')[0]).toMatchObject({ remote: 'origin', branch: 'main', force: false });
    expect(actions('git -C ../other push --force-with-lease upstream main')[0]).toMatchObject({ remote: 'upstream', branch: 'main', force: true });
    expect(actions('git push --all origin')[0]).toMatchObject({ remote: 'origin', branch: null, force: false });
  });

  it('deps: manager and package names', () => {
    expect(actions('npm i -D @types/node@20 zod --registry https://r.example')[0]).toMatchObject({ kind: 'deps', manager: 'npm', packages: ['@types/node', 'zod'] });
    expect(actions('pip install "requests[socks]>=2" -r requirements.txt')[0]).toMatchObject({ manager: 'pip', packages: ['requests', '-r requirements.txt'] });
    expect(actions('cargo add serde@1 --features derive')[0]).toMatchObject({ manager: 'cargo', packages: ['serde'] });
    expect(actions('yarn workspace web add left-pad')[0]).toMatchObject({ manager: 'yarn', packages: ['left-pad'] });
    expect(actions('npm install')[0]).toMatchObject({ kind: 'exec' });
  });

  it('network: hosts, and the files a client writes or sends', () => {
    expect(actions('curl -fsSL https://Example.COM:8443/x -o out.txt')).toEqual([
      expect.objectContaining({ kind: 'network', host: 'example.com', port: 8443 }),
      expect.objectContaining({ kind: 'write', target: 'out.txt', paths: ['/w/out.txt'] }),
    ]);
    expect(actions('git clone git@github.com:x/y.git')[0]).toMatchObject({ kind: 'network', host: 'github.com' });
    expect(actions('git fetch origin')[0]).toMatchObject({ kind: 'network', host: null, remote: 'origin' });
    expect(actions('ssh -p 22 deploy@build.example uptime')[0]).toMatchObject({ kind: 'network', host: 'build.example' });
    expect(actions('rsync -a src/ backup.example::mod/')[0]).toMatchObject({ kind: 'network', host: 'backup.example' });
    expect(actions('echo > /dev/tcp/10.0.0.1/80')[1]).toMatchObject({ kind: 'network', host: '10.0.0.1', port: 80 });
  });

  it('redirections: writes and reads resolved against every directory a cd may have moved to', () => {
    expect(actions('cd sub && make > out.log 2>&1 < in.txt')).toEqual([
      expect.objectContaining({ kind: 'exec', program: 'cd' }),
      expect.objectContaining({ kind: 'exec', program: 'make' }),
      expect.objectContaining({ kind: 'write', paths: ['/w/out.log', '/w/sub/out.log'] }),
      expect.objectContaining({ kind: 'read', paths: ['/w/in.txt', '/w/sub/in.txt'] }),
    ]);
    expect(actions('echo > ~/x')[1]).toMatchObject({ kind: 'write', paths: ['/h/x'] });
  });

  it('a group nested in a negated group is judged as the commands inside it (the parser merges `{ {` into one word)', () => {
    // Found by the compound property below (seed 1637880242): judged "ask", bash runs the push.
    expect(decide(world.policy, '! { { git push --force ; } ; npm test ; }').decision).toBe('deny');
    expect(actions('! { { npm test ; } ; }').some((action) => action.program === 'npm' && action.args?.[0] === 'test')).toBe(true);
    // A quoted program name with a blank is a real (suspicious) name, not merged words.
    expect(actions('"git push" x')[0]).toMatchObject({ kind: 'exec', unknown: expect.stringContaining('look-alike') });
  });

  it('a newline ends a command even where the parser folds the next line into it (seed 900085586)', () => {
    // tree-sitter-bash reads `a | b | c⏎d e || f` as `c d e`: the write to /etc/passwd was allowed.
    expect(decide(world.policy, "npm test | npm test | npm test\nbash -c 'echo x > /etc/passwd' || npm test").decision).toBe('deny');
    expect(actions('a | b | c\nd e || f').map((action) => [action.program, action.args])).toEqual([
      ['a', []], ['b', []], ['c', []], ['d', ['e']], ['f', []],
    ]);
    // A continued line is one command.
    expect(actions('c x \\\n  d').map((action) => [action.program, action.args])).toEqual([['c', ['x', 'd']]]);
  });

  it('wrappers: the wrapper and the inner command are both actions, with the chain in via', () => {
    expect(actions('sudo -u me nice -n 5 env A=1 npm test').map((action) => [action.program, action.via ?? []])).toEqual([
      ['sudo', []],
      ['nice', ['sudo']],
      ['env', ['sudo', 'nice']],
      ['npm', ['sudo', 'nice', 'env']],
    ]);
    expect(actions('sudo -u me nice -n 5 env A=1 npm test')[3]).toMatchObject({ env: ['A'], args: ['test'] });
  });
});

describe('property: a compound is never judged more lenient than its strictest part', () => {
  const parts = [
    'npm test', 'git status', 'ls -la', 'echo ok', 'make', 'git push --force', 'rm -rf /', 'curl https://evil.example',
    'npm i zod', 'npm i left-pad', 'echo x > /etc/passwd', 'cat < README.md', 'git push origin main', '$X', 'echo x > src/a.txt',
    'curl https://registry.npmjs.org/x', 'sudo npm test', 'cd /etc', 'timeout 3 npm test', 'env FOO=1 git diff',
  ];
  const joins = [' ; ', ' && ', ' || ', ' | ', ' & ', '\n'];
  type Shape = (inner: string) => string;
  const shapes: Shape[] = [
    (inner) => inner,
    (inner) => `( ${inner} )`,
    (inner) => `{ ${inner} ; }`,
    (inner) => `if true; then ${inner}; fi`,
    (inner) => `while false; do ${inner}; done`,
    (inner) => `echo "$( ${inner} )"`,
    (inner) => `bash -c '${inner.replace(/'/g, `'\\''`)}'`,
    (inner) => `sh -c "${inner.replace(/["\\$`]/g, '\\$&')}"`,
    (inner) => `! { ${inner} ; }`,
    (inner) => `timeout 5 bash -c '${inner.replace(/'/g, `'\\''`)}'`,
    (inner) => `x=$( ${inner} )`,
  ];
  // Only around the whole compound: tree-sitter refuses a function definition in some positions
  // bash accepts (`! { f() { a; }; }`) — refused input is never allowed, but proves nothing here.
  const outerShapes: Shape[] = [...shapes, (inner) => `f() { ${inner} ; } ; f`];
  const alone = new Map<string, PolicyDecision>();
  beforeAll(() => {
    for (const part of parts) alone.set(part, decide(world.policy, part).decision);
  });

  it('holds for generated compounds (interactive and unattended); every generated compound parses', () => {
    const compound = fc.array(fc.record({ part: fc.constantFrom(...parts), join: fc.constantFrom(...joins), shape: fc.nat(shapes.length - 1) }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(compound, fc.nat(outerShapes.length - 1), fc.boolean(), (pieces, outer, unattended) => {
        const command = outerShapes[outer]!(pieces.map((piece, index) => `${shapes[piece.shape]!(piece.part)}${index < pieces.length - 1 ? piece.join : ''}`).join(''));
        const strictest = Math.max(...pieces.map((piece) => STRICTNESS_FOR_TESTS[unattended ? (alone.get(piece.part) === 'allow' ? 'allow' : 'deny') : alone.get(piece.part)!]));
        const result = decide(world.policy, command, { unattended });
        if (result.actions.some((action) => action.kind === 'exec' && action.unparseable)) throw new Error(`generated a command that does not parse: ${command}`);
        return STRICTNESS_FOR_TESTS[result.decision] >= strictest;
      }),
      { numRuns: 300 },
    );
  });
});
