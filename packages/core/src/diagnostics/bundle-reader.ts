import { createHash } from 'node:crypto';
import path from 'node:path';
import yauzl from 'yauzl';
import { BUNDLE_SCHEMA_VERSION, BundleManifest, type BundleInspection } from '../contract/index.js';
import { MANIFEST_ENTRY } from './bundle-writer.js';

/**
 * Limits a bundle must keep before anything is unpacked (zip bombs): the total and per-entry
 * uncompressed size, the entry count, and the compression ratio of any entry large enough for
 * the ratio to matter.
 */
export interface BundleLimits {
  maxTotalBytes: number;
  maxEntryBytes: number;
  maxEntries: number;
  maxRatio: number;
}

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxTotalBytes: 4 * 1024 * 1024 * 1024,
  maxEntryBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 100_000,
  // NDJSON of repetitive events compresses well (~20x measured on scripted runs); a bomb is 1000x+.
  maxRatio: 200,
};
/** Below this many bytes an entry's ratio is not checked (a tiny file of zeros compresses absurdly). */
const RATIO_FLOOR_BYTES = 1024 * 1024;

/** A bundle that cannot be read safely; the message says why in plain words. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** An entry's name is a safe relative path: no `..`, no absolute path, no drive, no backslash. */
export function safeEntryName(name: string): boolean {
  if (name.length === 0 || name.length > 512 || name.includes('\\') || name.includes('\0')) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  const parts = name.split('/');
  return parts.every((part, i) => part !== '..' && part !== '.' && (part !== '' || i === parts.length - 1));
}

export interface OpenedBundle {
  file: string;
  zip: yauzl.ZipFile;
  entries: Map<string, yauzl.Entry>;
  close(): void;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // strictFileNames and validateEntrySizes: yauzl itself refuses `..`, absolute names and lying sizes.
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true, decodeStrings: true }, (error, zip) => {
      if (error || !zip) reject(new BundleError(`${file} is not a readable zip: ${error?.message ?? 'unknown error'}.`));
      else resolve(zip);
    });
  });
}

/** Opens a bundle and lists its entries, refusing unsafe names and zip bombs before reading any data. */
export async function openBundle(file: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): Promise<OpenedBundle> {
  const zip = await openZip(file);
  const close = () => zip.close();
  try {
    if (zip.entryCount > limits.maxEntries) throw new BundleError(`${file} holds ${zip.entryCount} entries (the limit is ${limits.maxEntries}); refused as a possible zip bomb.`);
    const entries = new Map<string, yauzl.Entry>();
    let total = 0;
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (error: Error) => {
        if (error instanceof BundleError) return reject(error);
        // yauzl's own name checks (strictFileNames): `..`, absolute paths, backslashes.
        if (/invalid relative path|absolute path|invalid characters in fileName/.test(error.message)) {
          return reject(new BundleError(`${file} holds an entry whose path escapes the bundle (${error.message}); refused.`));
        }
        reject(new BundleError(`${file}: ${error.message}; refused.`));
      });
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (!safeEntryName(name)) return reject(new BundleError(`${file} holds an entry whose path escapes the bundle (${JSON.stringify(name)}); refused.`));
        if (entries.has(name)) return reject(new BundleError(`${file} holds two entries named ${name}; refused.`));
        if (entry.uncompressedSize > limits.maxEntryBytes) {
          return reject(new BundleError(`${file}: ${name} unpacks to ${entry.uncompressedSize} bytes (the limit is ${limits.maxEntryBytes}); refused as a possible zip bomb.`));
        }
        total += entry.uncompressedSize;
        if (total > limits.maxTotalBytes) return reject(new BundleError(`${file} unpacks to more than ${limits.maxTotalBytes} bytes; refused as a possible zip bomb.`));
        if (entry.uncompressedSize >= RATIO_FLOOR_BYTES && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
          return reject(
            new BundleError(`${file}: ${name} compresses ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1 (the limit is ${limits.maxRatio}:1); refused as a possible zip bomb.`),
          );
        }
        if (!name.endsWith('/')) entries.set(name, entry);
        zip.readEntry();
      });
      zip.readEntry();
    });
    return { file, zip, entries, close };
  } catch (error) {
    close();
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${file}: ${(error as Error).message}; refused.`);
  }
}

/** Streams one entry's bytes to `onChunk`, never more than its declared size (yauzl checks it). */
export function readEntry(bundle: OpenedBundle, name: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  const entry = bundle.entries.get(name);
  if (!entry) return Promise.reject(new BundleError(`${bundle.file} has no entry ${name}.`));
  return new Promise((resolve, reject) => {
    bundle.zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) return reject(new BundleError(`${bundle.file}: cannot read ${name}: ${error?.message ?? 'no stream'}.`));
      stream.on('data', (chunk: Buffer) => onChunk(chunk));
      stream.on('error', (streamError: Error) => reject(new BundleError(`${bundle.file}: ${name} is damaged: ${streamError.message}.`)));
      stream.on('end', () => resolve());
    });
  });
}

export async function readEntryText(bundle: OpenedBundle, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  await readEntry(bundle, name, (chunk) => chunks.push(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The manifest, validated; a newer schema_version than this build reads is refused in plain words. */
export async function readManifest(bundle: OpenedBundle): Promise<BundleManifest> {
  if (!bundle.entries.has(MANIFEST_ENTRY)) throw new BundleError(`${bundle.file} has no ${MANIFEST_ENTRY}: it is not a Keel diagnostics bundle.`);
  let value: unknown;
  try {
    value = JSON.parse(await readEntryText(bundle, MANIFEST_ENTRY));
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${bundle.file}: ${MANIFEST_ENTRY} is not valid JSON.`);
  }
  const version = (value as { schema_version?: unknown } | null)?.schema_version;
  if (typeof version === 'number' && version > BUNDLE_SCHEMA_VERSION) {
    throw new BundleError(
      `${bundle.file} was written by a newer Keel (bundle format ${version}; this one reads up to ${BUNDLE_SCHEMA_VERSION}). Update Keel to open it.`,
    );
  }
  const parsed = BundleManifest.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BundleError(`${bundle.file}: ${MANIFEST_ENTRY} is malformed (${issue?.path.join('.') || '(root)'}: ${issue?.message}).`);
  }
  return parsed.data;
}

