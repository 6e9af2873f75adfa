import type { RunState } from '../replay/index.js';
import { createAdapter, GENERATION_TAG_VAR, type SessionBinding, type SupervisorReports } from '../runtime/index.js';
import { serveAgentRequests } from './agent-requests.js';
import { buildHandoff } from './handoff.js';
import type { RunController } from './run-controller.js';
import { viewNow } from './run-view-snapshots.js';

const definedOnly = (env: NodeJS.ProcessEnv | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(env ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));

/** What the supervisor reports about a run's generations, each turned into a decider input. */
export function supervisorReports(run: RunController): SupervisorReports {
  const state = (): Readonly<RunState> => run.view;
  return {
    createAdapter: (generation, channel) => {
      const { host, terminals } = serveAgentRequests(generation, {
        workspace: state().workspace,
        // Commands Keel runs for the agent carry its tag too: a detached one is swept with it.
        env: { [GENERATION_TAG_VAR]: generation.tag },
        runEnv: definedOnly(run.options.env),
        waiters: run.waiters,
        policy: run.policy,
        dispatch: (input) => run.dispatch(input),
        live: () => run.supervisor.generation === generation && generation.lifecycle !== 'exited',
        whileBusy: (work) => run.supervisor.whileBusy(generation, work),
        touch: () => run.supervisor.touch(generation),
        protocolError: (kind, detail, sample) => run.supervisor.protocolError(generation.number, kind, detail, sample),
      });
      run.terminals.set(generation.number, terminals);
      return createAdapter(state().agent, channel, host, { cwd: state().workspace });
    },
    spawned: (generation, pid, command, tag) => run.dispatch({ kind: 'agent_spawned', generation, pid, command, hostPid: process.pid, tag }),
    spawnFailed: (command, detail, attempts) => run.dispatch({ kind: 'spawn_failed', command, detail, attempts }),
    bound: (generation, result, attempts) =>
      run.dispatch(
        result.bound
          ? { kind: 'session_bound', generation, binding: result.binding, history: result.history, handoff: handoffFor(run, result.binding) }
          : { kind: 'session_unavailable', generation, binding: result.binding, attempts },
      ),
    startFailed: (generation, message) => run.dispatch({ kind: 'start_failed', generation, message }),
    hang: (generation, idleMs, whileStarting) => run.dispatch({ kind: 'hang', generation, idleMs, whileStarting }),
    protocolError: (generation, errorKind, detail, sample, fatal) =>
      run.dispatch({ kind: 'protocol_error', generation, errorKind, detail, ...(sample ? { sample } : {}), fatal }),
    ending: async (generation) => {
      run.waiters.lapse(generation);
      run.policy.forget(generation);
      await run.terminals.get(generation)?.killAll();
      run.terminals.delete(generation);
    },
    exited: async (exit) => {
      await run.dispatch({ kind: 'agent_exited', exit });
      run.receipts.publish({ kind: 'generation.exited', generation: exit.generation, expected: exit.expected });
    },
    restartDue: (attempt, reason) => run.guard(run.dispatch({ kind: 'start', reason: `restart ${attempt} after ${reason}` })),
    turnOpen: () => state().openTurn !== null,
  };
}

/** A fresh session of a run that already has turns needs the run so far (I6), read from the ledger. */
function handoffFor(run: RunController, binding: SessionBinding): { text: string; truncated: boolean } | null {
  if (binding.outcome !== 'fresh' || run.view.currentTurn === 0) return null;
  return buildHandoff(viewNow(run.ledger, run.runId), run.view.openTurn);
}
