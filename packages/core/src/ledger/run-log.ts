import fs from 'node:fs';
import { FILE_MODE, writeFully } from '../fsutil/index.js';

/** One run's append-only NDJSON file, opened for appending with a known committed size. */
export class RunLog {
  readonly file: string;
  private fd: number | null = null;
  /** Bytes known to be durable (fdatasync'd). */
  size: number;

  constructor(file: string) {
    this.file = file;
    this.size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  }

  private handle(): number {
    if (this.fd === null) {
      this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, FILE_MODE);
    }
    return this.fd;
  }

  /** Appends bytes; throws on a short write that makes no progress or on ENOSPC. */
  write(data: Buffer): void {
    writeFully(this.handle(), data);
  }

  /** fdatasync; a failure here is final for this ledger (never retried and trusted). */
  sync(): void {
    fs.fdatasyncSync(this.handle());
  }

  /** Best effort after a failed batch: cut the file back to what was durable before it. */
  rollbackTo(size: number): void {
    try {
      fs.ftruncateSync(this.handle(), size);
      fs.fdatasyncSync(this.handle());
    } catch {
      // Recovery on the next open validates the file whatever happened here.
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
