// @vitest-environment jsdom
// The checkpoint cards, the turn diff and the run header's timeline with a confirmed restore
// (issue 12), against the contract client (answers from a stand-in) and core's own fold.
import { KeelRpcError, type ItemOfKind, type LedgerEvent, type RunView } from '@keel/core/contract';
import { fold } from '@keel/core/replay';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointCard } from '../src/components/runs/checkpoints/CheckpointCard.js';
import { CheckpointTimeline, filesAfter, checkpointsOf } from '../src/components/runs/checkpoints/CheckpointTimeline.js';
import { mockClient, renderWithClient } from './helpers.js';

afterEach(cleanup);

const C = 'c'.repeat(40);
let seq = 0;
const event = (type: string, payload: unknown): LedgerEvent =>
  ({ schema_version: 1, run_id: 'run-1', seq: ++seq, ts: new Date(Date.UTC(2026, 11, 1, 9, 0, seq)).toISOString(), type, payload, prev_hash: 'x', hash: 'y' }) as unknown as LedgerEvent;
const created = (turn: number, files: string[]) =>
  event('checkpoint.created', {
    turn,
    ref: `refs/keel/checkpoints/run-1/${turn}`,
    commit: C,
    tree: C,
    parent: turn === 0 ? null : C,
    repo: 'git',
    filesChanged: files.length,
    diffstat: { files: files.length, insertions: files.length, deletions: 0 },
    files: files.map((path) => ({ path, status: 'added', insertions: 1, deletions: 0 })),
    truncated: false,
    hashedBytes: 1,
    durationMs: 5,
  });

function view(turnOpen = false): RunView {
  seq = 0;
  const events = [
    event('run.created', { workspace: '/repo', agent: { kind: 'builtin', script: 'edit-and-test' } }),
    created(0, []),
    event('prompt.sent', { turn: 1, text: 'go', ik: 'ik:1' }),
    event('turn.ended', { turn: 1, stopReason: 'end_turn' }),
    created(1, ['hello.txt']),
    event('prompt.sent', { turn: 2, text: 'more', ik: 'ik:2' }),
    event('turn.ended', { turn: 2, stopReason: 'end_turn' }),
    created(2, ['src/app.ts', 'hello.txt']),
    ...(turnOpen ? [event('prompt.sent', { turn: 3, text: 'again', ik: 'ik:3' })] : []),
  ];
  return fold(events, 'run-1');
}

describe('the checkpoint timeline', () => {
  it('lists the baseline and each turn; a restore is confirmed against the files later turns changed, then invoked', async () => {
    const calls: unknown[] = [];
    const { client } = mockClient({
      'checkpoints.restore': (input) => {
        calls.push(input);
        return { kind: 'completed', targetTurn: 0, targetCommit: C, safetyRef: 'refs/keel/safety/run-1/1', safetyCommit: C, filesTouched: 2, files: [], truncated: false, resumed: false, durationMs: 9 };
      },
    });
    renderWithClient(<CheckpointTimeline view={view()} />, client);
    const dots = screen.getAllByTestId('checkpoint-dot');
    expect(dots.map((dot) => dot.textContent)).toEqual(['B', '1', '2']);
    fireEvent.click(dots[0]!);
    const confirm = screen.getByTestId('checkpoint-restore-confirm');
    expect([...confirm.querySelectorAll('li code')].map((node) => node.textContent)).toEqual(['hello.txt', 'src/app.ts']);
    expect(calls).toEqual([]); // nothing happens before the confirmation
    fireEvent.click(screen.getByTestId('checkpoint-restore'));
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-result').textContent).toBe('Restored baseline: 2 file(s).'));
    expect(calls).toEqual([{ runId: 'run-1', turn: 0 }]);
  });

  it('while a turn runs the restore button is disabled and says why', () => {
    const { client } = mockClient();
    renderWithClient(<CheckpointTimeline view={view(true)} />, client);
    fireEvent.click(screen.getAllByTestId('checkpoint-dot')[1]!);
    const button = screen.getByTestId('checkpoint-restore') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(/A turn is running/);
  });

  it("a refusal from the host is shown in the host's words", async () => {
    const { client } = mockClient({
      'checkpoints.restore': () => {
        throw new KeelRpcError('conflict', 'Turn 3 is running; a restore waits until no turn is active (cancel it or wait).');
      },
    });
    renderWithClient(<CheckpointTimeline view={view()} />, client);
    fireEvent.click(screen.getAllByTestId('checkpoint-dot')[1]!);
    fireEvent.click(screen.getByTestId('checkpoint-restore'));
    await waitFor(() => expect(screen.getByTestId('checkpoint-restore-result').textContent).toMatch(/^Turn 3 is running; a restore waits/));
  });

  it('filesAfter says when the list may be incomplete (a skipped checkpoint after the target)', () => {
    const items = checkpointsOf(view());
    expect(filesAfter(items, 1)).toEqual({ files: ['hello.txt', 'src/app.ts'], complete: true });
    const skipped = { ...items[2]!, event: 'skipped' as const, files: [] };
    expect(filesAfter([items[0]!, items[1]!, skipped], 0).complete).toBe(false);
  });
});

describe('the checkpoint card', () => {
  it("shows the turn's files and loads its diff on demand through checkpoints.diff", async () => {
    const item = checkpointsOf(view()).find((entry) => entry.turn === 1) as ItemOfKind<'checkpoint'>;
    const asked: unknown[] = [];
    const { client } = mockClient({
      'checkpoints.diff': (input) => {
        asked.push(input);
        return {
          turn: 1,
          fromTurn: 0,
          from: C,
          to: C,
          diffstat: { files: 1, insertions: 1, deletions: 0 },
          files: [{ path: 'hello.txt', status: 'added', insertions: 1, deletions: 0, binary: false, patchTruncated: false, patch: 'diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+Hello\n' }],
        };
      },
    });
    renderWithClient(<CheckpointCard item={item} runId="run-1" stateKey="cp-1" />, client);
    expect(screen.getByTestId('checkpoint-card').textContent).toContain('Checkpoint of turn 1: 1 file changed');
    fireEvent.click(screen.getByText(/Checkpoint of turn 1/));
    expect(screen.getByTestId('checkpoint-card').textContent).toContain('hello.txt');
    expect(asked).toEqual([]);
    fireEvent.click(screen.getByText('Show the diff'));
    await waitFor(() => expect(screen.getByTestId('checkpoint-patch').textContent).toBe('@@ -0,0 +1 @@\n+Hello\n'));
    expect(asked).toEqual([{ runId: 'run-1', turn: 1 }]);
  });
});
