import type { ItemOfKind, PolicyRuleProposal } from '@keel/core/contract';
import { useState } from 'react';
import { useKeel } from '../../lib/client-context.js';
import { describeError } from '../../lib/errors.js';

type ApprovalItem = ItemOfKind<'approval'>;

type Step =
  | { at: 'closed' }
  | { at: 'loading' }
  | { at: 'proposed'; proposal: PolicyRuleProposal }
  | { at: 'writing'; proposal: PolicyRuleProposal }
  | { at: 'added'; file: string }
  | { at: 'failed'; message: string };

/** One diff line with its class: added, removed, hunk header or context. */
function DiffLines({ diff }: { diff: string }) {
  const lines = diff.split('\n').filter((line, index, all) => !(line === '' && index === all.length - 1));
  return (
    <pre className="policy-diff" data-testid="policy-rule-diff">
      {lines.map((line, index) => {
        const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : 'ctx';
        return (
          <span key={index} className={`diff-${kind}`}>
            {line}
            {'\n'}
          </span>
        );
      })}
    </pre>
  );
}

/**
 * "Always allow this": proposes rules for the workspace's `.keel/policy.yaml` that would allow
 * the request (exactly what asked, no broader glob), shows them as a diff with the validation
 * and what the policy would then decide, and writes them only when the person confirms (the
 * host validates again, writes atomically, records it in the run and allows this request).
 */
export function AlwaysAllow({ item, runId, disabled }: { item: ApprovalItem; runId: string; disabled: boolean }) {
  const { client } = useKeel();
  const [step, setStep] = useState<Step>({ at: 'closed' });

  const propose = async () => {
    setStep({ at: 'loading' });
    try {
      setStep({ at: 'proposed', proposal: await client.invoke('policy.proposeRule', { runId, approvalId: item.approvalId }) });
    } catch (error) {
      setStep({ at: 'failed', message: describeError(error) });
    }
  };
  const add = async (proposal: PolicyRuleProposal) => {
    setStep({ at: 'writing', proposal });
    try {
      const { file } = await client.invoke('policy.addRule', { runId, approvalId: item.approvalId, before: proposal.before });
      setStep({ at: 'added', file });
    } catch (error) {
      setStep({ at: 'failed', message: describeError(error) });
    }
  };

  if (step.at === 'closed' || step.at === 'loading') {
    return (
      <button type="button" className="link always-allow" data-testid="always-allow" disabled={disabled || step.at === 'loading'} onClick={() => void propose()}>
        {step.at === 'loading' ? 'Preparing the rule…' : 'Always allow this…'}
      </button>
    );
  }
  if (step.at === 'failed') {
    return (
      <p className="always-allow-result status-failed small" role="alert" data-testid="always-allow-error">
        {step.message}{' '}
        <button type="button" className="link" onClick={() => setStep({ at: 'closed' })}>
          Close
        </button>
      </p>
    );
  }
  if (step.at === 'added') {
    return (
      <p className="always-allow-result small" data-testid="always-allow-added">
        Rule added to <code>{step.file}</code>; this request is allowed.
      </p>
    );
  }
  const { proposal } = step;
  const ids = proposal.rules.map((rule) => String(rule.id)).join(', ');
  return (
    <div className="always-allow-panel" data-testid="always-allow-panel">
      <p className="small">
        Add {proposal.rules.length === 1 ? 'this rule' : 'these rules'} (<code>{ids}</code>) to <code>{proposal.file}</code>:
      </p>
      <DiffLines diff={proposal.diff} />
      {proposal.valid ? (
        <p className="small" data-testid="always-allow-outcome">
          The file validates. With it, this request is <strong className={`decision-chip decision-${proposal.decision}`}>{proposal.decision}</strong>
          {proposal.decision !== 'allow' && <span className="muted"> — {proposal.why}</span>}
        </p>
      ) : (
        <ul className="status-failed small" data-testid="always-allow-invalid">
          {proposal.errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
      <div className="approval-actions">
        <button type="button" className="primary" data-testid="always-allow-confirm" disabled={!proposal.valid || step.at === 'writing'} onClick={() => void add(proposal)}>
          {step.at === 'writing' ? 'Writing…' : 'Add the rule and allow'}
        </button>
        <button type="button" onClick={() => setStep({ at: 'closed' })} disabled={step.at === 'writing'}>
          Cancel
        </button>
      </div>
    </div>
  );
}
