// A run's reliability facts for the host (issue 16): read a page per event-loop turn with only
// the records the facts need parsed, the same facts as folding every event, and asked again,
// only the events committed since are read.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendInput } from '../src/contract/index.js';
import { openLedger, type Ledger } from '../src/ledger/index.js';
import { RunFactsReader, runReliabilityFacts, staleGenerationEvents } from '../src/reliability/index.js';
import { readAll } from './fixtures/ledger-kit.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-facts-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const chunk = (generation: number, text: string): AppendInput => ({ type: 'message.chunk', generation, payload: { turn: 1, text } }) as AppendInput;
const prompt = (ik: string): AppendInput => ({ type: 'prompt.sent', payload: { turn: 1, text: 'go', ik } }) as AppendInput;

/** A run with one of every fact, and `filler` chunks of generation 2 (many pages) between them. */
function eventsOfARun(filler: number): AppendInput[] {
  return [
    prompt('ik:one'),
    { type: 'runtime.started', payload: { generation: 1, pid: 10, command: ['agent'], hostPid: 1, tag: 'keel-1' } } as unknown as AppendInput,
    chunk(1, 'before the exit'),
    { type: 'runtime.exited', payload: { generation: 1, code: 1, signal: null, expected: false } } as AppendInput,
    chunk(1, 'a stale event of the dead generation'),
    { type: 'runtime.restarting', payload: { nextGeneration: 2, attempt: 1, delayMs: 0, reason: 'crashed' } } as AppendInput,
    { type: 'approval.reset', payload: { generation: 1, approvalIds: ['a1', 'a2'], reason: 'agent exited' } } as AppendInput,
    ...Array.from({ length: filler }, (_, i) => chunk(2, `filler ${i}`)),
    { type: 'session.bound', payload: { generation: 2, sessionId: 's2', outcome: 'fresh', method: 'session/new', remapped: true } } as AppendInput,
    { type: 'approval.decided', payload: { approvalId: 'a3', decision: 'allow_once', by: 'carryover', ref: 'a1' } } as AppendInput,
    { type: 'run.recovered', payload: { reason: 'host restarted', previousState: 'running' } } as AppendInput,
    prompt('ik:one'),
  ];
}

async function runWith(bodies: AppendInput[]): Promise<{ ledger: Ledger; runId: string }> {
  const ledger = await openLedger({ dataDir: path.join(root, `data-${Math.random().toString(36).slice(2)}`), streamWindowMs: 1 });
  const runId = ledger.newRunId();
  await ledger.append(runId, { type: 'run.created', payload: { workspace: root, agent: { kind: 'builtin' } } });
  for (let at = 0; at < bodies.length; at += 1000) await Promise.all(bodies.slice(at, at + 1000).map((body) => ledger.append(runId, body, { durability: 'stream' })));
  return { ledger, runId };
}

describe('RunFactsReader', () => {
  it('gives the same facts as folding every event, with each kind of fact counted, a page per event-loop turn', async () => {
    const { ledger, runId } = await runWith(eventsOfARun(12_000));
    try {
      const reader = new RunFactsReader(ledger);
      let turns = 0;
      let counting = true;
      const count = () => {
        turns += 1;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const facts = await reader.facts(runId);
      counting = false;
      // 12,011 events in pages of 2,000: the reader let other work run between its pages.
      expect(turns).toBeGreaterThanOrEqual(2);
      const all = readAll(ledger, runId);
      expect(facts).toEqual(runReliabilityFacts(runId, all));
      expect(facts).toMatchObject({ restarts: 1, hostRecoveries: 1, approvalsReset: 2, approvalsCarried: 1, remaps: 1, duplicatedPrompts: 1, staleGenerationEvents: 1 });
      expect(facts.staleGenerationEvents).toBe(staleGenerationEvents(all).length);
      expect(facts.recoveries[0]).toMatchObject({ generation: 2, reason: 'crashed', outcome: 'fresh' });
      expect(facts.recoveries[0]!.exitedAt).not.toBeNull();
    } finally {
      await ledger.close();
    }
  });

  it('asked again, reads only the events committed since, and counts them', async () => {
    const { ledger, runId } = await runWith(eventsOfARun(10));
    try {
      const reader = new RunFactsReader(ledger);
      expect((await reader.facts(runId)).duplicatedPrompts).toBe(1);
      const last = ledger.run(runId)!.lastSeq;
      const asked: number[] = [];
      const skim = ledger.skim.bind(ledger);
      ledger.skim = (id, options) => {
        asked.push(options.fromSeq);
        return skim(id, options);
      };
      await ledger.append(runId, prompt('ik:one'));
      const again = await reader.facts(runId);
      expect(asked).toEqual([last + 1]);
      expect(again.duplicatedPrompts).toBe(2);
      expect(again).toEqual(runReliabilityFacts(runId, readAll(ledger, runId)));
    } finally {
      await ledger.close();
    }
  });

  it('skimming parses only the records asked for (the rest keep their envelope); eventsOfTypes reads only the types asked for', async () => {
    const { ledger, runId } = await runWith(eventsOfARun(3));
    try {
      const skimmed = ledger.skim(runId, { fromSeq: 1, limit: 100, recordsOf: ['runtime.exited'] });
      expect(skimmed.map((event) => event.seq)).toEqual(readAll(ledger, runId).map((event) => event.seq));
      expect(skimmed.filter((event) => event.event !== null).map((event) => event.type)).toEqual(['runtime.exited']);
      expect(skimmed.find((event) => event.type === 'message.chunk')).toMatchObject({ generation: 1, event: null });
      expect(ledger.skim(runId, { fromSeq: 1, limit: 5, recordsOf: [] }).every((event) => event.event === null)).toBe(true);
      // eventsOfTypes: only the events of those types, whole, in order, across pages.
      const all = readAll(ledger, runId);
      const wanted = all.filter((event) => event.type === 'message.chunk' || event.type === 'runtime.exited');
      expect([...ledger.eventsOfTypes(runId, ['message.chunk', 'runtime.exited'], { pageSize: 2 })]).toEqual(wanted);
      expect([...ledger.eventsOfTypes(runId, ['message.chunk', 'runtime.exited'], { afterSeq: wanted[2]!.seq, pageSize: 2 })]).toEqual(wanted.slice(3));
      expect(wanted.length).toBeGreaterThan(4);
      expect([...ledger.eventsOfTypes(runId, [])]).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});
