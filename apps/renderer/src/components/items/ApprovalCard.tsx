import type { ApprovalDecision, ItemOfKind } from '@keel/core/contract';
import { quoteWord } from '../../lib/agent.js';
import { useKeel } from '../../lib/client-context.js';
import { decide, useDecisionState } from '../../stores/decisions.js';
import { useUi } from '../../stores/ui.js';
import { AlwaysAllow } from './AlwaysAllow.js';
import { Disclosure } from './Disclosure.js';

type ApprovalItem = ItemOfKind<'approval'>;

export const DECISIONS: ReadonlyArray<{ decision: ApprovalDecision; label: string; keys: readonly string[] }> = [
  { decision: 'allow_once', label: 'Allow once', keys: ['1', 'a'] },
  { decision: 'allow_run', label: 'Allow for this run', keys: ['2', 'r'] },
  { decision: 'deny', label: 'Deny', keys: ['3', 'd'] },
];

const DECIDED_LABEL: Record<ApprovalDecision, string> = {
  allow_once: 'Allowed once',
  allow_run: 'Allowed for this run',
  deny: 'Denied',
};

const KIND_LABEL: Record<string, string> = {
  exec: 'run a command',
  write: 'write files',
  read: 'read files',
  network: 'use the network',
  generic: 'do something',
};

/** Whether a person can still answer this request. Orphaned ones can: Keel applies it when the agent asks again. */
export const isDecidable = (item: ApprovalItem) => item.status === 'pending' || item.status === 'orphaned';

/**
 * One approval request (I5): what the agent (or Keel) wants to do, why it asks, and its
 * state. Timed out, cancelled and orphaned are shown as what they are, never as a refusal.
 *
 * In the transcript a pending request is a placeholder pointing at its pinned copy above the
 * composer (the one with the buttons), and a settled one is a single line with its details
 * behind a toggle. An orphaned request keeps its buttons in the transcript: it can still be
 * decided.
 */
export function ApprovalCard({
  item,
  runId,
  variant = 'transcript',
  shortcuts = false,
  readOnly = null,
}: {
  item: ApprovalItem;
  runId: string;
  variant?: 'transcript' | 'pinned';
  shortcuts?: boolean;
  readOnly?: string | null;
}) {
  const { action } = item;
  const compact = variant === 'transcript' && item.status !== 'orphaned';
  const pinned = variant === 'pinned';
  if (pinned) return <PinnedCard item={item} runId={runId} shortcuts={shortcuts} readOnly={readOnly} />;
  return (
    <div
      className={`card approval-card status-${item.status}${compact ? ' compact' : ''}`}
      data-testid="approval-card"
      data-approval-id={item.approvalId}
      data-status={item.status}
      role="group"
      aria-label={`Approval: ${action.title}`}
    >
      <div className="card-head">
        <span className="approval-icon" aria-hidden="true">
          ⚑
        </span>
        <span className="who">{headline(item)}</span>
        <span className="chip" title={action.source ? `protocol kind: ${action.source}` : undefined}>
          {action.kind}
        </span>
        {compact ? (
          <span className="approval-compact-title">{action.title}</span>
        ) : (
          <span className="muted small">
            asked by {item.source === 'keel' ? 'Keel' : 'the agent'} · generation {item.generation}
          </span>
        )}
      </div>
      {compact && item.status === 'pending' ? (
        // One line: the request itself (with its buttons and facts) is pinned above the prompt box.
        <span className="approval-outcome waiting small" data-testid="approval-pinned-ref">
          Waiting for your answer ↓ pinned above the prompt box
        </span>
      ) : compact ? (
        <>
          <Outcome item={item} />
          <Disclosure stateKey={`${runId}:approval:${item.approvalId}:details`} summary={<span className="muted small">details</span>}>
            <ActionFacts item={item} withSource />
          </Disclosure>
        </>
      ) : (
        <>
          <ActionFacts item={item} />
          <Outcome item={item} />
        </>
      )}
      {!compact && isDecidable(item) && <DecisionButtons item={item} runId={runId} shortcuts={shortcuts} readOnly={readOnly} />}
    </div>
  );
}

