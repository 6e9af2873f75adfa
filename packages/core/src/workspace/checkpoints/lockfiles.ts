import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DepsChangedPayload, LockfileChange, LockfileKind } from '../../contract/schemas/checkpoints.js';
import { CHECKPOINT_REFS, listRefs, repoGit, resolveCheckpointRepo, type CheckpointRepo } from './repo.js';
import { diffstatOf, diffTrees } from './tree-diff.js';
import { turnBase, type CheckpointScope } from './diff.js';

/**
 * Lockfile forensics: the packages a change to a lockfile added, removed or moved to another
 * version. Every lockfile in the workspace counts (monorepos have several). Parsed: npm
 * `package-lock.json` (v1, v2, v3), `pnpm-lock.yaml` (v5, v6, v9), `yarn.lock` (v1 and berry),
 * `Cargo.lock`, `poetry.lock`. A side that does not parse is reported in `parseError` and the
 * change is described by its diffstat only.
 */

/** Package name -> the versions the lockfile pins it at (several when nested copies differ). */
export type PackageVersions = Map<string, Set<string>>;

const LOCKFILES: Record<string, LockfileKind> = {
  'package-lock.json': 'npm',
  'npm-shrinkwrap.json': 'npm',
  'pnpm-lock.yaml': 'pnpm',
  'yarn.lock': 'yarn',
  'Cargo.lock': 'cargo',
  'poetry.lock': 'poetry',
};

export function lockfileKindOf(file: string): LockfileKind | null {
  return LOCKFILES[path.posix.basename(file)] ?? null;
}

function add(map: PackageVersions, name: string, version: string): void {
  if (!name) return;
  let versions = map.get(name);
  if (!versions) map.set(name, (versions = new Set()));
  versions.add(version);
}

export function parseNpmLock(text: string): PackageVersions {
  const json = JSON.parse(text) as { packages?: Record<string, { name?: string; version?: string; link?: boolean }>; dependencies?: Record<string, NpmV1Dep> };
  const map: PackageVersions = new Map();
  if (json.packages && typeof json.packages === 'object') {
    for (const [key, entry] of Object.entries(json.packages)) {
      const at = key.lastIndexOf('node_modules/');
      if (key === '' || at === -1 || !entry || entry.link) continue; // the root, workspace folders, links
      add(map, entry.name ?? key.slice(at + 'node_modules/'.length), entry.version ?? '?');
    }
    return map;
  }
  const walk = (deps: Record<string, NpmV1Dep> | undefined) => {
    for (const [name, dep] of Object.entries(deps ?? {})) {
      add(map, name, dep.version ?? '?');
      walk(dep.dependencies);
    }
  };
  walk(json.dependencies);
  return map;
}
interface NpmV1Dep {
  version?: string;
  dependencies?: Record<string, NpmV1Dep>;
}

/** `name@version`, `@scope/name@version`, with an optional leading `/` and `(peer)` suffixes. */
function splitAt(spec: string): [string, string] | null {
  const at = spec.indexOf('@', 1);
  return at === -1 ? null : [spec.slice(0, at), spec.slice(at + 1)];
}

export function parsePnpmLock(text: string): PackageVersions {
  const doc = parseYaml(text) as { lockfileVersion?: string | number; packages?: Record<string, { name?: string; version?: string }> };
  const major = Number.parseFloat(String(doc?.lockfileVersion ?? '9'));
  const map: PackageVersions = new Map();
  for (const [rawKey, entry] of Object.entries(doc?.packages ?? {})) {
    if (entry?.name && entry.version) {
      add(map, entry.name, entry.version);
      continue;
    }
    const key = rawKey.replace(/^\//, '').replace(/\(.*$/, '');
    if (major < 6) {
      // v5: /name/1.2.3 or /@scope/name/1.2.3_peer@1.0.0
      const slash = key.lastIndexOf('/');
      if (slash > 0) add(map, key.slice(0, slash), key.slice(slash + 1).replace(/_.*$/, ''));
      continue;
    }
    const parts = splitAt(key);
    if (parts) add(map, parts[0], parts[1]);
  }
  return map;
}

export function parseYarnLock(text: string): { kind: 'yarn' | 'yarn-berry'; packages: PackageVersions } {
  if (/^__metadata:/m.test(text)) {
    const doc = parseYaml(text) as Record<string, { version?: string; resolution?: string }>;
    const map: PackageVersions = new Map();
    for (const [key, entry] of Object.entries(doc ?? {})) {
      if (key === '__metadata' || !entry || typeof entry !== 'object') continue;
      if (entry.resolution?.includes('@workspace:')) continue;
      const first = key.split(',')[0]!.trim().replace(/^"|"$/g, '');
      const parts = splitAt(first);
      if (parts && entry.version !== undefined) add(map, parts[0], String(entry.version));
    }
    return { kind: 'yarn-berry', packages: map };
  }
  const map: PackageVersions = new Map();
  let names: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (!line.startsWith(' ') && line.endsWith(':')) {
      names = line
        .slice(0, -1)
        .split(/,\s*/)
        .map((spec) => spec.trim().replace(/^"|"$/g, ''))
        .map((spec) => splitAt(spec)?.[0] ?? spec);
      continue;
    }
    const version = /^ {2}version:? "?([^"\s]+)"?\s*$/.exec(line);
    if (version && names.length > 0) {
      for (const name of new Set(names)) add(map, name, version[1]!);
      names = [];
    }
  }
  return { kind: 'yarn', packages: map };
}

