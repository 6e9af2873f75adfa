// The harness's checkers: pure judgements over what a scenario observed and what was stored.
// Each is tested against a run where the fault is planted on purpose (test/reliability-checkers).
import type { LedgerEvent } from '../contract/schemas/ledger.js';

/** What a writer was told was durable: the event at `seq` of `runId` has `hash`. */
export interface Acknowledgement {
  runId: string;
  seq: number;
  hash: string;
}

export interface DurabilityCheck {
  acknowledged: number;
  /** Acknowledged events missing, or stored with another hash. */
  lost: number;
  /** Stored events nobody could have written: not `explained`, or out of sequence. */
  unexpected: number;
  problems: string[];
}

/**
 * Jepsen-style: every acknowledged event must be stored with the hash it was acknowledged with;
 * every stored event must be explained (attempted by the writer, or written by recovery), and
 * each run's seqs must run 1, 2, 3, ... with no gap or repeat.
 */
export function checkDurability(
  acks: readonly Acknowledgement[],
  stored: ReadonlyMap<string, readonly LedgerEvent[]>,
  explained: (event: LedgerEvent) => boolean,
): DurabilityCheck {
  const problems: string[] = [];
  const byRun = new Map<string, Map<number, string>>();
  let unexpected = 0;
  for (const [runId, events] of stored) {
    const seqs = new Map<number, string>();
    events.forEach((event, index) => {
      if (event.seq !== index + 1 || seqs.has(event.seq)) {
        unexpected += 1;
        problems.push(`${runId}: event ${index + 1} has seq ${event.seq} (a gap or a repeat)`);
      } else if (!explained(event)) {
        unexpected += 1;
        problems.push(`${runId}#${event.seq}: ${event.type} was stored but never attempted`);
      }
      seqs.set(event.seq, event.hash);
    });
    byRun.set(runId, seqs);
  }
  let lost = 0;
  for (const ack of acks) {
    const hash = byRun.get(ack.runId)?.get(ack.seq);
    if (hash === ack.hash) continue;
    lost += 1;
    problems.push(`${ack.runId}#${ack.seq}: acknowledged, then ${hash === undefined ? 'missing' : 'stored with another hash'}`);
  }
  return { acknowledged: acks.length, lost, unexpected, problems };
}

/**
 * Prompts the agent received more than once. `sent` is what the run recorded as sent
 * (`prompt.sent` texts), `received` the user messages in the agent's own history.
 */
export function countDuplicatedPrompts(sent: readonly string[], received: readonly string[]): { duplicated: number; checked: number; problems: string[] } {
  const times = new Map<string, number>();
  for (const text of received) times.set(text, (times.get(text) ?? 0) + 1);
  const sentTimes = new Map<string, number>();
  for (const text of sent) sentTimes.set(text, (sentTimes.get(text) ?? 0) + 1);
  let duplicated = 0;
  const problems: string[] = [];
  for (const [text, n] of times) {
    // A received text Keel never sent (a handoff that wraps the prompt) is not a re-send of it.
    if (!sentTimes.has(text)) continue;
    const extra = n - (sentTimes.get(text) ?? 0);
    if (extra > 0) {
      duplicated += extra;
      problems.push(`the agent received "${text.slice(0, 60)}" ${n} times (sent ${sentTimes.get(text) ?? 0})`);
    }
  }
  return { duplicated, checked: sent.length, problems };
}

interface Payloads {
  'runtime.exited': { generation: number };
  'approval.reset': { generation: number; approvalIds: string[] };
  'approval.requested': { approvalId: string; generation: number; actionKey: string };
  'approval.decided': { approvalId: string; decision: string; by: string; ref?: string };
  'session.bound': { generation: number; outcome: string; remapped: boolean; sessionId: string | null };
}
const payload = <T extends keyof Payloads>(event: LedgerEvent) => event.payload as Payloads[T];