/**
 * Checks a bundle without unpacking it anywhere: the manifest, then every entry's size and
 * sha256 against it; entries the manifest does not list, and listed ones that are missing.
 * `ok` is false on any mismatch. A bundle that cannot be opened safely throws BundleError.
 */
export async function inspectBundle(file: string, limits?: BundleLimits): Promise<BundleInspection> {
  const bundle = await openBundle(path.resolve(file), limits);
  try {
    const manifest = await readManifest(bundle);
    const problems: string[] = [];
    const entries: BundleInspection['entries'] = [];
    const listed = new Set(manifest.entries.map((entry) => entry.path));
    for (const expected of manifest.entries) {
      if (!safeEntryName(expected.path)) {
        problems.push(`the manifest lists an entry whose path escapes the bundle (${JSON.stringify(expected.path)})`);
        entries.push({ path: expected.path, size: expected.size, sha256: null, status: 'mismatch' });
        continue;
      }
      if (!bundle.entries.has(expected.path)) {
        problems.push(`${expected.path} is listed in the manifest but missing`);
        entries.push({ path: expected.path, size: expected.size, sha256: null, status: 'missing' });
        continue;
      }
      const hash = createHash('sha256');
      let size = 0;
      await readEntry(bundle, expected.path, (chunk) => {
        hash.update(chunk);
        size += chunk.length;
      });
      const sha256 = hash.digest('hex');
      const ok = sha256 === expected.sha256 && size === expected.size;
      if (!ok) problems.push(`${expected.path}: checksum mismatch (manifest ${expected.sha256.slice(0, 12)}… ${expected.size} bytes, found ${sha256.slice(0, 12)}… ${size} bytes)`);
      entries.push({ path: expected.path, size, sha256, status: ok ? 'ok' : 'mismatch' });
    }
    for (const [name, entry] of bundle.entries) {
      if (name === MANIFEST_ENTRY || listed.has(name)) continue;
      problems.push(`${name} is in the zip but not in the manifest`);
      entries.push({ path: name, size: entry.uncompressedSize, sha256: null, status: 'unlisted' });
    }
    for (const run of manifest.runs) {
      if (!listed.has(run.ledger_entry)) problems.push(`run ${run.run_id}: its ledger entry ${run.ledger_entry} is not in the manifest`);
    }
    return { file: bundle.file, ok: problems.length === 0, manifest, entries, problems };
  } finally {
    bundle.close();
  }
}
