// Agent misbehaviour through the built-in agent's fault knobs: a hang (the watchdog kills and
// restarts it), garbage / invalid UTF-8 / oversize output, a forgotten session (exactly one visible
// remap) and a restart storm that must end in a stopped runtime once the budget is spent.
import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../../contract/errors.js';
import { checkRemap } from '../checkers.js';
import { guarded, type ScenarioRun } from '../run-kit.js';
import type { Scenario } from '../scenario.js';
import { eachFault, expectThat } from './judge.js';

// The watchdog also bounds agent start-up: leave room for a loaded machine.
const HANG_TIMEOUT_MS = 3_000;
const MAX_MESSAGE_BYTES = 64 * 1024;
const STORM_ATTEMPTS = 3;

const workspace = (dir: string, index: number) => path.join(dir, `ws-${index}`);

export const agentHang: Scenario = {
  name: 'agent-hang',
  description: `The agent stops answering mid-turn; the hang watchdog (${HANG_TIMEOUT_MS} ms) kills it, the turn ends agent_hung, the next generation completes the next prompt.`,
  iterations: { unit: 1, quick: 1, full: 10 },
  async run(ctx) {
    const tally = await eachFault(
      ctx,
      { hangTimeoutMs: HANG_TIMEOUT_MS },
      async (run, index, tally) => {
        const label = `fault ${index}`;
        await run.controller.start();
        const { turn } = await run.controller.prompt('Say hello');
        await run.waitForType('runtime.hang', 'the watchdog');
        const first = await run.controller.waitForTurn(turn);
        await run.waitIdle();
        const next = await run.promptToEnd('Go on');
        return expectThat(tally, label, 'the hung turn', first, 'agent_hung') && expectThat(tally, label, 'the next turn', next, 'end_turn');
      },
      (host, index) => host.createRun({ workspace: workspace(ctx.workDir, index), script: 'hello', faults: [`hang-at-step=${1 + Math.floor(ctx.rand() * 4)}`] }),
    );
    return tally.outcome();
  },
};

const BAD_OUTPUT = ['garbage', 'invalid_utf8', 'oversize'] as const;
const FAULT_OF = { garbage: 'garbage-at-step', invalid_utf8: 'invalid-utf8-at-step', oversize: 'big-message-at-step' } as const;

export const agentBadOutput: Scenario = {
  name: 'agent-bad-output',
  description:
    'The agent writes a non-JSON line, a line of invalid UTF-8, or a line over the size limit: recorded as runtime.protocol_error; the first two are survived in place, an oversize line stops the runtime and a restart finishes the work.',
  iterations: { unit: 3, quick: 3, full: 30 },
  async run(ctx) {
    const kindOf = (index: number) => BAD_OUTPUT[(index - 1) % BAD_OUTPUT.length]!;
    const tally = await eachFault(
      ctx,
      { maxMessageBytes: MAX_MESSAGE_BYTES },
      async (run, index, tally) => {
        const kind = kindOf(index);
        const label = `fault ${index} (${kind})`;
        await run.controller.start();
        const first = await run.promptToEnd('Say hello');
        const errors = run.events().filter((event) => event.type === 'runtime.protocol_error').map((event) => (event.payload as { kind: string }).kind);
        if (!expectThat(tally, label, 'the protocol errors recorded', errors.join(','), kind)) return false;
        if (kind !== 'oversize') return expectThat(tally, label, 'the turn', first, 'end_turn') && expectThat(tally, label, 'restarts', run.events().filter((event) => event.type === 'runtime.restarting').length, 0);
        if (!expectThat(tally, label, 'the oversize turn', first, 'protocol_error')) return false;
        await run.waitIdle();
        const mark = run.lastSeq();
        await run.controller.restartRuntime();
        await run.waitForType('session.bound', 'the restarted generation bound', mark);
        await run.waitIdle();
        return expectThat(tally, label, 'the next turn', await run.promptToEnd('Go on'), 'end_turn');
      },
      (host, index) => {
        const kind = kindOf(index);
        const step = 1 + Math.floor(ctx.rand() * 4);
        const fault = kind === 'oversize' ? `${FAULT_OF[kind]}=${step}:${MAX_MESSAGE_BYTES * 3}` : `${FAULT_OF[kind]}=${step}`;
        return host.createRun({ workspace: workspace(ctx.workDir, index), script: 'hello', faults: [fault] });
      },
    );
    return tally.outcome();
  },
};

