import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import { MAX_BUNDLE_UPLOAD_BYTES } from '../contract/index.js';
import { importedDir } from '../diagnostics/index.js';

/** A zip starts with a local file header (or, empty, with the end of central directory). */
const ZIP_MAGIC = [Buffer.from('PK\x03\x04', 'latin1'), Buffer.from('PK\x05\x06', 'latin1')];
/** At most this many uploads at once; an upload left unfinished this long is dropped. */
const MAX_OPEN_UPLOADS = 4;
const STALE_MS = 10 * 60_000;

interface Upload {
  file: string;
  fd: number;
  size: number;
  received: number;
  touched: number;
}

/**
 * Bundles uploaded by a browser (headless mode has no file dialog and the page cannot name a
 * path on the host): the page declares the size first — over the cap is refused before a byte
 * is sent — then sends chunks in order into a private file under `<data>/imported/.uploads/`;
 * the first chunk must start like a zip. `finish` hands the file to the import and always
 * deletes it. Memory stays one chunk.
 */
export class BundleUploads {
  private readonly uploads = new Map<string, Upload>();
  private readonly dir: string;
  private readonly sweeper: ReturnType<typeof setInterval>;

  /** `staleMs` (tests shorten it): an upload idle this long is dropped, by a timer, not only on the next start. */
  constructor(dataDir: string, private readonly cap = MAX_BUNDLE_UPLOAD_BYTES, private readonly staleMs = STALE_MS) {
    this.dir = path.join(importedDir(dataDir), '.uploads');
    // What a killed host left half-uploaded: the host holds the data directory's lock, so
    // nothing else writes here, and no upload survives a restart.
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.sweeper = setInterval(() => this.dropStale(), Math.max(1000, Math.floor(staleMs / 4)));
    this.sweeper.unref();
  }

  start(name: string, size: number): { uploadId: string } {
    if (!/\.zip$/i.test(name)) throw new KeelRpcError('invalid_input', `${name} is not a diagnostics bundle: a bundle is a .zip file written by "Export diagnostics…" or keel bundle.`);
    if (size > this.cap) {
      throw new KeelRpcError('invalid_input', `${name} is ${mib(size)}; the largest bundle that can be uploaded is ${mib(this.cap)}. Import it with: keel bundle import FILE`);
    }
    if (size < 22) throw new KeelRpcError('invalid_input', `${name} is ${size} bytes: too small to be a zip, so not a diagnostics bundle.`);
    this.dropStale();
    if (this.uploads.size >= MAX_OPEN_UPLOADS) throw new KeelRpcError('conflict', 'Too many bundle uploads at once; wait for one to finish.');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const uploadId = randomBytes(12).toString('hex');
    const file = path.join(this.dir, `${uploadId}.zip`);
    const fd = fs.openSync(file, 'wx', 0o600);
    this.uploads.set(uploadId, { file, fd, size, received: 0, touched: Date.now() });
    return { uploadId };
  }

  chunk(uploadId: string, offset: number, base64: string): { received: number } {
    const upload = this.get(uploadId);
    const data = Buffer.from(base64, 'base64');
    if (offset !== upload.received) throw this.fail(uploadId, `chunk at byte ${offset} arrived, byte ${upload.received} was expected; the upload was dropped.`);
    if (upload.received + data.length > upload.size) throw this.fail(uploadId, `the file is longer than the ${upload.size} bytes declared; the upload was dropped.`);
    if (offset === 0 && !ZIP_MAGIC.some((magic) => data.subarray(0, 4).equals(magic))) {
      throw this.fail(uploadId, 'this file is not a zip, so not a diagnostics bundle; nothing was imported.');
    }
    let at = 0;
    while (at < data.length) at += fs.writeSync(upload.fd, data, at, data.length - at, upload.received + at);
    upload.received += data.length;
    upload.touched = Date.now();
    return { received: upload.received };
  }

  /** The complete file, closed, for the import; `done` must be called after it (it deletes the file). */
  finish(uploadId: string): { file: string; done(): void } {
    const upload = this.get(uploadId);
    if (upload.received !== upload.size) throw this.fail(uploadId, `only ${upload.received} of ${upload.size} bytes arrived; the upload was dropped.`);
    fs.fsyncSync(upload.fd);
    fs.closeSync(upload.fd);
    this.uploads.delete(uploadId);
    return { file: upload.file, done: () => fs.rmSync(upload.file, { force: true }) };
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const id of [...this.uploads.keys()]) this.drop(id);
  }

  private get(uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new KeelRpcError('not_found', 'No such bundle upload (it finished, failed or was idle too long); start again.');
    return upload;
  }

  private fail(uploadId: string, why: string): KeelRpcError {
    this.drop(uploadId);
    return new KeelRpcError('invalid_input', `Bundle upload refused: ${why}`);
  }

  private drop(uploadId: string): void {
    const upload = this.uploads.get(uploadId);
    if (!upload) return;
    this.uploads.delete(uploadId);
    try {
      fs.closeSync(upload.fd);
    } catch {
      // already closed
    }
    fs.rmSync(upload.file, { force: true });
  }

  private dropStale(): void {
    const now = Date.now();
    for (const [id, upload] of this.uploads) if (now - upload.touched > this.staleMs) this.drop(id);
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;