/** Cargo.lock and poetry.lock: TOML `[[package]]` tables with `name` and `version`. */
export function parsePackageTables(text: string): PackageVersions {
  const map: PackageVersions = new Map();
  let name: string | null = null;
  let version: string | null = null;
  let inPackage = false;
  const flush = () => {
    if (inPackage && name) add(map, name, version ?? '?');
    name = null;
    version = null;
  };
  for (const line of text.split(/\r?\n/)) {
    const table = /^\s*\[\[?([^\]]+)\]\]?\s*$/.exec(line);
    if (table) {
      flush();
      inPackage = line.trim() === '[[package]]';
      continue;
    }
    if (!inPackage) continue;
    const field = /^\s*(name|version)\s*=\s*"([^"]*)"/.exec(line);
    if (field?.[1] === 'name') name = field[2]!;
    else if (field?.[1] === 'version') version = field[2]!;
  }
  flush();
  return map;
}

export function parseLockfile(file: string, text: string): { kind: LockfileKind; packages: PackageVersions } {
  const kind = lockfileKindOf(file);
  switch (kind) {
    case 'npm':
      return { kind, packages: parseNpmLock(text) };
    case 'pnpm':
      return { kind, packages: parsePnpmLock(text) };
    case 'yarn':
    case 'yarn-berry':
      return parseYarnLock(text);
    case 'cargo':
    case 'poetry':
      return { kind, packages: parsePackageTables(text) };
    default:
      throw new Error(`${file} is not a known lockfile`);
  }
}

const sorted = (versions: Set<string> | undefined) => [...(versions ?? [])].sort();
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Packages added, removed and updated between two parsed lockfiles. */
export function comparePackages(before: PackageVersions, after: PackageVersions): Pick<LockfileChange, 'added' | 'removed' | 'updated'> {
  const added: LockfileChange['added'] = [];
  const removed: LockfileChange['removed'] = [];
  const updated: LockfileChange['updated'] = [];
  for (const [name, versions] of after) {
    const old = before.get(name);
    if (!old) added.push({ name, versions: sorted(versions) });
    else if (sorted(old).join('\0') !== sorted(versions).join('\0')) updated.push({ name, from: sorted(old), to: sorted(versions) });
  }
  for (const [name, versions] of before) if (!after.has(name)) removed.push({ name, versions: sorted(versions) });
  return { added: added.sort(byName), removed: removed.sort(byName), updated: updated.sort(byName) };
}

async function readBlob(repo: CheckpointRepo, rev: string, file: string): Promise<string> {
  return repoGit(repo, { args: ['cat-file', 'blob', `${rev}:${file}`] });
}

export interface LockfileForensics {
  lockfiles: LockfileChange[];
  totals: DepsChangedPayload['totals'];
  diffstat: DepsChangedPayload['diffstat'];
}

/** Lockfile changes between two checkpoints (`from` null: against nothing). */
export async function lockfileChanges(repo: CheckpointRepo, from: string | null, to: string): Promise<LockfileForensics> {
  const changes = (await diffTrees(repo, from, to, { numstat: true })).filter((change) => lockfileKindOf(change.path) !== null);
  const lockfiles: LockfileChange[] = [];
  for (const change of changes) {
    const status = change.status === 'type_changed' ? 'modified' : change.status;
    let parseError: string | null = null;
    let kind = lockfileKindOf(change.path)!;
    const side = async (rev: string | null, present: boolean): Promise<PackageVersions> => {
      if (!rev || !present) return new Map();
      try {
        const parsed = parseLockfile(change.path, await readBlob(repo, rev, change.path));
        kind = parsed.kind;
        return parsed.packages;
      } catch (error) {
        parseError ??= `${change.path} at ${rev.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);
        return new Map();
      }
    };
    const before = await side(from, status !== 'added');
    const after = await side(to, status !== 'deleted');
    const compared = parseError === null ? comparePackages(before, after) : { added: [], removed: [], updated: [] };
    lockfiles.push({ path: change.path, kind, status, ...compared, diffstat: diffstatOf([change], true), parseError });
  }
  return {
    lockfiles,
    totals: {
      added: lockfiles.reduce((sum, file) => sum + file.added.length, 0),
      removed: lockfiles.reduce((sum, file) => sum + file.removed.length, 0),
      updated: lockfiles.reduce((sum, file) => sum + file.updated.length, 0),
    },
    diffstat: diffstatOf(changes, true),
  };
}

/**
 * The `deps.changed` payload of a turn (its checkpoint against the run's previous one), or null
 * when the turn changed no lockfile.
 */
export async function depsChangedInTurn(workspace: string, scope: CheckpointScope & { turn: number }): Promise<DepsChangedPayload | null> {
  const repo = await resolveCheckpointRepo(workspace, { ...scope, create: false });
  const refs = await listRefs(repo, `${CHECKPOINT_REFS}${scope.runId}/`);
  const entry = refs.find((ref) => ref.n === scope.turn);
  if (!entry) throw new Error(`Run ${scope.runId} has no checkpoint for turn ${scope.turn}.`);
  // From what the turn is measured from: after a restore, the restored tree (a diff boundary).
  const base = await turnBase(repo, refs, entry);
  const forensics = await lockfileChanges(repo, base.commit, entry.commit);
  if (forensics.lockfiles.length === 0) return null;
  return { turn: scope.turn, fromTurn: base.fromTurn, ...forensics };
}
