import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ensurePrivateDir, writeFileAtomic } from '../../fsutil/index.js';
import { canonicalJson } from '../../contract/canonical-json.js';

/**
 * Small JSON files that carry the sha256 of their own content (the canonical JSON of every
 * member but `sha256`), written atomically. Used for checkpoint sidecars and restore journals.
 */

export const sealOf = (content: Record<string, unknown>): string => {
  const { sha256: _ignored, ...rest } = content;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
};

/** Writes `content` plus its seal to `file`, atomically (temp, fsync, rename, fsync dir). */
export function writeSealed(file: string, content: Record<string, unknown>): void {
  ensurePrivateDir(path.dirname(file));
  const sealed = { ...content, sha256: sealOf(content) };
  writeFileAtomic(file, `${JSON.stringify(sealed, null, 2)}\n`);
}

export type SealedRead<T> =
  | { ok: true; value: T }
  | { ok: false; problem: 'missing' | 'unreadable' | 'not_json' | 'checksum' | 'schema' | 'newer_version'; detail: string };

/** Reads a sealed file: a missing, damaged or unverifiable file is reported, never trusted. */
export function readSealed<T>(file: string, schema: z.ZodType<T>, latestVersion: number): SealedRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { ok: false, problem: 'missing', detail: `${file} does not exist` } : { ok: false, problem: 'unreadable', detail: String(error) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: 'not_json', detail: `${file} is not JSON: ${(error as Error).message}` };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, problem: 'not_json', detail: `${file} is not a JSON object` };
  const record = json as Record<string, unknown>;
  if (typeof record.schema_version === 'number' && record.schema_version > latestVersion) {
    return { ok: false, problem: 'newer_version', detail: `${file} has schema_version ${record.schema_version}; this Keel reads up to ${latestVersion}` };
  }
  if (typeof record.sha256 !== 'string' || record.sha256 !== sealOf(record)) {
    return { ok: false, problem: 'checksum', detail: `${file} fails its sha256 check: ignored` };
  }
  const parsed = schema.safeParse(record);
  if (!parsed.success) return { ok: false, problem: 'schema', detail: `${file} does not match its schema: ${parsed.error.message.slice(0, 500)}` };
  return { ok: true, value: parsed.data };
}
