import type { Command } from 'commander';
import { fold, type Ledger, type LedgerEvent, type RunView, type TranscriptItem } from '@keel/core';
import { openForCommand, type LedgerCommandOptions } from './open-ledger.js';
import { withDataOption } from './options.js';

/** A run's committed events up to `until`, paged so a long run never sits in memory twice. */
function* eventsOf(ledger: Ledger, runId: string, until: number): Generator<LedgerEvent> {
  let from = 1;
  for (;;) {
    const page = ledger.read(runId, { fromSeq: from, limit: 5000 });
    for (const event of page) {
      if (event.seq > until) return;
      yield event;
    }
    if (page.length < 5000) return;
    from = page[page.length - 1]!.seq + 1;
  }
}

const oneLine = (text: string, max = 160) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function describe(item: TranscriptItem): string {
  switch (item.kind) {
    case 'prompt':
      return `[${item.seq}] you (turn ${item.turn}): ${oneLine(item.text)}`;
    case 'message':
      return `[${item.firstSeq}-${item.lastSeq}] agent: ${oneLine(item.text)}`;
    case 'thought':
      return `[${item.firstSeq}-${item.lastSeq}] thought: ${oneLine(item.text)}`;
    case 'tool':
      return `[${item.firstSeq}-${item.lastSeq}] tool ${item.title || item.toolCallId} (${item.status})${item.diffs.length ? `, ${item.diffs.length} file(s) changed` : ''}${item.output ? `: ${oneLine(item.output, 100)}` : ''}`;
    case 'turn_end':
      return `[${item.seq}] turn ${item.turn} ended: ${item.stopReason}`;
    case 'repair':
      return `[${item.seq}] LEDGER REPAIRED: cut ${item.truncatedBytes} bytes (${item.reason}); kept through seq ${item.keptThroughSeq}; saved in ${item.brokenFile}`;
    case 'note':
      return `[${item.seq}] note: ${oneLine(item.text)}`;
    case 'approval':
      return `[${item.seq}] approval (${item.action.kind}) ${item.action.title}: ${item.status}${item.decision ? ` ${item.decision} by ${item.by}` : ''}${item.ref ? ` (carried over from ${item.ref})` : ''}`;
    case 'recovery':
      return `[${item.seq}] RECOVERY ${item.recovery}: ${item.text}`;
    case 'command':
      return `[${item.seq}-${item.lastSeq}] $ ${[item.command, ...item.args].join(' ')} -> ${item.status === 'exited' ? `exit ${item.exitCode ?? item.signal}` : 'running'}`;
    case 'file_write':
      return `[${item.seq}] wrote ${item.path} (${item.bytes} bytes${item.created ? ', new' : ''})`;
    case 'checkpoint':
      return `[${item.seq}] checkpoint ${item.event}${item.turn === null ? '' : ` (turn ${item.turn})`}: ${oneLine(item.text)}`;
  }
}

function print(view: RunView): void {
  const progress = view.progress.percent === null ? 'no plan' : `${view.progress.percent}% of plan`;
  process.stdout.write(
    [
      `run ${view.runId} at seq ${view.lastSeq} (${view.eventCount} events)`,
      `state: ${view.state}${view.stopReason ? ` (${view.stopReason})` : ''}; ${progress}; turn ${view.currentTurn}`,
      `workspace: ${view.workspace ?? '?'}; agent: ${view.agent?.kind ?? '?'}${view.agent?.script ? ` (${view.agent.script})` : ''}`,
      '',
      ...view.items.map(describe),
    ].join('\n') + '\n',
  );
}

export function registerReplay(program: Command): void {
  withDataOption(program.command('replay'))
    .description("fold a run's ledger into its state at any point")
    .requiredOption('--run <id>', 'the run')
    .option('--until <seq>', 'stop after this seq (default: the end)', (value) => {
      const seq = Number(value);
      if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`--until must be a non-negative integer, got "${value}".`);
      return seq;
    })
    .option('--json', 'print the RunView as JSON')
    .action(async (options: LedgerCommandOptions & { run: string; until?: number; json?: boolean }) => {
      const { ledger } = await openForCommand({ ...options, readOnly: true }, 'read');
      try {
        if (!ledger.run(options.run)) throw new Error(`No run ${options.run} in ${ledger.dataDir}.`);
        const view = fold(eventsOf(ledger, options.run, options.until ?? Number.MAX_SAFE_INTEGER), options.run);
        if (options.json) process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        else print(view);
      } finally {
        await ledger.close();
      }
    });
}
