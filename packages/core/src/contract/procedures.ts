import { z } from 'zod';
import { procedure } from './define.js';
import { AgentCatalog, AppInfo } from './schemas/app.js';
import { RunView } from './schemas/replay.js';
import { AgentSpec, ApprovalDecision, ApprovalMode, RunId, RunSummary, VerifyReport } from './schemas/ledger.js';

/** Every procedure Keel exposes, as data. Transports, router and client derive from this. */
export const procedures = {
  'app.info': procedure({
    description: 'Version, data directory, platform, mode and engine health.',
    input: z.object({}).strict(),
    output: AppInfo,
  }),
  'ledger.verify': procedure({
    description: 'Compare both ledger stores per run (count, max seq, contiguity, chained hash).',
    input: z.object({ runId: RunId.optional() }).strict(),
    output: VerifyReport,
  }),
  'runs.create': procedure({
    description: 'Create a run: a workspace folder and an agent. The agent starts with the first prompt.',
    input: z
      .object({
        workspace: z.string().min(1).max(4096),
        agent: AgentSpec,
        title: z.string().max(500).optional(),
        approvalMode: ApprovalMode.optional(),
      })
      .strict(),
    output: RunSummary,
  }),
  'runs.list': procedure({
    description: 'Every run with its state, agent, workspace and stop reason.',
    input: z.object({}).strict(),
    output: z.array(RunSummary),
  }),
  'run.view': procedure({
    description: "A run's transcript state folded at its latest seq (core's fold, I9); continue with run.events from lastSeq + 1.",
    input: z.object({ runId: RunId }).strict(),
    output: RunView,
  }),
  'run.prompt': procedure({
    description: 'Send a prompt: recorded first, then sent; starts the agent if needed.',
    input: z.object({ runId: RunId, text: z.string().min(1).max(1_000_000) }).strict(),
    output: z.object({ turn: z.number().int().positive(), ik: z.string() }),
  }),
  'run.cancel': procedure({
    description: 'Cancel the running turn.',
    input: z.object({ runId: RunId }).strict(),
    output: z.object({}),
  }),
  'approval.decide': procedure({
    description: 'Answer an approval request (allow once, allow for this run, deny).',
    input: z.object({ runId: RunId, approvalId: z.string().min(1).max(100), decision: ApprovalDecision }).strict(),
    output: z.object({}),
  }),
  'agents.list': procedure({
    description: 'What a new run can use: the built-in scripts, and agents found on PATH.',
    input: z.object({}).strict(),
    output: AgentCatalog,
  }),
  'app.chooseFolder': procedure({
    description: 'A native folder picker (Electron only; headless answers unavailable).',
    input: z.object({ title: z.string().max(200).optional() }).strict(),
    output: z.object({ path: z.string().nullable() }),
  }),
  'runtime.restart': procedure({
    description: "Restart a run's agent process (a fresh restart budget).",
    input: z.object({ runId: RunId }).strict(),
    output: z.object({}),
  }),
} as const;

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type ProcedureInput<M extends ProcedureName> = z.input<Procedures[M]['input']>;
export type ProcedureOutput<M extends ProcedureName> = z.output<Procedures[M]['output']>;
