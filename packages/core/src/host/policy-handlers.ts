import fs from 'node:fs';
import { KeelRpcError, type PolicyOverview, type PolicyRule } from '../contract/index.js';
import { applyRuleProposal, checkRuleProposal, BUILTIN_POLICY, combineLayers, formatPolicyError, loadPolicy, POLICY_EVENT_TYPES, policyFiles, policyLog, proposeRule, ruleKind, type EffectivePolicy } from '../policy/index.js';
import type { RunManager } from '../runs/index.js';
import type { ProcedureHandlers } from './router.js';

type PolicyHandlers = Pick<ProcedureHandlers, 'policy.show' | 'policy.decisions' | 'policy.proposeRule' | 'policy.addRule'>;

/** A rule's patterns as text, for the Policy view. */
function patternsOf(rule: PolicyRule): string[] {
  if (rule.push) return Object.entries(rule.push).map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
  return [...(rule.exec ?? rule.write ?? rule.read ?? rule.network ?? rule.deps ?? [])];
}

function overviewOf(policy: EffectivePolicy): Omit<PolicyOverview, 'workspace' | 'valid' | 'errors' | 'hash' | 'runHash' | 'files'> {
  return {
    rules: policy.rules.map((rule) => ({ id: rule.id, layer: rule.layer, decision: rule.decision, kind: ruleKind(rule), ...(rule.why ? { why: rule.why } : {}), patterns: patternsOf(rule) })),
    defaults: { ...policy.defaults },
    defaultLayers: { ...policy.defaultLayers } as PolicyOverview['defaultLayers'],
    onViolation: policy.onViolation,
  };
}

/** The Policy view's procedures and "Always allow this" (a rule added to the workspace policy, recorded in the run). */
export function policyHandlers(deps: { runs: RunManager; dataDir: string }): PolicyHandlers {
  const { runs, dataDir } = deps;
  const workspaceOf = (runId: string) => runs.workspaceOf(runId);

  /** The approval's request and the policy its workspace's files give now (refused while they are invalid). */
  const proposalFor = async (runId: string, approvalId: string) => {
    const controller = runs.get(runId);
    const approval = controller.view.approvals.get(approvalId);
    if (!approval) throw new KeelRpcError('not_found', `No approval ${approvalId} in run ${runId}.`);
    const workspace = controller.view.workspace;
    const loaded = await loadPolicy({ dataDir, workspace });
    if (!loaded.ok) throw new KeelRpcError('conflict', `The policy files are invalid; fix them first: ${loaded.errors.map(formatPolicyError).join('; ')}`);
    const proposal = await proposeRule(loaded.policy, approval.action, { workspace, ...(approval.action.cwd ? { cwd: approval.action.cwd } : {}) });
    return { controller, approval, proposal };
  };

  return {
    'policy.show': async ({ runId }) => {
      const workspace = runId ? workspaceOf(runId) : null;
      const loaded = await loadPolicy({ dataDir, workspace });
      const files = policyFiles({ dataDir, workspace }).map(({ name, file }) => ({ layer: name, file, exists: fs.existsSync(file) }));
      const runHash = runId ? (policyLog(runId, runs.eventsOfTypes(runId, POLICY_EVENT_TYPES)).entries.findLast((entry) => entry.type === 'policy.loaded')?.payload as { hash: string } | undefined)?.hash ?? null : null;
      const policy = loaded.ok ? loaded.policy : combineLayers([{ name: 'builtin', file: null, policy: BUILTIN_POLICY }]);
      return {
        workspace,
        valid: loaded.ok,
        errors: loaded.ok ? [] : loaded.errors.map(formatPolicyError),
        hash: loaded.ok ? loaded.policy.hash : null,
        runHash,
        files,
        ...overviewOf(policy),
      };
    },
    'policy.decisions': ({ runId }) => policyLog(runId, runs.eventsOfTypes(runId, POLICY_EVENT_TYPES)),
    'policy.proposeRule': async ({ runId, approvalId }) => {
      const { proposal } = await proposalFor(runId, approvalId);
      const { text: _text, ...shown } = proposal;
      return { ...shown, rules: proposal.rules as Array<Record<string, unknown>> };
    },
    'policy.addRule': async ({ runId, approvalId, before }) => {
      const { controller, approval, proposal } = await proposalFor(runId, approvalId);
      if (proposal.before !== before) throw new KeelRpcError('conflict', `${proposal.file} changed since the rule was proposed; look at the new diff.`);
      // Intent first (I1): the rule is recorded, then written; a write that fails says so beside it.
      const after = checkRuleProposal(proposal);
      await controller.dispatch({
        kind: 'policy_recorded',
        events: proposal.rules.map((rule) => ({ type: 'policy.rule_added', payload: { file: proposal.file, rule: rule as Record<string, unknown>, approvalId, before: proposal.before, after } })),
      });
      try {
        applyRuleProposal(proposal);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        await controller.dispatch({ kind: 'recorded', generation: controller.view.generation, body: { type: 'note', payload: { text: `The rule recorded above was not written to ${proposal.file}: ${why}` } } });
        throw error;
      }
      await controller.policy.refresh('rule_added');
      // "Always allow this" allows this one too, when it still waits.
      if (approval.status === 'pending' || approval.status === 'orphaned') await controller.decide(approvalId, 'allow_once');
      return { file: proposal.file, sha256: after, hash: controller.policy.policy?.hash ?? '' };
    },
  };
}
