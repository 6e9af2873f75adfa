// The harness end to end on a reduced set (the unit suite's budget): real faults against the real
// ledger and host, a scorecard that validates against its schema, both files written, a history
// that gives a trend per SLO, the same seed choosing the same faults, and the formulas (I9).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Scorecard, type ScenarioResult } from '../src/contract/schemas/reliability.js';
import { evaluateSlos, overallVerdict, percentile, readScorecards, runHarness, scenarioSeed, summarizeDurations, writeScorecard, zeroCounters } from '../src/reliability/index.js';
import { requireBuilt } from './fixtures/runtime-kit.js';
import { tempDir } from './helpers.js';

const result = (counters: Partial<ScenarioResult['counters']>, recoveryMs: number[] = []): ScenarioResult => ({
  name: 'host-kill',
  description: 'test',
  seed: 1,
  durationMs: 1,
  verdict: 'passed',
  counters: { ...zeroCounters(), ...counters },
  recoveryMs,
  recovery: summarizeDurations(recoveryMs),
  problems: [],
});

describe('formulas (one per number)', () => {
  it('percentiles are nearest-rank; a summary has p50, p95 and max', () => {
    expect(percentile([], 50)).toBeNull();
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(samples, 50), percentile(samples, 95), percentile(samples, 100)]).toEqual([50, 95, 100]);
    expect(summarizeDurations([300, 100, 200])).toEqual({ count: 3, p50: 200, p95: 300, max: 300 });
  });

  it('every SLO meets its target on a clean tally, and each planted failure misses exactly its SLO', () => {
    const clean = result({ attempts: 1000, recovered: 1000, acknowledged: 500, promptsChecked: 40, orphanedApprovals: 2, orphanedApprovalsHonoured: 2, staleSessions: 4, staleSessionsRemapped: 4 }, [100, 200, 4000]);
    const slos = evaluateSlos([clean]);
    expect(slos.map((slo) => [slo.id, slo.value, slo.verdict])).toEqual([
      ['recovery_success', 100, 'met'],
      ['recovery_p95', 4000, 'met'],
      ['stale_remap', 100, 'met'],
      ['approval_continuity', 100, 'met'],
      ['durability', 100, 'met'],
      ['duplicated_prompts', 0, 'met'],
    ]);
    expect(overallVerdict([clean], slos)).toBe('pass');
    const missed = (planted: Partial<ScenarioResult['counters']>, samples = [100]) =>
      evaluateSlos([result({ ...clean.counters, ...planted }, samples)]).filter((slo) => slo.verdict === 'missed').map((slo) => slo.id);
    expect(missed({ recovered: 998 })).toEqual(['recovery_success']);
    expect(missed({}, [100, 6000])).toEqual(['recovery_p95']);
    expect(missed({ staleSessionsRemapped: 3 })).toEqual(['stale_remap']);
    expect(missed({ orphanedApprovalsHonoured: 1 })).toEqual(['approval_continuity']);
    expect(missed({ lost: 1 })).toEqual(['durability']);
    expect(missed({ unexpected: 1 })).toEqual(['durability']);
    expect(missed({ duplicatedPrompts: 1 })).toEqual(['duplicated_prompts']);
    // Nothing measured is no data, not a pass or a miss; a skipped scenario counts for nothing.
    const none = evaluateSlos([{ ...result({ attempts: 3 }), verdict: 'skipped' }]);
    expect(none.every((slo) => slo.verdict === 'no_data')).toBe(true);
    // Scenarios that never prompt across a fault say nothing about duplicated prompts (not a vacuous 0).
    const unprompted = evaluateSlos([result({ attempts: 10, recovered: 10, acknowledged: 10 })]);
    expect(unprompted.find((slo) => slo.id === 'duplicated_prompts')).toMatchObject({ value: null, verdict: 'no_data' });
  });

  it('a scenario seed depends on the run seed and the name only', () => {
    expect(scenarioSeed(7, 'host-kill')).toBe(scenarioSeed(7, 'host-kill'));
    expect(scenarioSeed(7, 'host-kill')).not.toBe(scenarioSeed(8, 'host-kill'));
    expect(scenarioSeed(7, 'host-kill')).not.toBe(scenarioSeed(7, 'torn-tail'));
  });
});

