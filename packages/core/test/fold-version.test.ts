// Persisted run-view snapshots are valid only for the fold version that wrote them
// (replay/fold-version.ts). This test makes forgetting the bump visible: it fingerprints the
// fold's sources, and when they change it fails until the fingerprint below is updated — the
// moment to ask "does the same ledger now fold to a different view?" and, if so, to bump
// RUN_VIEW_FOLD_VERSION (every stored snapshot is then rebuilt from its events).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RUN_VIEW_FOLD_VERSION } from '../src/replay/fold-version.js';
import { RUN_STATE_FOLD_VERSION } from '../src/replay/run-state-snapshot.js';

const FOLD_SOURCES = [
  'replay/run-view-fold.ts',
  'replay/fold-items.ts',
  'replay/approval-items.ts',
  'replay/view-items.ts',
  'replay/recovery.ts',
  'replay/progress.ts',
  'replay/checkpoint-items.ts',
  'replay/block-list.ts',
  'replay/slots.ts',
  'replay/decode.ts',
  'replay/run-state.ts',
  'replay/usage.ts',
  'contract/usage-steps.ts',
  'contract/usage-math.ts',
  'contract/schemas/usage.ts',
  'contract/schemas/replay.ts',
];

/** Recorded with the version it belongs to: [version, sha256 of the sources]. */
// Fingerprint moved without a version bump: streamed text and outputs are made flat strings
// (replay/view-items.ts, appended): the same values, held in less memory; then the transcript's
// slots (fold-items.ts) and the approval cards (approval-items.ts) moved to their own files, unchanged.
const RECORDED: [number, string] = [4, '8d504708bbc8065b60380244cdb582dbd64acd6e78a0abcec70149fc3ea39682'];

/** The run state fold and its snapshot encoding (stored run states, runs/run-state-store.ts). */
const RUN_STATE_SOURCES = ['replay/run-state.ts', 'replay/run-state-snapshot.ts', 'replay/decode.ts', 'contract/schemas/ledger.ts'];
// Fingerprint moved without a version bump: chunk payloads are parsed with their keys in
// canonical order, and the ledger's check reports moved to schemas/ledger-checks.ts (the same
// events, the same state).
const RUN_STATE_RECORDED: [number, string] = [1, 'ebe4f0792bf913ac8270fcd0166cacf299e5cabcc0cc1517e9cc7494702f92da'];

function fingerprint(sources: readonly string[] = FOLD_SOURCES): string {
  const hash = createHash('sha256');
  for (const file of sources) {
    hash.update(file).update('\0');
    // Line endings and trailing spaces do not change what the fold does.
    hash.update(fs.readFileSync(fileURLToPath(new URL(`../src/${file}`, import.meta.url)), 'utf8').replace(/[ \t]+$/gm, '').replace(/\r\n/g, '\n'));
  }
  return hash.digest('hex');
}

describe('the run-view fold version', () => {
  it('is re-examined whenever the fold changes: its sources match the fingerprint recorded with this version', () => {
    const now = fingerprint();
    const [version, recorded] = RECORDED;
    const advice =
      `The fold's sources changed (fingerprint ${now}). If the same events can now fold to a different view, bump ` +
      `RUN_VIEW_FOLD_VERSION in replay/fold-version.ts; then record [version, fingerprint] in this test.`;
    expect({ version: RUN_VIEW_FOLD_VERSION, fingerprint: now }, advice).toEqual({ version, fingerprint: recorded });
  });
});

describe('the run-state fold version', () => {
  it('is re-examined whenever the run state fold or its encoding changes', () => {
    const now = fingerprint(RUN_STATE_SOURCES);
    const [version, recorded] = RUN_STATE_RECORDED;
    const advice =
      `The run state fold's sources changed (fingerprint ${now}). If the same events can now fold to a different RunState, or ` +
      `the encoding changed, bump RUN_STATE_FOLD_VERSION in replay/run-state-snapshot.ts; then record [version, fingerprint] in this test.`;
    expect({ version: RUN_STATE_FOLD_VERSION, fingerprint: now }, advice).toEqual({ version, fingerprint: recorded });
  });
});
