import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from './database.js';

const RUN_ID = '01JZZZZZZZZZZZZZZZZZZZZZZZ';
const HASH = 'a'.repeat(64);

/**
 * I2's order alone, the ledger benchmark's ceiling (issue 16): per batch one NDJSON write +
 * fdatasync, then one SQLite transaction (the event rows and the run's projection row, in
 * keel.db's real tables), resolved after it, one event-loop turn per batch — and nothing else: no
 * validation, canonical encoding, hashing, projection fold or marker. Keel cannot beat it; the
 * bench prints its figures beside Keel's so a missed ratio can be told from a slow ledger.
 */
export class MinimalLedger {
  private readonly fd: number;
  private readonly db: ReturnType<typeof openDatabase>;
  private readonly commit: (rows: ReadonlyArray<{ seq: number; ts: string; line: string }>) => void;
  private queue: Array<{ seq: number; ts: string; line: string; resolve(): void }> = [];
  private seq = 0;

  constructor(dir: string) {
    this.fd = fs.openSync(path.join(dir, 'minimal.ndjson'), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o600);
    const db = openDatabase(path.join(dir, 'keel.db'));
    this.db = db;
    const ts = new Date().toISOString();
    db.prepare("INSERT INTO runs (id, state, created, updated, last_seq, last_hash) VALUES (?, 'created', ?, ?, 0, '')").run(RUN_ID, ts, ts);
    const insert = db.prepare('INSERT OR IGNORE INTO events (run_id, seq, ts, type, generation, hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const project = db.prepare('UPDATE runs SET last_seq = ?, last_hash = ?, updated = ? WHERE id = ?');
    this.commit = db.transaction((rows: ReadonlyArray<{ seq: number; ts: string; line: string }>) => {
      for (const row of rows) insert.run(RUN_ID, row.seq, row.ts, 'message.chunk', null, HASH, row.line);
      const last = rows[rows.length - 1]!;
      project.run(last.seq, HASH, last.ts, RUN_ID);
    });
  }

  append(line: string): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ seq: ++this.seq, ts: new Date().toISOString(), line, resolve });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  close(): void {
    fs.closeSync(this.fd);
    this.db.close();
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    fs.writeSync(this.fd, Buffer.from(`${batch.map((pending) => pending.line).join('\n')}\n`));
    fs.fdatasyncSync(this.fd);
    this.commit(batch);
    for (const pending of batch) pending.resolve();
  }
}