export const staleSession: Scenario = {
  name: 'stale-session',
  description: 'The agent forgets the session between generations ("not found"): the next binding is fresh and remapped, exactly once and visibly, and the run goes on.',
  iterations: { unit: 1, quick: 1, full: 20 },
  async run(ctx) {
    const tally = await eachFault(
      ctx,
      {},
      async (run, index, tally) => {
        const label = `fault ${index}`;
        await run.controller.start();
        await run.waitForType('session.bound');
        if (ctx.rand() < 0.5) expectThat(tally, label, 'the first turn', await run.promptToEnd('Say hello'), 'end_turn');
        const stateDir = path.join(run.host.dataDir, 'runs', run.runId, 'builtin-agent');
        fs.rmSync(stateDir, { recursive: true, force: true });
        const mark = run.lastSeq();
        run.controller.killAgent();
        await run.waitFor((event) => event.type === 'session.bound' && event.seq > mark, 'the next binding', mark);
        await run.waitIdle();
        const remap = checkRemap(run.events(), mark);
        for (const problem of remap.problems) tally.problem(`${label}: ${problem}`);
        tally.add({ staleSessions: 1, staleSessionsRemapped: remap.remapped ? 1 : 0 });
        return remap.remapped && expectThat(tally, label, 'the next turn', await run.promptToEnd('Say hello again'), 'end_turn');
      },
      (host, index) => host.createRun({ workspace: workspace(ctx.workDir, index), script: 'hello' }),
    );
    return tally.outcome();
  },
};

/** Prompts until the runtime stops; returns each turn's stop reason. */
async function promptUntilStopped(run: ScenarioRun, limit: number): Promise<string[]> {
  const reasons: string[] = [];
  for (let i = 1; i <= limit && run.controller.runState !== 'stopped'; i++) {
    reasons.push(await run.promptToEnd(`Storm prompt ${i}`));
    await run.waitIdle();
  }
  return reasons;
}

export const restartStorm: Scenario = {
  name: 'restart-storm',
  description: `The agent dies on every prompt: each death costs one restart until the budget (${STORM_ATTEMPTS}) is spent, then the runtime stops (runtime_stopped), refuses prompts, and the restart button brings it back.`,
  iterations: { unit: 1, quick: 1, full: 10 },
  async run(ctx) {
    const tally = await eachFault(
      ctx,
      { restart: { baseMs: 20, capMs: 100, maxAttempts: STORM_ATTEMPTS } },
      async (run, index, tally) => {
        const label = `storm ${index}`;
        await run.controller.start();
        const reasons = await promptUntilStopped(run, STORM_ATTEMPTS + 3);
        const stopped = run.events().filter((event) => event.type === 'runtime.stopped').map((event) => event.payload as { stopReason: string; attempts: number });
        const refused = await run.controller.prompt('After the storm').then(
          () => 'accepted',
          (error: unknown) => (error instanceof KeelRpcError ? error.code : String(error)),
        );
        const mark = run.lastSeq();
        await guarded(run.controller.restartRuntime(), 'the restart button');
        await run.waitForType('session.bound', 'the restarted generation bound', mark);
        await run.waitIdle();
        return (
          expectThat(tally, label, 'the last turn', reasons.at(-1), 'runtime_stopped') &&
          expectThat(tally, label, 'runtime stops', stopped.length, 1) &&
          expectThat(tally, label, 'restart attempts spent', stopped[0]?.attempts, STORM_ATTEMPTS) &&
          expectThat(tally, label, 'a prompt to a stopped runtime', refused, 'unavailable')
        );
      },
      (host, index) => host.createRun({ workspace: workspace(ctx.workDir, index), script: 'hello', faults: ['exit-at-step=1:always'] }),
    );
    return tally.outcome();
  },
};
