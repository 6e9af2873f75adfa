import type { ChangeEntryKind, ChangeStatus, RunChangedFile } from '../contract/schemas/changes.js';

/** One entry of `git diff-tree -r -z -M --raw [--numstat]`, with the object ids behind it. */
export interface RawChange extends RunChangedFile {
  oldId: string | null;
  newId: string | null;
}

const STATUS: Record<string, ChangeStatus> = { A: 'added', D: 'deleted', M: 'modified', T: 'type_changed', R: 'renamed' };

/** A git tree mode as what it is for a reader ('000000': not there). */
export function kindOfMode(mode: string): ChangeEntryKind | null {
  if (mode === '100755') return 'executable';
  if (mode === '120000') return 'symlink';
  if (mode === '160000') return 'submodule';
  if (/^0+$/.test(mode)) return null;
  return 'file';
}

const NULL_ID = /^0+$/;

/**
 * Parses the NUL-separated output of `diff-tree -r -z -M --raw [--numstat]`:
 *   `:oldmode newmode oldid newid X` then the path (a rename `R097`: old path, new path);
 *   then the numstat entries `added\tremoved\tpath` (a rename: `added\tremoved\t`, old, new;
 *   `-\t-` marks a binary file).
 * Copies (`C`) are not asked for; an unknown letter is skipped.
 */
export function parseChanges(tokens: readonly string[]): RawChange[] {
  const changes: RawChange[] = [];
  const byPath = new Map<string, RawChange>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith(':')) {
      const [oldMode = '', newMode = '', oldId = '', newId = '', letters = ''] = token.slice(1).split(' ');
      const status = STATUS[letters.charAt(0)];
      const first = tokens[++i];
      const renamed = status === 'renamed';
      const second = renamed ? tokens[++i] : undefined;
      if (!status || first === undefined || (renamed && second === undefined)) continue;
      const change: RawChange = {
        path: renamed ? second! : first,
        oldPath: renamed ? first : null,
        status,
        added: null,
        removed: null,
        binary: false,
        similarity: renamed ? Math.min(100, Number(letters.slice(1)) || 0) : null,
        oldKind: kindOfMode(oldMode),
        newKind: kindOfMode(newMode),
        oldId: NULL_ID.test(oldId) ? null : oldId,
        newId: NULL_ID.test(newId) ? null : newId,
      };
      changes.push(change);
      byPath.set(change.path, change);
      continue;
    }
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(token);
    if (!match) continue;
    let file = match[3]!;
    if (file === '') {
      // A rename's numstat: the old and the new path follow as their own tokens.
      i += 2;
      file = tokens[i] ?? '';
    }
    const change = byPath.get(file);
    if (!change) continue;
    const binary = match[1] === '-' && match[2] === '-';
    change.binary = binary;
    change.added = binary ? null : Number(match[1]);
    change.removed = binary ? null : Number(match[2]);
  }
  return changes;
}

/** The public shape of a change (no object ids). */
export function publicFile(change: RawChange): RunChangedFile {
  const { oldId: _oldId, newId: _newId, ...file } = change;
  return file;
}
