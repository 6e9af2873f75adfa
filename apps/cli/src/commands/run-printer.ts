import { quoteWord, type LedgerEvent } from '@keel/core';

const line = (text: string) => process.stdout.write(`${text}\n`);

/**
 * Prints a run's ledger events as a readable transcript, as they commit. Streamed text is
 * written as it comes; everything else is one line, prefixed so a reader can scan it.
 */
export function createTranscriptPrinter(): (event: LedgerEvent) => void {
  let streaming: 'message' | 'thought' | 'terminal' | null = null;
  let atLineStart = true;
  const write = (text: string) => {
    if (text.length === 0) return;
    process.stdout.write(text);
    atLineStart = text.endsWith('\n');
  };
  const endStream = () => {
    if (streaming && !atLineStart) write('\n');
    streaming = null;
  };
  return (event) => {
    const p = event.payload as Record<string, any>;
    switch (event.type) {
      case 'message.chunk':
        if (streaming !== 'message') {
          endStream();
          write('agent: ');
        }
        streaming = 'message';
        write(p.text);
        return;
      case 'thought.chunk':
        if (streaming !== 'thought') {
          endStream();
          write('(thinking) ');
        }
        streaming = 'thought';
        write(p.text);
        return;
      case 'terminal.output':
        if (streaming !== 'terminal') {
          endStream();
          write('  | ');
        } else if (atLineStart) write('  | ');
        streaming = 'terminal';
        write(String(p.text).replace(/\n(?!$)/g, '\n  | '));
        return;
    }
    endStream();
    switch (event.type) {
      case 'run.created':
        return line(`run ${event.run_id} on ${p.workspace} with the ${p.agent.kind} agent${p.agent.script ? ` (${p.agent.script})` : ''}`);
      case 'prompt.sent':
        return line(`you (turn ${p.turn}): ${p.text}`);
      case 'plan.updated':
        return line(`plan: ${p.entries.map((entry: { content: string; status: string }) => `[${entry.status === 'completed' ? 'x' : entry.status === 'in_progress' ? '~' : ' '}] ${entry.content}`).join('  ')}`);
      case 'tool.started':
        return line(`> ${p.title}${p.kind ? ` (${p.kind})` : ''}`);
      case 'tool.updated':
        if (p.diff) return line(`  ~ ${p.diff.path} changed`);
        if (p.status === 'completed' || p.status === 'failed') return line(`  ${p.status}`);
        return;
      case 'session.handoff':
        return line(`[keel] the fresh session of generation ${p.generation} gets the run so far with turn ${p.turn} (${p.text.length} chars${p.truncated ? ', oldest cut' : ''})`);
      case 'tool.interrupted':
        return line(`  interrupted: ${p.toolCallIds.length} tool call(s) of generation ${p.generation} never finished (${p.reason})`);
      case 'approval.requested':
        return line(`? ${p.action.kind} approval: ${p.action.title} — ${p.reason}`);
      case 'approval.decided':
        return line(`  -> ${p.decision} (${p.by}${p.ref ? `, carried over from ${p.ref}` : ''})`);
      case 'approval.timed_out':
        return line('  -> timed out (not a denial)');
      case 'approval.cancelled':
        return line(`  -> cancelled: ${p.reason}`);
      case 'approval.reset':
        return line(`! ${p.approvalIds.length} pending approval(s) reset: ${p.reason}`);
      case 'fs.written':
        return line(`  wrote ${p.path} (${p.bytes} bytes)`);
      case 'terminal.started':
        // Quoted as a shell would need it, so the line shows what really ran (and can be pasted).
        return line(`  $ ${commandLine(p.command, p.args)}`);
      case 'terminal.exited':
        return line(`  exit ${p.exitCode ?? p.signal}`);
      case 'runtime.started':
        return line(`! agent started (generation ${p.generation}, pid ${p.pid})`);
      case 'runtime.exited':
        return p.expected ? undefined : line(`! agent exited (generation ${p.generation}, ${p.signal ?? `code ${p.code}`})`);
      case 'runtime.restarting':
        return line(`! restarting the agent in ${p.delayMs} ms (attempt ${p.attempt}, ${p.reason})`);
      case 'runtime.stopped':
        return line(`! runtime stopped: ${p.stopReason} — ${p.detail}`);
      case 'runtime.hang':
        return line(`! the agent was silent for ${p.idleMs} ms during a turn: killed`);
      case 'runtime.protocol_error':
        return line(`! protocol error (${p.kind}): ${p.detail}`);
      case 'session.bound':
        return line(`! session ${p.outcome}${p.remapped ? ' (remapped)' : ''}${p.detail ? `: ${p.detail}` : ''}`);
      case 'run.recovered':
        return line(`! run recovered after ${p.reason} (was ${p.previousState})`);
      case 'turn.ended':
        return line(`turn ${p.turn} ended: ${p.stopReason}`);
      case 'note':
        return line(`note: ${p.text}`);
      case 'ledger.repaired':
        return line(`! ledger repaired: ${p.reason}`);
      default:
        return;
    }
  };
}

/** argv as one shell line: `sh -c 'cat hello.txt && echo tests passed'`, not the words run together. */
export function commandLine(command: string, args: readonly string[] = []): string {
  return [command, ...args].map(quoteWord).join(' ');
}
