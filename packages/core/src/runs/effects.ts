import fs from 'node:fs';
import { AgentEngineGoneError } from '../runtime/index.js';
import { armCancelDeadline, boundedDelivery } from './cancel-deadline.js';
import type { Effect } from './inputs.js';
import type { RunController } from './run-controller.js';

/**
 * Runs one effect of a durable decision. Each publishes a receipt when done, and whatever it
 * learns goes back to the decider as a new input — effects decide nothing themselves.
 */
export async function runEffect(run: RunController, effect: Effect): Promise<void> {
  const { supervisor, receipts } = run;
  switch (effect.kind) {
    case 'spawn': {
      // A run whose worktree is missing: the drift check queued before this recreates it first.
      if (!fs.existsSync(run.view.workspace)) await run.checkpoints.idle();
      let command: string[];
      try {
        command = run.agentCommand();
      } catch (error) {
        await run.dispatch({ kind: 'spawn_failed', command: [], detail: (error as Error).message, attempts: supervisor.backoff.attemptsUsed });
        return;
      }
      await supervisor.spawn(effect.generation, command);
      const pid = supervisor.generation?.process?.pid;
      if (pid !== undefined) receipts.publish({ kind: 'generation.spawned', generation: effect.generation, pid });
      return;
    }
    case 'initialize':
      return supervisor.initialize(effect.generation, run.view.sessionId);
    case 'mark_ready':
      supervisor.markReady(effect.generation);
      receipts.publish({ kind: 'generation.ready', generation: effect.generation });
      return;
    case 'send_turn':
      return sendTurn(run, effect);
    case 'cancel_turn': {
      const adapter = supervisor.generation?.number === effect.generation ? supervisor.generation.adapter : null;
      // The agent gets a bounded time to end the turn; then Keel stops it (a hung agent ignores the cancel).
      armCancelDeadline((input) => run.dispatch(input), effect.generation, effect.turn);
      try {
        await boundedDelivery(adapter?.cancel());
      } finally {
        await run.dispatch({ kind: 'cancel_delivered' });
        receipts.publish({ kind: 'turn.cancel_delivered', generation: effect.generation });
      }
      return;
    }
    case 'answer':
      if (run.waiters.answer(effect.approvalId, effect.answer, effect.grant)) receipts.publish({ kind: 'approval.answered', approvalId: effect.approvalId, answer: effect.answer });
      return;
    case 'arm_approval_timer':
      run.waiters.armTimeout(effect.approvalId, effect.timeoutMs, () => run.guard(run.dispatch({ kind: 'approval_timed_out', approvalId: effect.approvalId })));
      return;
    case 'kill':
      supervisor.kill(effect.generation, effect.reason);
      receipts.publish({ kind: 'generation.killed', generation: effect.generation, reason: effect.reason });
      return;
    case 'stop':
      return supervisor.stop(effect.generation, effect.graceMs !== undefined ? { graceMs: effect.graceMs } : {});
    case 'checkpoint':
    case 'drift_check':
    case 'restore':
      return run.checkpoints.start(effect);
    case 'schedule_restart':
      supervisor.armRestart(effect.attempt, effect.delayMs, effect.reason);
      receipts.publish({ kind: 'restart.scheduled', attempt: effect.attempt, delayMs: effect.delayMs });
      return;
  }
}

/** Sends a recorded prompt to the generation; its answer (or failure) is the turn's end. */
async function sendTurn(run: RunController, effect: Extract<Effect, { kind: 'send_turn' }>): Promise<void> {
  const generation = run.supervisor.generation;
  if (generation?.number !== effect.generation || !generation.adapter) return;
  await run.checkpoints.idle(); // The previous turn's checkpoint (or the baseline) first.
  if (run.supervisor.generation !== generation || !generation.adapter) return;
  run.supervisor.touch(generation);
  const sent = generation.adapter.prompt(effect.text, effect.ik);
  run.receipts.publish({ kind: 'turn.sent', generation: effect.generation, turn: effect.turn });
  let finished: { stopReason: string; note?: string; noteGeneration?: boolean };
  try {
    const { stopReason, detail } = await sent;
    finished = { stopReason, ...(detail ? { note: detail, noteGeneration: true } : {}) };
  } catch (error) {
    if (generation.disconnected || !generation.process?.running || run.supervisor.generation !== generation) return; // The exit path decides.
    if (error instanceof AgentEngineGoneError) {
      await run.dispatch({ kind: 'engine_lost', generation: effect.generation, detail: (error as Error).message });
      return;
    }
    finished = { stopReason: 'agent_error', note: `The agent answered turn ${effect.turn} with an error: ${(error as Error).message}` };
  }
  await run.dispatch({ kind: 'turn_finished', generation: effect.generation, turn: effect.turn, ...finished });
}
