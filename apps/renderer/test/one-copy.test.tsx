// @vitest-environment jsdom
// Issue 15 point 9: each thing shown once — a command's output, an approval — and disclosure
// arrows that agree with what is on screen.
import { RunViewFold } from '@keel/core/replay';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { PinnedApprovals } from '../src/components/conversation/PinnedApprovals.js';
import { ApprovalCard } from '../src/components/items/ApprovalCard.js';
import { CommandCard } from '../src/components/items/KeelActions.js';
import { OutputBlock } from '../src/components/items/OutputBlock.js';
import { ToolCard } from '../src/components/items/ToolCard.js';
import { approvalItem, EventLog, mockClient, renderWithClient } from './helpers.js';

afterEach(cleanup);

/** A run step as the built-in agent reports it: the call, Keel's terminal embedded in it, the call's output. */
function runStepLog(linked: boolean): EventLog {
  const log = new EventLog();
  log.add('run.created', { workspace: '/work/repo', agent: { kind: 'builtin', script: 'edit-and-test' } });
  log.add('prompt.sent', { turn: 1, text: 'check it', ik: 'ik:1' });
  log.add('tool.started', { toolCallId: 'run-1', title: 'Run sh -c cat hello.txt', kind: 'execute', input: { command: 'sh' } });
  log.add('terminal.started', { terminalId: 'term-1', command: 'sh', args: ['-c', 'cat hello.txt'], cwd: '/work/repo' });
  if (linked) log.add('tool.updated', { toolCallId: 'run-1', terminalId: 'term-1' });
  log.add('terminal.output', { terminalId: 'term-1', text: 'Hello from the check\n' });
  log.add('terminal.exited', { terminalId: 'term-1', exitCode: 0, signal: null });
  log.add('tool.updated', { toolCallId: 'run-1', status: 'completed', output: 'Hello from the check\n' });
  return log;
}

function fold(log: EventLog) {
  const view = new RunViewFold('run-1');
  for (const event of log.events) view.push(event);
  return view.snapshot();
}

describe('a command the agent embedded in its tool call', () => {
  it('the fold ties the command to the call; its output is shown once, in the tool card', () => {
    const view = fold(runStepLog(true));
    const tool = view.items.find((item) => item.kind === 'tool')!;
    const command = view.items.find((item) => item.kind === 'command')!;
    expect(command.kind === 'command' && command.toolCallId).toBe('run-1');
    const { client } = mockClient();
    const { container } = renderWithClient(
      <>
        {tool.kind === 'tool' && <ToolCard item={tool} stateKey="tool" />}
        {command.kind === 'command' && <CommandCard item={command} stateKey="command" />}
      </>,
      client,
    );
    // The text appears once on screen: in the tool card, not again in the Keel ran line.
    expect(container.textContent!.split('Hello from the check').length - 1).toBe(1);
    const line = container.querySelector('.command-card')!;
    expect(line.textContent).toContain('for the tool call above');
    expect(line.textContent).toContain('exit 0');
    // Its own copy of the output is behind a closed toggle that says so, and opens on click.
    const toggle = within(line as HTMLElement).getByRole('button', { expanded: false });
    expect(toggle.textContent).toContain('terminal output · 1 line · show');
    fireEvent.click(toggle);
    expect(line.textContent).toContain('Hello from the check');
  });

  it('while the command runs, the line shows its live output (the call has none yet)', () => {
    const log = runStepLog(true);
    log.events.splice(6); // up to the first output line, before the exit
    const command = fold(log).items.find((item) => item.kind === 'command')!;
    const { container } = renderWithClient(<>{command.kind === 'command' && <CommandCard item={command} stateKey="c" />}</>, mockClient().client);
    expect(container.querySelector('[data-command-status]')?.getAttribute('data-command-status')).toBe('running');
    expect(container.textContent).toContain('Hello from the check');
  });

  it('a command no call embeds keeps its full card with the output', () => {
    const command = fold(runStepLog(false)).items.find((item) => item.kind === 'command')!;
    expect(command.kind === 'command' && command.toolCallId).toBe(null);
    const { container } = renderWithClient(<>{command.kind === 'command' && <CommandCard item={command} stateKey="c" />}</>, mockClient().client);
    expect(container.textContent).not.toContain('for the tool call above');
    expect(container.textContent).toContain('Hello from the check');
  });
});

describe('disclosure arrows agree with what is shown', () => {
  it('short output is shown without any toggle', () => {
    renderWithClient(<OutputBlock output={'one\ntwo\n'} stateKey="o" label="output" />, mockClient().client);
    expect(screen.queryByRole('button')).toBeNull();
    expect(screen.getByTestId('output').textContent).toContain('one\ntwo');
  });

  it('long output says it shows only its last lines while collapsed, and all of them open', () => {
    const output = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n');
    renderWithClient(<OutputBlock output={output} stateKey="long" label="output" />, mockClient().client);
    const toggle = screen.getByRole('button', { expanded: false });
    expect(toggle.textContent).toContain('output · last 3 of 10 lines · show all');
    expect(screen.getByTestId('output').textContent).not.toContain('line 7\n');
    expect(screen.getByTestId('output').textContent).toContain('line 10');
    fireEvent.click(toggle);
    expect(screen.getByRole('button', { expanded: true }).textContent).toContain('output · 10 lines');
    expect(screen.getByTestId('output').textContent).toContain('line 1\n');
  });
});

describe('each approval shown once', () => {
  it('a pending request in the transcript is a single line pointing at its pinned copy, with no facts of its own', () => {
    renderWithClient(<ApprovalCard item={approvalItem()} runId="run-1" />, mockClient().client);
    const card = screen.getByTestId('approval-card');
    expect(screen.getByTestId('approval-pinned-ref').textContent).toContain('pinned above the prompt box');
    expect(card.querySelector('.approval-facts')).toBeNull();
    expect(card.querySelectorAll('button')).toHaveLength(0);
    expect(card.textContent).not.toContain('npm test -- --watch=false');
  });

  it('the pinned copy puts what is asked on its head line and drops the count header for a single request', () => {
    const item = approvalItem({ timeoutMs: 900_000 });
    const base = new RunViewFold('run-1').snapshot();
    renderWithClient(<PinnedApprovals view={{ ...base, items: [item], pendingApprovals: [item.approvalId] }} readOnly={null} />, mockClient().client);
    const pinned = screen.getByTestId('pinned-approval');
    expect(pinned.querySelector('.card-head .approval-title')?.textContent).toContain('wants to run a command');
    expect(pinned.querySelectorAll('.approval-title')).toHaveLength(1);
    expect(pinned.querySelector('.card-head')?.textContent).toContain('waits 15 min');
    expect(screen.getByTestId('pinned-approvals').textContent).not.toContain('approval waiting');
    expect(pinned.querySelectorAll('[data-decision]')).toHaveLength(3);
  });
});
