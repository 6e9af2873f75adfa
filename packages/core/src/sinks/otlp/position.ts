import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExportPosition, SINKS_SCHEMA_VERSION } from '../../contract/schemas/sinks.js';
import { ensurePrivateDir, writeFileAtomic } from '../../fsutil/index.js';
import { SinkConfigError } from '../remote-url.js';
import { sinksDir } from '../settings.js';

/**
 * How far an OTLP export has got, per run, for one collector: `<data>/sinks/otlp-<hash>.json`,
 * replaced atomically (temp, fsync, rename, fsync dir) after every acknowledged batch, so a
 * crash re-sends at most the batch in flight and never skips one.
 */
export class ExportPositionFile {
  readonly file: string;
  private position: ExportPosition;

  constructor(dataDir: string, endpoint: URL) {
    const key = createHash('sha256').update(endpoint.href).digest('hex').slice(0, 16);
    this.file = path.join(sinksDir(dataDir), `otlp-${key}.json`);
    this.position = this.load(endpoint.href);
  }

  private load(endpoint: string): ExportPosition {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schema_version: SINKS_SCHEMA_VERSION, endpoint, runs: {} };
      throw error;
    }
    const parsed = ExportPosition.safeParse((() => {
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    })());
    if (!parsed.success) throw new SinkConfigError(`The export position ${this.file} is damaged; move it away to export everything again (ids are stable, a collector sees the same spans).`);
    return { ...parsed.data, schema_version: SINKS_SCHEMA_VERSION };
  }

  seqOf(runId: string): number {
    return this.position.runs[runId] ?? 0;
  }

  /** Records that everything of `runId` through `seq` was acknowledged. */
  advance(runId: string, seq: number): void {
    if (seq <= this.seqOf(runId)) return;
    this.position.runs[runId] = seq;
    ensurePrivateDir(path.dirname(this.file));
    writeFileAtomic(this.file, `${JSON.stringify(this.position, null, 2)}\n`);
  }

  /** Forgets a run's position (`--again`): its spans are sent again, with the same ids. */
  reset(runId: string): void {
    if (!(runId in this.position.runs)) return;
    delete this.position.runs[runId];
    ensurePrivateDir(path.dirname(this.file));
    writeFileAtomic(this.file, `${JSON.stringify(this.position, null, 2)}\n`);
  }
}
