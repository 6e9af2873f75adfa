// Scorecard files: `<data>/reliability/scorecard-<utc>.json` and `.md` side by side, written
// atomically; the history of those files gives a trend per SLO.
import fs from 'node:fs';
import path from 'node:path';
import { formatSloValue, Scorecard, ScorecardSummary, type ReliabilityOverview } from '../contract/schemas/reliability.js';
import { ensurePrivateDir, writeFileAtomic } from '../fsutil/index.js';

export const reliabilityDir = (dataDir: string) => path.join(dataDir, 'reliability');

/** `scorecard-20261201T083000123Z`: sortable, colon-free, from the scorecard's creation time. */
export const scorecardStem = (createdAt: string) => `scorecard-${createdAt.replace(/[-:.]/g, '')}`;

export function renderMarkdown(card: Scorecard): string {
  const lines = [
    `# Keel reliability scorecard — ${card.verdict === 'pass' ? 'PASS' : 'FAIL'}${card.incomplete ? ` (INCOMPLETE: ${card.incomplete.scenariosDone} of ${card.incomplete.scenariosPlanned} scenarios)` : ''}`,
    '',
    ...(card.incomplete
      ? ['The run stopped (or is still going) before every scenario finished: the verdict and SLOs cover only the scenarios below.', '']
      : []),
    `- Created: ${card.createdAt} (${card.profile}, seed ${card.seed}, ${(card.durationMs / 1000).toFixed(1)} s)`,
    `- Keel ${card.keelVersion}${card.gitSha ? ` at ${card.gitSha.slice(0, 12)}` : ''}`,
    `- Machine: ${card.machine.cpu}, ${card.machine.cores} cores, ${card.machine.memoryGiB} GiB, ${card.machine.os}, Node ${card.machine.node}, load ${card.machine.load.join(' ')}`,
    '',
    '## SLOs',
    '',
    '| SLO | Value | Target | Verdict |',
    '| --- | ---: | ---: | --- |',
    ...card.slos.map((slo) => `| ${slo.label} | ${formatSloValue(slo.unit, slo.value)} | ${slo.comparator} ${formatSloValue(slo.unit, slo.target)} | ${slo.verdict} |`),
    '',
    '## Scenarios',
    '',
    '| Scenario | Verdict | Attempts | Recovered | Acknowledged | Lost | Unexpected | Dup. prompts (checked) | Orphans honoured | Remaps | Recovery p50 / p95 / max |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...card.scenarios.map((s) => {
      const c = s.counters;
      const recovery = s.recovery ? `${Math.round(s.recovery.p50)} / ${Math.round(s.recovery.p95)} / ${Math.round(s.recovery.max)} ms` : '—';
      const verdict = s.verdict === 'skipped' ? `skipped: ${s.skipReason ?? ''}` : s.verdict;
      return `| ${s.name} | ${verdict} | ${c.attempts} | ${c.recovered} | ${c.acknowledged} | ${c.lost} | ${c.unexpected} | ${c.duplicatedPrompts} (${c.promptsChecked}) | ${c.orphanedApprovalsHonoured}/${c.orphanedApprovals} | ${c.staleSessionsRemapped}/${c.staleSessions} | ${recovery} |`;
    }),
  ];
  const problems = card.scenarios.filter((s) => s.problems.length > 0);
  if (problems.length > 0) {
    lines.push('', '## Problems', '');
    for (const s of problems) for (const problem of s.problems) lines.push(`- ${s.name} (seed ${s.seed}): ${problem}`);
  }
  lines.push('', `Reproduce: \`keel reliability --${card.profile === 'full' ? 'full' : 'quick'} --seed ${card.seed}\``, '');
  return lines.join('\n');
}

/** Writes both files into `dir` (created 0700); returns their paths. */
export function writeScorecard(dir: string, card: Scorecard): { json: string; markdown: string } {
  Scorecard.parse(card);
  ensurePrivateDir(dir);
  const stem = path.join(dir, scorecardStem(card.createdAt));
  writeFileAtomic(`${stem}.md`, renderMarkdown(card));
  // The JSON last: a reader that sees it also finds its Markdown.
  writeFileAtomic(`${stem}.json`, `${JSON.stringify(card, null, 2)}\n`);
  return { json: `${stem}.json`, markdown: `${stem}.md` };
}

export function summarize(file: string, card: Scorecard): ScorecardSummary {
  return {
    file,
    createdAt: card.createdAt,
    keelVersion: card.keelVersion,
    profile: card.profile,
    seed: card.seed,
    verdict: card.verdict,
    slos: card.slos.map((slo) => ({ id: slo.id, value: slo.value, verdict: slo.verdict })),
    ...(card.incomplete ? { incomplete: true } : {}),
  };
}

/** The latest scorecard in `dir` and the history (oldest first); unreadable files are listed with the reason. */
export function readScorecards(dir: string, limit = 50): ReliabilityOverview {
  if (!fs.existsSync(dir)) return { latest: null, history: [], unreadable: [] };
  const files = fs
    .readdirSync(dir)
    .filter((name) => /^scorecard-.*\.json$/.test(name))
    .sort()
    .slice(-limit);
  const history: ScorecardSummary[] = [];
  const unreadable: ReliabilityOverview['unreadable'] = [];
  let latest: Scorecard | null = null;
  for (const name of files) {
    const file = path.join(dir, name);
    try {
      const parsed = Scorecard.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
      if (!parsed.success) {
        unreadable.push({ file, reason: `not a scorecard: ${parsed.error.issues[0]?.message ?? 'invalid'}` });
        continue;
      }
      history.push(summarize(file, parsed.data));
      latest = parsed.data;
    } catch (error) {
      unreadable.push({ file, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { latest, history, unreadable };
}
