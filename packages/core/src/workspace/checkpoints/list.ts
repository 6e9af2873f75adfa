import fs from 'node:fs';
import type { CheckpointRepoInfo } from '../../contract/schemas/checkpoints.js';
import { CHECKPOINT_REFS, listRefs, repoFromInfo, resolveCheckpointRepo, type CheckpointRepo } from './repo.js';
import { readSidecars, type SidecarProblem } from './sidecar.js';

export interface CheckpointListing {
  turn: number;
  /** created: ref (and usually sidecar); skipped: the sidecar says so; ref_only: no trusted sidecar. */
  status: 'created' | 'skipped' | 'ref_only' | 'ref_missing';
  ref: string | null;
  commit: string | null;
  createdAt: string | null;
  filesChanged: number | null;
  insertions: number | null;
  deletions: number | null;
  durationMs: number | null;
  skipReason: string | null;
  /** The sidecar disagrees with the ref (the ref wins: it is what a restore would use). */
  mismatch: boolean;
}

export interface RunCheckpoints {
  runId: string;
  repo: CheckpointRepoInfo | null;
  checkpoints: CheckpointListing[];
  problems: SidecarProblem[];
}

/**
 * A run's checkpoints from its hidden refs and sidecars (the ledger joins at integration: lookup
 * order ledger, sidecar, ref). The repository comes from the workspace when given, else from
 * what the sidecars recorded.
 */
export async function listCheckpoints(options: { dataDir: string; runId: string; workspace?: string | undefined; gitDir?: string | undefined }): Promise<RunCheckpoints> {
  const { sidecars, problems } = readSidecars(options.dataDir, options.runId);
  let repo: CheckpointRepo | null = null;
  if (options.workspace) repo = await resolveCheckpointRepo(options.workspace, { ...options, create: false });
  else {
    const newest = [...sidecars.values()].sort((a, b) => Number(b.status === 'created') - Number(a.status === 'created') || b.turn - a.turn)[0];
    const recorded = newest?.repo;
    if (recorded) repo = repoFromInfo(recorded);
  }
  const refs = repo && fs.existsSync(repo.commonDir) ? await listRefs(repo, `${CHECKPOINT_REFS}${options.runId}/`) : [];
  const turns = new Set<number>([...sidecars.keys(), ...refs.map((ref) => ref.n)]);
  const checkpoints = [...turns]
    .sort((a, b) => a - b)
    .map((turn): CheckpointListing => {
      const ref = refs.find((entry) => entry.n === turn) ?? null;
      const sidecar = sidecars.get(turn) ?? null;
      const created = sidecar?.created ?? null;
      const status = ref ? (created ? 'created' : 'ref_only') : sidecar?.status === 'skipped' ? 'skipped' : 'ref_missing';
      return {
        turn,
        status,
        ref: ref?.ref ?? created?.ref ?? null,
        commit: ref?.commit ?? created?.commit ?? null,
        createdAt: sidecar?.createdAt ?? (ref ? new Date(ref.committedAt).toISOString() : null),
        filesChanged: created?.filesChanged ?? null,
        insertions: created?.diffstat.insertions ?? null,
        deletions: created?.diffstat.deletions ?? null,
        durationMs: created?.durationMs ?? sidecar?.skipped?.durationMs ?? null,
        skipReason: sidecar?.skipped?.reason ?? null,
        mismatch: Boolean(ref && created && created.commit !== ref.commit),
      };
    });
  return { runId: options.runId, repo: repo ? { kind: repo.kind, gitDir: repo.gitDir, workTree: repo.workTree, prefix: repo.prefix } : null, checkpoints, problems };
}