/**
 * The pinned copy, the one that is answered: kept compact so it never crowds the transcript —
 * what is asked and who asks on the head line, the facts, the buttons with their keys.
 */
function PinnedCard({ item, runId, shortcuts, readOnly }: { item: ApprovalItem; runId: string; shortcuts: boolean; readOnly: string | null }) {
  const { action } = item;
  return (
    <div
      className={`card approval-card pinned status-${item.status}`}
      data-testid="pinned-approval"
      data-approval-id={item.approvalId}
      data-status={item.status}
      role="group"
      aria-label={`Approval: ${action.title}`}
    >
      <div className="card-head">
        <span className="approval-icon" aria-hidden="true">
          ⚑
        </span>
        <ActionTitle item={item} />
        <span className="chip" title={action.source ? `protocol kind: ${action.source}` : undefined}>
          {action.kind}
        </span>
        <span className="muted small approval-meta">
          asked by {item.source === 'keel' ? 'Keel' : 'the agent'} · generation {item.generation}
          {item.status === 'pending' && item.timeoutMs ? ` · waits ${formatDuration(item.timeoutMs)}` : ''}
        </span>
      </div>
      <ActionFacts item={item} withTitle={false} />
      {item.status !== 'pending' && <Outcome item={item} />}
      {isDecidable(item) && <DecisionButtons item={item} runId={runId} shortcuts={shortcuts} readOnly={readOnly} />}
    </div>
  );
}

function ActionTitle({ item }: { item: ApprovalItem }) {
  return (
    <span className="approval-title">
      {item.source === 'keel' ? 'Keel' : 'The agent'} wants to {KIND_LABEL[item.action.kind] ?? 'act'}: <strong>{item.action.title}</strong>
    </span>
  );
}

function ActionFacts({ item, withSource = false, withTitle = true }: { item: ApprovalItem; withSource?: boolean; withTitle?: boolean }) {
  const { action } = item;
  const commandLine = action.command ? [action.command, ...(action.args ?? [])].map(quoteWord).join(' ') : null;
  return (
    <div className="approval-action">
      {withTitle && (
        <div className="approval-title-row">
          <ActionTitle item={item} />
        </div>
      )}
      <dl className="approval-facts">
        {commandLine && (
          <div>
            <dt>command</dt>
            <dd>
              <code>{commandLine}</code>
            </dd>
          </div>
        )}
        {action.cwd && (
          <div>
            <dt>in</dt>
            <dd>
              <code>{action.cwd}</code>
            </dd>
          </div>
        )}
        {action.paths && action.paths.length > 0 && (
          <div>
            <dt>{action.paths.length === 1 ? 'path' : 'paths'}</dt>
            <dd>
              {action.paths.map((path) => (
                <code key={path} className="approval-path">
                  {path}
                </code>
              ))}
            </dd>
          </div>
        )}
        {action.detail && (
          <div>
            <dt>detail</dt>
            <dd>{action.detail}</dd>
          </div>
        )}
        {item.policy && (
          <div data-testid="approval-policy">
            <dt>policy</dt>
            <dd className="approval-policy">
              {item.policy.rule ? (
                <>
                  rule <code className="approval-rule">{item.policy.rule}</code>
                  {item.policy.layer && <span className="muted"> ({item.policy.layer})</span>}:{' '}
                </>
              ) : null}
              <span className="approval-policy-why">{item.policy.why}</span>
              <span className="muted small" title={`policy ${item.policy.policyHash}`}>
                {' '}
                · policy {item.policy.policyHash.slice(0, 8)}
              </span>
            </dd>
          </div>
        )}
        <div>
          <dt>why</dt>
          <dd className="approval-reason">{item.reason}</dd>
        </div>
        {withSource && (
          <div>
            <dt>asked by</dt>
            <dd>
              {item.source === 'keel' ? 'Keel' : 'the agent'} (generation {item.generation}) · <code>{item.approvalId}</code>
            </dd>
          </div>
        )}
      </dl>
    </div>
  );
}

