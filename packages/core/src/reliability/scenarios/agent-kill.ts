// kill -9 of the agent's process group at a seeded moment: mid-stream, mid-tool-call, and while an
// approval waits for the user (its decision must be applied exactly once when asked again).
import fs from 'node:fs';
import path from 'node:path';
import { checkApprovalContinuity } from '../checkers.js';
import { writeScript } from '../run-kit.js';
import { randomInt, type Scenario } from '../scenario.js';
import { eachFault, expectThat } from './judge.js';

const STREAM_CHUNKS = 60;

function streamScript(dir: string): string {
  const turn = { steps: [{ message: 'Starting a long answer.' }, { stream: { count: STREAM_CHUNKS, delayMs: 5 } }, { message: 'Done streaming.' }] };
  return writeScript(dir, 'reliability-stream', [turn, turn, turn]);
}

// The command sleeps the first time only (a marker file), so the resumed turn finishes at once.
function toolScript(dir: string): string {
  const command = 'if [ -f .keel-reliability-marker ]; then echo finished; else touch .keel-reliability-marker; echo started; sleep 30; fi';
  const turn = { steps: [{ message: 'Running a long command.' }, { run: { command: 'sh', args: ['-c', command] } }, { message: 'The command is done.' }] };
  return writeScript(dir, 'reliability-tool', [turn, turn]);
}

export const agentKillMidStream: Scenario = {
  name: 'agent-kill-mid-stream',
  description: 'kill -9 of the agent after a seeded number of streamed chunks; the session is re-bound and the next prompt completes.',
  iterations: { unit: 1, quick: 2, full: 100 },
  async run(ctx) {
    const script = streamScript(ctx.workDir);
    const tally = await eachFault(
      ctx,
      {},
      async (run, index, tally) => {
        const label = `fault ${index}`;
        await run.controller.start();
        const killAfter = randomInt(ctx.rand, 1, STREAM_CHUNKS - 10);
        const { turn } = await run.controller.prompt(`Stream for me (fault ${index})`);
        let chunks = 0;
        await run.waitFor((event) => event.type === 'message.chunk' && ++chunks >= killAfter, `${killAfter} streamed chunks`);
        const mark = run.lastSeq();
        run.controller.killAgent();
        await run.waitForType('session.bound', 'the next generation bound', mark);
        const first = await run.controller.waitForTurn(turn);
        await run.waitIdle();
        const next = await run.promptToEnd(`Go on (fault ${index})`);
        return expectThat(tally, label, 'the killed turn', first, 'agent_restarted') && expectThat(tally, label, 'the next turn', next, 'end_turn');
      },
      (host, index) => host.createRun({ workspace: path.join(ctx.workDir, `ws-${index}`), script }),
    );
    return tally.outcome();
  },
};

export const agentKillMidTool: Scenario = {
  name: 'agent-kill-mid-tool',
  description: 'kill -9 of the agent while Keel runs a command for it; the tool call ends interrupted, the command is killed, the resumed turn completes.',
  iterations: { unit: 1, quick: 1, full: 50 },
  async run(ctx) {
    const script = toolScript(ctx.workDir);
    const tally = await eachFault(
      ctx,
      {},
      async (run, index, tally) => {
        const label = `fault ${index}`;
        await run.controller.start();
        const { turn } = await run.controller.prompt(`Run the command (fault ${index})`);
        // Seeded moment: once the command runs (it has printed), up to 200 ms into it. (Earlier, the
        // marker would not exist yet and the resumed command would sleep its full 30 s.)
        await run.waitForType('terminal.output', 'the command to print', 0, (payload) => String(payload.text).includes('started'));
        await new Promise((resolve) => setTimeout(resolve, randomInt(ctx.rand, 0, 200)));
        const mark = run.lastSeq();
        run.controller.killAgent();
        const interrupted = await run.waitForType('tool.interrupted', 'the open tool call to end interrupted', mark);
        await run.waitForType('session.bound', 'the next generation bound', mark);
        const first = await run.controller.waitForTurn(turn);
        await run.waitIdle();
        const next = await run.promptToEnd(`Go on (fault ${index})`);
        return (
          expectThat(tally, label, 'the interrupted generation', (interrupted.payload as { generation: number }).generation, 1) &&
          expectThat(tally, label, 'the killed turn', first, 'agent_restarted') &&
          expectThat(tally, label, 'the next turn', next, 'end_turn')
        );
      },
      (host, index) => host.createRun({ workspace: path.join(ctx.workDir, `ws-${index}`), script, approvalMode: 'all' }),
    );
    return tally.outcome();
  },
};

export const agentKillAwaitingApproval: Scenario = {
  name: 'agent-kill-awaiting-approval',
  description:
    'kill -9 of the agent while an approval waits; the approval is reset visibly, the user decides it late, and the next generation asking the same action gets that decision exactly once.',
  iterations: { unit: 1, quick: 1, full: 50 },
  async run(ctx) {
    const tally = await eachFault(
      ctx,
      {},
      async (run, index, tally) => {
        const label = `fault ${index}`;
        await run.controller.start();
        const { turn } = await run.controller.prompt(`Write hello.txt and check it (fault ${index})`);
        const request = await run.waitForType('approval.requested');
        await run.waitForType('run.state', 'awaiting_approval', request.seq, (payload) => payload.state === 'awaiting_approval');
        const mark = run.lastSeq();
        run.controller.killAgent();
        await run.waitForType('approval.reset', 'the pending approval to be reset', mark);
        await run.waitForType('session.bound', 'the next generation bound', mark);
        const first = await run.controller.waitForTurn(turn);
        await run.waitIdle();
        // The user answers the orphaned card late; the next generation asks again and gets it.
        await run.controller.decide((request.payload as { approvalId: string }).approvalId, 'allow_once');
        const stop = run.answerApprovals('allow_once');
        const next = await run.promptToEnd(`Continue (fault ${index})`).finally(stop);
        const continuity = checkApprovalContinuity(run.events());
        for (const problem of continuity.problems) tally.problem(`${label}: ${problem}`);
        const writes = run.events().filter((event) => event.type === 'fs.written' && String((event.payload as { path: string }).path).endsWith('hello.txt')).length;
        const appliedOnce = expectThat(tally, label, 'writes of hello.txt', writes, 1) && fs.existsSync(path.join(run.controller.view.workspace, 'hello.txt'));
        tally.add({ orphanedApprovals: continuity.orphaned, orphanedApprovalsHonoured: appliedOnce ? continuity.honoured : 0 });
        return (
          expectThat(tally, label, 'orphaned approvals decided', continuity.orphaned, 1) &&
          expectThat(tally, label, 'the killed turn', first, 'agent_restarted') &&
          expectThat(tally, label, 'the next turn', next, 'end_turn')
        );
      },
      (host, index) => host.createRun({ workspace: path.join(ctx.workDir, `ws-${index}`), script: 'edit-and-test' }),
    );
    return tally.outcome();
  },
};