/** Events a generation recorded after its own `runtime.exited` (I6: a stale generation records nothing). */
export function staleGenerationEvents(events: readonly LedgerEvent[]): LedgerEvent[] {
  const exitedAt = new Map<number, number>();
  const stale: LedgerEvent[] = [];
  for (const event of events) {
    if (event.type === 'runtime.exited') {
      exitedAt.set(payload<'runtime.exited'>(event).generation, event.seq);
      continue;
    }
    // Recovery's own records about a dead generation carry its number in the payload, not the envelope.
    if (event.generation !== undefined && exitedAt.has(event.generation)) stale.push(event);
  }
  return stale;
}

export interface ApprovalContinuity {
  /** Approvals a dead generation left pending (reset) that the user then decided. */
  orphaned: number;
  /** Of those: the same action asked again by a later generation was decided by carry-over from it, exactly once. */
  honoured: number;
  problems: string[];
}

/**
 * Approval continuity (I5): an orphaned approval the user decided is honoured when the next
 * generation asks the same action and exactly one carry-over decision refers to it, with the
 * user's decision, on a request of a later generation — never applied twice, never to the
 * generation that asked first.
 */
export function checkApprovalContinuity(events: readonly LedgerEvent[]): ApprovalContinuity {
  const requests = new Map<string, Payloads['approval.requested']>();
  const resetIn = new Map<string, number>();
  const userDecision = new Map<string, string>();
  const carried: Array<Payloads['approval.decided']> = [];
  for (const event of events) {
    if (event.type === 'approval.requested') requests.set(payload<'approval.requested'>(event).approvalId, payload<'approval.requested'>(event));
    if (event.type === 'approval.reset') for (const id of payload<'approval.reset'>(event).approvalIds) resetIn.set(id, payload<'approval.reset'>(event).generation);
    if (event.type === 'approval.decided') {
      const decided = payload<'approval.decided'>(event);
      if (decided.by === 'user') userDecision.set(decided.approvalId, decided.decision);
      if (decided.by === 'carryover') carried.push(decided);
    }
  }
  let orphaned = 0;
  let honoured = 0;
  const problems: string[] = [];
  for (const [id, generation] of resetIn) {
    const decision = userDecision.get(id);
    const original = requests.get(id);
    if (decision === undefined || !original) continue;
    orphaned += 1;
    const uses = carried.filter((entry) => entry.ref === id);
    const asked = uses.map((entry) => requests.get(entry.approvalId));
    if (uses.length !== 1) {
      problems.push(`orphaned approval ${id} was carried over ${uses.length} times (expected exactly once)`);
    } else if (uses[0]!.decision !== decision) {
      problems.push(`orphaned approval ${id}: the user said ${decision}, the carry-over applied ${uses[0]!.decision}`);
    } else if (!asked[0] || asked[0].actionKey !== original.actionKey || asked[0].generation <= generation) {
      problems.push(`orphaned approval ${id} was carried to a request of another action or of the generation that died`);
    } else {
      honoured += 1;
    }
  }
  return { orphaned, honoured, problems };
}

/**
 * Stale-session remaps after the agent forgot its session: the first binding after `afterSeq`
 * must be `fresh` and `remapped`, visibly, and exactly one binding may be a remap.
 */
export function checkRemap(events: readonly LedgerEvent[], afterSeq: number): { remapped: boolean; problems: string[] } {
  const bindings = events.filter((event) => event.type === 'session.bound' && event.seq > afterSeq).map((event) => payload<'session.bound'>(event));
  const first = bindings[0];
  const remaps = bindings.filter((binding) => binding.remapped).length;
  if (!first) return { remapped: false, problems: ['no session was bound after the agent forgot its session'] };
  if (first.outcome !== 'fresh' || !first.remapped) return { remapped: false, problems: [`the first binding was ${first.outcome}${first.remapped ? ' (remapped)' : ''}, not a visible remap`] };
  if (remaps !== 1) return { remapped: false, problems: [`${remaps} remaps recorded (expected exactly one)`] };
  return { remapped: true, problems: [] };
}