function headline(item: ApprovalItem): string {
  switch (item.status) {
    case 'pending':
      return 'Approval needed';
    case 'decided':
      return item.decision ? DECIDED_LABEL[item.decision] : 'Decided';
    case 'timed_out':
      return 'Timed out';
    case 'cancelled':
      return 'Cancelled';
    case 'orphaned':
      return 'Orphaned request';
  }
}

function Outcome({ item }: { item: ApprovalItem }) {
  const reveal = useUi((state) => state.revealApproval);
  switch (item.status) {
    case 'pending':
      return item.timeoutMs ? <p className="muted small">Waits {formatDuration(item.timeoutMs)} for an answer.</p> : null;
    case 'decided':
      return (
        <p className={`approval-outcome decision-${item.decision ?? 'unknown'}`} data-testid="approval-outcome">
          {item.decision ? DECIDED_LABEL[item.decision] : 'Decided'}{' '}
          {item.by === 'user' && 'by you'}
          {item.by === 'auto' && 'automatically (policy)'}
          {item.by === 'carryover' && (
            <>
              by carry-over from{' '}
              {item.ref ? (
                <button type="button" className="link" onClick={() => reveal(item.ref!)} data-testid="approval-ref">
                  approval {item.ref}
                </button>
              ) : (
                'an earlier approval'
              )}
            </>
          )}
          {item.note && <span className="muted"> — {item.note}</span>}
        </p>
      );
    case 'timed_out':
      return (
        <p className="approval-outcome neutral" data-testid="approval-outcome">
          Nobody answered in time; no decision was recorded.
          {item.note && <span className="muted"> {item.note}</span>}
        </p>
      );
    case 'cancelled':
      return (
        <p className="approval-outcome neutral" data-testid="approval-outcome">
          The request was withdrawn before anyone answered{item.note ? `: ${item.note}` : '.'}
        </p>
      );
    case 'orphaned':
      return (
        <p className="approval-outcome neutral" data-testid="approval-outcome">
          The agent process that asked is gone. You can still decide: Keel applies it when the agent asks again.
        </p>
      );
  }
}

function DecisionButtons({ item, runId, shortcuts, readOnly }: { item: ApprovalItem; runId: string; shortcuts: boolean; readOnly: string | null }) {
  const { client } = useKeel();
  const { inFlight, error } = useDecisionState(runId, item.approvalId);
  return (
    <div className="approval-actions">
      {DECISIONS.map(({ decision, label, keys }) => (
        <button
          key={decision}
          type="button"
          className={decision === 'deny' ? 'danger' : decision === 'allow_once' ? 'primary' : undefined}
          data-testid="approval-decide"
          data-decision={decision}
          disabled={inFlight !== null || readOnly !== null}
          title={readOnly ?? (shortcuts ? `Shortcut: ${keys.join(' or ')}` : undefined)}
          onClick={() => void decide(client, runId, item.approvalId, decision)}
        >
          {inFlight === decision ? 'Sending…' : label}
          {shortcuts && (
            <kbd className="shortcut" aria-hidden="true">
              {keys[0]}
            </kbd>
          )}
        </button>
      ))}
      {item.policy && item.policy.decision === 'ask' && <AlwaysAllow item={item} runId={runId} disabled={inFlight !== null || readOnly !== null} />}
      {shortcuts && <span className="muted small shortcut-hint">keys 1 / 2 / 3 (or A / R / D)</span>}
      {readOnly && <span className="muted small">{readOnly}</span>}
      {error && (
        <span className="status-failed small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
