import { z } from 'zod';
import { procedure } from './define.js';
import { AgentCatalog, AppInfo } from './schemas/app.js';
import { MAX_VIEW_WINDOW_ITEMS, RunView, RunViewWindow } from './schemas/replay.js';
import { replayViewerProcedures } from './schemas/replay-viewer.js';
import { changesProcedures } from './schemas/changes.js';
import { runListProcedures } from './schemas/run-list.js';
import { PolicyLog, PolicyOverview, PolicyRuleProposal } from './schemas/policy.js';
import { CheckpointDiffView, RestoreOutcome, RunCheckpointsView } from './schemas/checkpoints.js';
import { SettingsPatch, SettingsView } from './schemas/settings.js';
import { LiveExportStatus } from './schemas/sinks.js';
import { WorkspaceCheck } from './schemas/workspace-check.js';
import { AgentSpec, ApprovalDecision, ApprovalMode, RunId, RunSummary, VerifyReport } from './schemas/ledger.js';
import { ReliabilityOverview, RunReliabilityFacts, ScenarioName } from './schemas/reliability.js';

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
        /** Work in the run's own git worktree on branch keel/<run> under the data directory. */
        worktree: z.boolean().optional(),
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
  'run.viewWindow': procedure({
    description:
      "A run's state at its latest seq with a window of its transcript: `view.items` are items `itemsFrom`.. of `itemCount` (by default the newest VIEW_WINDOW_ITEMS), so a long run opens without its whole transcript; continue with run.events from view.lastSeq + 1 and page earlier items with itemsFrom.",
    input: z
      .object({
        runId: RunId,
        itemsFrom: z.number().int().nonnegative().optional(),
        itemsLimit: z
          .number()
          .int()
          .min(1, 'itemsLimit must be at least 1 item')
          .max(MAX_VIEW_WINDOW_ITEMS, `itemsLimit must be at most ${MAX_VIEW_WINDOW_ITEMS} items a call; page with itemsFrom`)
          .optional(),
      })
      .strict(),
    output: RunViewWindow,
  }),
  'run.prompt': procedure({
    description: 'Send a prompt: recorded first, then sent; starts the agent if needed.',
    input: z.object({ runId: RunId, text: z.string().min(1).max(1_000_000) }).strict(),
    output: z.object({ turn: z.number().int().positive(), ik: z.string() }),
  }),
  'run.cancel': procedure({
    description: 'Cancel the running turn (the agent gets a few seconds, then Keel stops it); force: stop the agent now (Force stop).',
    input: z.object({ runId: RunId, force: z.boolean().optional() }).strict(),
    output: z.object({}),
  }),
  'approval.decide': procedure({
    description: 'Answer an approval request (allow once, allow for this run, deny).',
    input: z.object({ runId: RunId, approvalId: z.string().min(1).max(100), decision: ApprovalDecision }).strict(),
    output: z.object({}),
  }),
  'agents.check': procedure({
    description: 'Check an agent before a run uses it: the program on PATH, and for ACP an initialize handshake (10 s); the problem in plain words.',
    input: z.object({ agent: AgentSpec, workspace: z.string().min(1).max(4096) }).strict(),
    output: z.object({ ok: z.boolean(), problem: z.string().nullable() }),
  }),
  'run.setAgent': procedure({
    description: "Change a run's agent (checked first; recorded as run.agent_changed). A running agent process restarts as the new agent.",
    input: z.object({ runId: RunId, agent: AgentSpec }).strict(),
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
  'run.rename': procedure({
    description: "Rename a run (recorded as run.renamed; the list and the header show it).",
    input: z.object({ runId: RunId, title: z.string().trim().min(1, 'Type a title.').max(500) }).strict(),
    output: z.object({}),
  }),
  'workspace.check': procedure({
    description: 'Check a workspace path before creating a run: ~ expanded, exists, a folder, a git repository; the problem in plain words.',
    input: z.object({ path: z.string().max(4096) }).strict(),
    output: WorkspaceCheck,
  }),
  'workspace.init': procedure({
    description: 'Make an existing folder a git repository (git init), for a workspace that is not one yet.',
    input: z.object({ path: z.string().min(1).max(4096) }).strict(),
    output: WorkspaceCheck,
  }),
  'settings.get': procedure({
    description: 'The user settings (auto-resume, idle stop, approval timeout, theme, default script) and the file they live in.',
    input: z.object({}).strict(),
    output: SettingsView,
  }),
  'settings.update': procedure({
    description: 'Change some settings; written atomically; answers the settings as stored.',
    input: z.object({ patch: SettingsPatch }).strict(),
    output: SettingsView,
  }),
  'sinks.liveExport': procedure({
    description: 'How the live OpenTelemetry exporter is doing: off, running or retrying, where it sends, spans sent, the last problem.',
    input: z.object({}).strict(),
    output: LiveExportStatus,
  }),
  'checkpoints.list': procedure({
    description: "A run's checkpoints (turn, commit, files changed; skipped ones with the reason), from its hidden refs and sidecars.",
    input: z.object({ runId: RunId }).strict(),
    output: RunCheckpointsView,
  }),
  'checkpoints.diff': procedure({
    description: 'What turn N changed: its checkpoint against the previous one, per file with unified diffs (optionally one file).',
    input: z.object({ runId: RunId, turn: z.number().int().nonnegative(), file: z.string().min(1).max(4096).optional() }).strict(),
    output: CheckpointDiffView,
  }),
  'checkpoints.restore': procedure({
    description: "Restore the workspace (or only some files) to turn N's checkpoint: a safety checkpoint first, all or nothing. Refused while a turn runs.",
    input: z.object({ runId: RunId, turn: z.number().int().nonnegative(), files: z.array(z.string().min(1).max(4096)).min(1).max(10_000).optional() }).strict(),
    output: RestoreOutcome,
  }),
  'runtime.restart': procedure({
    description: "Restart a run's agent process (a fresh restart budget).",
    input: z.object({ runId: RunId }).strict(),
    output: z.object({}),
  }),
  'policy.show': procedure({
    // Only a run's workspace (or none: the built-in and user layers): the renderer names no paths (I11).
    description: "The policy a run's workspace files give now (layers, rules, defaults, hash, validation), and the hash in force in the run.",
    input: z.object({ runId: RunId.optional() }).strict(),
    output: PolicyOverview,
  }),
  'policy.decisions': procedure({
    description: "A run's policy events: the policy loaded, files refused, every decision (allowed ones too), rules added.",
    input: z.object({ runId: RunId }).strict(),
    output: PolicyLog,
  }),
  'policy.proposeRule': procedure({
    description: "Always allow this: the rules that would allow an approval's request, as a diff of the workspace's .keel/policy.yaml (nothing written).",
    input: z.object({ runId: RunId, approvalId: z.string().min(1).max(100) }).strict(),
    output: PolicyRuleProposal,
  }),
  'policy.addRule': procedure({
    description: 'Writes a proposed rule into the workspace policy (validated, atomically, refused if the file changed since) and records it in the run.',
    input: z.object({ runId: RunId, approvalId: z.string().min(1).max(100), before: z.string().nullable() }).strict(),
    output: z.object({ file: z.string(), sha256: z.string(), hash: z.string() }),
  }),
  'reliability.overview': procedure({
    description: 'The latest reliability scorecard and the history of scorecards (a trend per SLO), from <data>/reliability.',
    input: z.object({}).strict(),
    output: ReliabilityOverview,
  }),
  'reliability.run': procedure({
    description: 'Start the reliability harness (quick profile; all scenarios unless some are named) in the host; progress on reliability.progress. One run at a time.',
    input: z
      .object({ seed: z.number().int().nonnegative().max(2 ** 32 - 1).optional(), scenarios: z.array(ScenarioName).min(1).max(ScenarioName.options.length).optional() })
      .strict(),
    output: z.object({ started: z.boolean(), seed: z.number().int().nonnegative() }),
  }),
  'reliability.runFacts': procedure({
    description: "A run's reliability facts from its ledger: restarts, recovery times (exit -> restart -> bound), approvals reset and carried, remaps.",
    input: z.object({ runId: RunId }).strict(),
    output: RunReliabilityFacts,
  }),
  ...replayViewerProcedures,
  ...changesProcedures,
  ...runListProcedures,
} as const;

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type ProcedureInput<M extends ProcedureName> = z.input<Procedures[M]['input']>;
export type ProcedureOutput<M extends ProcedureName> = z.output<Procedures[M]['output']>;
