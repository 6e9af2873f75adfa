import type { CheckpointItem, EventBody } from '../contract/index.js';

type CheckpointBody = Extract<
  EventBody,
  {
    type: 'checkpoint.created' | 'checkpoint.skipped' | 'workspace.drift' | 'deps.changed' | 'checkpoint.restore_requested' | 'checkpoint.restore_completed' | 'checkpoint.restore_failed' | 'workspace.worktree';
  }
>;

export const CHECKPOINT_EVENT_TYPES: ReadonlySet<string> = new Set([
  'checkpoint.created',
  'checkpoint.skipped',
  'workspace.drift',
  'deps.changed',
  'checkpoint.restore_requested',
  'checkpoint.restore_completed',
  'checkpoint.restore_failed',
  'workspace.worktree',
]);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const turnName = (turn: number | null) => (turn === null ? 'a checkpoint' : turn === 0 ? 'the baseline' : `turn ${turn}`);

/** The transcript card of a checkpoint event, with its sentence (one formula for every surface, I9). */
export function checkpointItem(body: CheckpointBody, seq: number, ts: string): CheckpointItem {
  const base = { kind: 'checkpoint' as const, seq, ts, files: [], filesTotal: 0, commit: null, detail: null };
  switch (body.type) {
    case 'checkpoint.created': {
      const p = body.payload;
      const stat = p.diffstat.insertions === null ? '' : ` (+${p.diffstat.insertions} −${p.diffstat.deletions})`;
      const text =
        p.turn === 0
          ? 'Baseline checkpoint: the workspace as it was before turn 1.'
          : p.filesChanged === 0
            ? `Checkpoint of turn ${p.turn}: no files changed.`
            : `Checkpoint of turn ${p.turn}: ${plural(p.filesChanged, 'file')} changed${stat}.`;
      return { ...base, event: 'created', turn: p.turn, text, files: p.turn === 0 ? [] : p.files, filesTotal: p.turn === 0 ? 0 : p.filesChanged, commit: p.commit };
    }
    case 'checkpoint.skipped': {
      const p = body.payload;
      return { ...base, event: 'skipped', turn: p.turn, text: `No checkpoint for ${turnName(p.turn)}: ${p.reason.replaceAll('_', ' ')}.`, detail: p.detail };
    }
    case 'workspace.drift': {
      const p = body.payload;
      const files = p.files.map((file) => ({ ...file, insertions: null, deletions: null }));
      return { ...base, event: 'drift', turn: p.sinceTurn, text: `${plural(p.count, 'file')} changed outside the run since ${turnName(p.sinceTurn)}.`, files, filesTotal: p.count, commit: p.sinceCommit };
    }
    case 'deps.changed': {
      const p = body.payload;
      const { added, removed, updated } = p.totals;
      const files = p.lockfiles.map((file) => ({ path: file.path, status: file.status, insertions: file.diffstat.insertions, deletions: file.diffstat.deletions }));
      const names = [...p.lockfiles.flatMap((file) => file.added.map((entry) => `+${entry.name}@${entry.versions.join(',')}`)), ...p.lockfiles.flatMap((file) => file.updated.map((entry) => `${entry.name} ${entry.from.join(',')}→${entry.to.join(',')}`))];
      return {
        ...base,
        event: 'deps',
        turn: p.turn,
        text: `Turn ${p.turn} changed dependencies: ${added} added, ${updated} updated, ${removed} removed.`,
        files,
        filesTotal: files.length,
        detail: names.length > 0 ? names.slice(0, 50).join(' ') + (names.length > 50 ? ' …' : '') : null,
      };
    }
    case 'checkpoint.restore_requested': {
      const p = body.payload;
      const what = p.files ? plural(p.files.length, 'file') : 'the workspace';
      return { ...base, event: 'restore_requested', turn: p.targetTurn, text: `Restore of ${what} to ${turnName(p.targetTurn)} requested.` };
    }
    case 'checkpoint.restore_completed': {
      const p = body.payload;
      const files = p.files.map((file) => ({ path: file.path, status: file.action, insertions: null, deletions: null }));
      const resumed = p.resumed ? ' (finished after Keel restarted)' : '';
      return {
        ...base,
        event: 'restore_completed',
        turn: p.targetTurn,
        text: `Restored ${turnName(p.targetTurn)}: ${plural(p.filesTouched, 'file')}${resumed}. The workspace before it is kept in a safety checkpoint.`,
        files,
        filesTotal: p.filesTouched,
        commit: p.targetCommit,
        detail: p.safetyRef,
      };
    }
    case 'workspace.worktree': {
      const p = body.payload;
      const said = {
        created: `The run works in its own worktree on branch ${p.branch}.`,
        reused: `The run's worktree on ${p.branch} is in place.`,
        recreated: `The run's worktree on ${p.branch} was missing and was recreated.`,
        mismatch: `The run's worktree is not on ${p.branch}: left as it is.`,
      }[p.action];
      return { ...base, event: 'worktree', turn: null, text: said, detail: p.detail ?? p.path, commit: p.baseCommit };
    }
    case 'checkpoint.restore_failed': {
      const p = body.payload;
      const state = p.rolledBack ? 'nothing changed' : 'the workspace could NOT be rolled back';
      return { ...base, event: 'restore_failed', turn: p.targetTurn, text: `Restore of ${turnName(p.targetTurn)} failed (${p.reason.replaceAll('_', ' ')}); ${state}.`, detail: p.detail };
    }
  }
}
