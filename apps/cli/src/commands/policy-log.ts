import type { Command } from 'commander';
import { policyLog, type Ledger, type LedgerEvent, type PolicyLogEntry } from '@keel/core';
import { openForCommand, type LedgerCommandOptions } from './open-ledger.js';
import { withDataOption } from './options.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

/** A run's committed events, paged. */
function* eventsOf(ledger: Ledger, runId: string): Generator<LedgerEvent> {
  let from = 1;
  for (;;) {
    const page = ledger.read(runId, { fromSeq: from, limit: 5000 });
    yield* page;
    if (page.length < 5000) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

const short = (hash: string) => hash.slice(0, 12);

/** One line (two for a decision: what, then rule and why) per policy event. */
function describe(entry: PolicyLogEntry): string {
  const at = `#${String(entry.seq).padEnd(5)}`;
  switch (entry.type) {
    case 'policy.loaded': {
      const { payload } = entry;
      const files = payload.files.map((file) => `${file.layer} ${file.file}`).join(', ') || 'built-in defaults only';
      return `${at} LOADED   policy ${short(payload.hash)} (${payload.reason.replace('_', ' ')}): ${payload.rules.length} rules; ${files}; on_violation ${payload.onViolation}`;
    }
    case 'policy.refused': {
      const { payload } = entry;
      const kept = payload.kept ? `kept policy ${short(payload.kept)}` : 'kept the built-in defaults';
      return [`${at} REFUSED  an invalid policy file; ${kept}`, ...payload.errors.map((error) => `         ${error}`)].join('\n');
    }
    case 'policy.decided': {
      const { payload } = entry;
      const flags = [payload.observed ? 'observed' : null, payload.violation ? 'VIOLATION' : null, payload.unattended ? 'unattended' : null].filter(Boolean).join(', ');
      return [
        `${at} ${payload.decision.toUpperCase().padEnd(8)} ${payload.action.kind.padEnd(7)} ${payload.action.title}${flags ? `  [${flags}]` : ''}`,
        `         ${payload.rule ? `rule ${payload.rule}${payload.layer ? ` (${payload.layer})` : ''}` : 'no rule'}: ${payload.why}  · ${payload.source} · policy ${short(payload.policyHash)}`,
      ].join('\n');
    }
    case 'policy.rule_added': {
      const { payload } = entry;
      return `${at} RULE     added ${String(payload.rule.id ?? '?')} to ${payload.file}`;
    }
  }
}

/** `keel policy log --run ID [--json]`: every policy event of a run, read from its ledger. */
export function registerPolicyLog(policy: Command): void {
  withDataOption(policy.command('log'))
    .description("a run's policy in force and every decision it made (allowed ones too), with rule, why and policy hash")
    .requiredOption('--run <id>', 'the run')
    .option('--json', 'print JSON: { runId, entries, counts }')
    .action(async (options: LedgerCommandOptions & { run: string; json?: boolean }) => {
      const { ledger } = await openForCommand({ ...options, readOnly: true }, 'read');
      try {
        if (!ledger.run(options.run)) throw new Error(`No run ${options.run} in ${ledger.dataDir}.`);
        const log = policyLog(options.run, eventsOf(ledger, options.run));
        if (options.json) {
          print(JSON.stringify(log, null, 2));
          return;
        }
        if (log.entries.length === 0) print(`run ${options.run}: no policy events (a run from before policies, or one that never started)`);
        for (const entry of log.entries) print(describe(entry));
        const { allow, ask, deny, violations } = log.counts;
        print(`${allow} allowed, ${ask} asked, ${deny} denied${violations > 0 ? `, ${violations} violation${violations === 1 ? '' : 's'}` : ''}`);
      } finally {
        await ledger.close();
      }
    });
}
