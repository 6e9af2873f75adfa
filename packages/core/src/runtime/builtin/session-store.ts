import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir, writeFileAtomic } from '../../fsutil/index.js';

const HistoryEntry = z.object({
  role: z.enum(['user', 'agent']),
  text: z.string(),
  messageId: z.string(),
  /** The prompt's `_meta`, replayed on load so a client can match its own message ids. */
  meta: z.record(z.string(), z.unknown()).optional(),
});

const SessionFile = z.object({
  schema_version: z.literal(1),
  sessionId: z.string(),
  cwd: z.string(),
  script: z.string(),
  /** Index of the current turn: the one running, interrupted, or next to run. */
  turn: z.number().int().nonnegative(),
  /** Next step of that turn (0-based); > 0 means the turn was started and not finished. */
  step: z.number().int().nonnegative(),
  history: z.array(HistoryEntry),
  /** Canonical specs of the once-per-session faults that already fired. */
  firedFaults: z.array(z.string()),
  /** Permission keys the client answered `allow_always` for. */
  alwaysAllowed: z.array(z.string()),
});

export type SessionState = z.infer<typeof SessionFile>;
export type HistoryEntry = z.infer<typeof HistoryEntry>;

const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** `<state-dir>/<sessionId>.json`, replaced atomically (temp + fsync + rename + dir fsync). */
export class SessionStore {
  constructor(private readonly dir: string) {
    ensurePrivateDir(dir);
  }

  create(cwd: string, script: string): SessionState {
    const state: SessionState = {
      schema_version: 1,
      sessionId: randomUUID(),
      cwd,
      script,
      turn: 0,
      step: 0,
      history: [],
      firedFaults: [],
      alwaysAllowed: [],
    };
    this.save(state);
    return state;
  }

  /** The stored session, or null when there is none (ids that cannot be files count as none). */
  load(sessionId: string): SessionState | null {
    if (!SESSION_ID.test(sessionId)) return null;
    let raw: string;
    try {
      raw = fs.readFileSync(this.fileOf(sessionId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const state = SessionFile.parse(JSON.parse(raw));
    if (state.sessionId !== sessionId) throw new Error(`${this.fileOf(sessionId)} holds session ${state.sessionId}`);
    return state;
  }

  save(state: SessionState): void {
    writeFileAtomic(this.fileOf(state.sessionId), `${JSON.stringify(state)}\n`);
  }

  private fileOf(sessionId: string): string {
    return path.join(this.dir, `${sessionId}.json`);
  }
}