describe('the harness on a reduced scenario set', () => {
  it('runs real faults, writes a schema-valid scorecard (JSON + Markdown) twice, and the history gives a trend per SLO', { timeout: 240_000 }, async () => {
    requireBuilt();
    const out = tempDir('keel-rel-out-');
    const progress: string[] = [];
    const card = await runHarness({
      profile: 'unit',
      seed: 1234,
      scenarios: ['torn-tail', 'mid-file-damage', 'stale-session', 'host-kill'],
      iterations: { 'host-kill': 1 },
      onProgress: (event) => {
        if (event.result) progress.push(`${event.scenario}:${event.result.verdict}`);
      },
    });
    expect(Scorecard.parse(card)).toEqual(card);
    expect(progress).toEqual(['torn-tail:passed', 'mid-file-damage:passed', 'stale-session:passed', 'host-kill:passed']);
    expect(card.verdict, JSON.stringify(card.scenarios.map((s) => s.problems))).toBe('pass');
    const byName = new Map(card.scenarios.map((s) => [s.name, s]));
    expect(byName.get('host-kill')!.counters).toMatchObject({ attempts: 1, recovered: 1, lost: 0, unexpected: 0 });
    expect(byName.get('host-kill')!.counters.acknowledged).toBeGreaterThan(0);
    expect(byName.get('stale-session')!.counters).toMatchObject({ staleSessions: 1, staleSessionsRemapped: 1 });
    expect(card.slos.find((slo) => slo.id === 'stale_remap')).toMatchObject({ value: 100, verdict: 'met' });
    expect(card.seed).toBe(1234);
    expect(byName.get('torn-tail')!.seed).toBe(scenarioSeed(1234, 'torn-tail'));

    const first = writeScorecard(out, card);
    const second = writeScorecard(out, { ...card, createdAt: new Date(Date.parse(card.createdAt) + 1000).toISOString() });
    for (const file of [first.json, first.markdown, second.json, second.markdown]) expect(fs.existsSync(file)).toBe(true);
    expect(Scorecard.parse(JSON.parse(fs.readFileSync(first.json, 'utf8')))).toEqual(card);
    expect(fs.readFileSync(first.markdown, 'utf8')).toContain('| Stale-session remap | 100 % | >= 99.5 % | met |');
    fs.writeFileSync(path.join(out, 'scorecard-00000000T000000000Z.json'), '{"schema_version": 99}');
    const overview = readScorecards(out);
    expect(overview.history.map((entry) => entry.file)).toEqual([first.json, second.json]);
    expect(overview.latest?.createdAt).toBe(new Date(Date.parse(card.createdAt) + 1000).toISOString());
    expect(overview.history.map((entry) => entry.slos.find((slo) => slo.id === 'durability')!.value)).toEqual([100, 100]);
    expect(overview.unreadable).toHaveLength(1);
    expect(overview.unreadable[0]!.reason).toMatch(/not a scorecard/);
  });
  it('writes the scorecard so far after each scenario, marked incomplete, and the finished run replaces it with a complete one', { timeout: 240_000 }, async () => {
    requireBuilt();
    const out = tempDir('keel-rel-partial-');
    const partials: Scorecard[] = [];
    const card = await runHarness({
      profile: 'unit',
      seed: 77,
      scenarios: ['torn-tail', 'mid-file-damage', 'stale-session'],
      onScenarioDone: (partial) => {
        partials.push(partial);
        writeScorecard(out, partial);
        // What a run stopped right now leaves behind: one scorecard, incomplete, of the scenarios done.
        const overview = readScorecards(out);
        expect(overview.history).toHaveLength(1);
        expect(overview.history[0]!.incomplete).toBe(true);
        expect(overview.latest).toEqual(partial);
      },
    });
    expect(partials.map((partial) => partial.incomplete)).toEqual([
      { scenariosDone: 1, scenariosPlanned: 3 },
      { scenariosDone: 2, scenariosPlanned: 3 },
    ]);
    expect(partials.map((partial) => partial.scenarios.map((scenario) => scenario.name))).toEqual([['torn-tail'], ['torn-tail', 'mid-file-damage']]);
    for (const partial of partials) expect(Scorecard.parse(partial)).toEqual(partial);
    const markdown = fs.readFileSync(path.join(out, `${fs.readdirSync(out).find((name) => name.endsWith('.md'))}`), 'utf8');
    expect(markdown).toContain('(INCOMPLETE: 2 of 3 scenarios)');

    expect(card.incomplete).toBeUndefined();
    expect(card.scenarios).toHaveLength(3);
    const files = writeScorecard(out, card);
    const overview = readScorecards(out);
    expect(overview.history.map((entry) => [entry.file, entry.incomplete])).toEqual([[files.json, undefined]]);
    expect(fs.readFileSync(files.markdown, 'utf8')).not.toContain('INCOMPLETE');
  });
});
