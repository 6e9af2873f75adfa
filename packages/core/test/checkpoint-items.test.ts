// The checkpoint events in the run-view fold (issue 12): each becomes one checkpoint card with
// its sentence built once in the fold (I9); the view stays valid against the contract.
import { describe, expect, it } from 'vitest';
import { RunView, type ItemOfKind } from '../src/contract/index.js';
import { fold } from '../src/replay/index.js';
import { events, step } from './fixtures/replay-kit.js';

const C1 = 'a'.repeat(40);
const C2 = 'b'.repeat(40);
const budget = { timeMs: 60_000, maxBytes: 100 * 1024 * 1024 };
const created = (turn: number, files: Array<{ path: string; status: 'added' | 'modified' | 'deleted' }>) =>
  step('checkpoint.created', {
    turn,
    ref: `refs/keel/checkpoints/run-1/${turn}`,
    commit: turn === 0 ? C1 : C2,
    tree: C1,
    parent: turn === 0 ? null : C1,
    repo: 'git',
    filesChanged: files.length,
    diffstat: { files: files.length, insertions: 3, deletions: 1 },
    files: files.map((file) => ({ ...file, insertions: 1, deletions: 0 })),
    truncated: false,
    hashedBytes: 10,
    durationMs: 12,
  });

describe('checkpoint cards in the transcript', () => {
  const log = events([
    step('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'demo' } }),
    created(0, [{ path: 'README.md', status: 'added' }]),
    step('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }),
    step('turn.ended', { turn: 1, stopReason: 'end_turn' }),
    created(1, [
      { path: 'hello.txt', status: 'added' },
      { path: 'package-lock.json', status: 'modified' },
    ]),
    step('deps.changed', {
      turn: 1,
      fromTurn: 0,
      lockfiles: [
        {
          path: 'package-lock.json',
          kind: 'npm',
          status: 'modified',
          added: [{ name: 'left-pad', versions: ['1.3.0'] }],
          removed: [],
          updated: [{ name: 'zod', from: ['3.0.0'], to: ['4.0.0'] }],
          diffstat: { files: 1, insertions: 5, deletions: 2 },
          parseError: null,
        },
      ],
      totals: { added: 1, removed: 0, updated: 1 },
      diffstat: { files: 1, insertions: 5, deletions: 2 },
    }),
    step('checkpoint.skipped', { turn: 2, reason: 'over_byte_budget', detail: '3 changed files hold 200 MiB', budget, bytes: 200, durationMs: 4 }),
    step('workspace.drift', { sinceTurn: 1, sinceRef: 'refs/keel/checkpoints/run-1/1', sinceCommit: C2, count: 3, files: [{ path: 'a', status: 'modified' }, { path: 'b', status: 'added' }, { path: 'c', status: 'deleted' }], truncated: false }),
    step('checkpoint.restore_requested', { targetTurn: 0, targetRef: 'refs/keel/checkpoints/run-1/0', files: null }),
    step('checkpoint.restore_completed', {
      targetTurn: 0,
      targetCommit: C1,
      safetyRef: 'refs/keel/safety/run-1/1',
      safetyCommit: C2,
      filesTouched: 2,
      files: [
        { path: 'hello.txt', action: 'removed' },
        { path: 'package-lock.json', action: 'restored' },
      ],
      truncated: false,
      resumed: true,
      durationMs: 30,
    }),
    step('checkpoint.restore_failed', { targetTurn: 1, reason: 'verify_failed', detail: 'x differs', rolledBack: true, safetyRef: null, durationMs: 3 }),
  ]);
  const view = fold(log);
  const cards = view.items.filter((item): item is ItemOfKind<'checkpoint'> => item.kind === 'checkpoint');

  it('one card per event, in ledger order, with the sentence every surface shows', () => {
    expect(view.ignored.unknownType + view.ignored.invalidPayload).toBe(0);
    expect(RunView.parse(view)).toEqual(view);
    expect(cards.map((card) => [card.event, card.turn, card.text])).toEqual([
      ['created', 0, 'Baseline checkpoint: the workspace as it was before turn 1.'],
      ['created', 1, 'Checkpoint of turn 1: 2 files changed (+3 −1).'],
      ['deps', 1, 'Turn 1 changed dependencies: 1 added, 1 updated, 0 removed.'],
      ['skipped', 2, 'No checkpoint for turn 2: over byte budget.'],
      ['drift', 1, '3 files changed outside the run since turn 1.'],
      ['restore_requested', 0, 'Restore of the workspace to the baseline requested.'],
      ['restore_completed', 0, 'Restored the baseline: 2 files (finished after Keel restarted). The workspace before it is kept in a safety checkpoint.'],
      ['restore_failed', 1, 'Restore of turn 1 failed (verify failed); nothing changed.'],
    ]);
  });

  it('the baseline lists no files (it is the starting point, not a change); a turn lists its own; deps name the packages', () => {
    expect(cards[0]!.files).toEqual([]);
    expect(cards[1]!.files.map((file) => `${file.status} ${file.path}`)).toEqual(['added hello.txt', 'modified package-lock.json']);
    expect(cards[2]!.detail).toBe('+left-pad@1.3.0 zod 3.0.0→4.0.0');
    expect(cards[3]!.detail).toBe('3 changed files hold 200 MiB');
    expect(cards[4]!.files.map((file) => file.path)).toEqual(['a', 'b', 'c']);
  });

  it('checkpoint cards sit after the turn end they belong to', () => {
    const kinds = view.items.map((item) => item.kind);
    expect(kinds.indexOf('turn_end')).toBeLessThan(kinds.lastIndexOf('checkpoint'));
    expect(view.items.findIndex((item) => item.kind === 'checkpoint' && item.turn === 1)).toBeGreaterThan(kinds.indexOf('turn_end'));
  });
});
