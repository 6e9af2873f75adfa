import type { LedgerEvent } from '../contract/schemas/ledger.js';
import { genesisHash, hashOf } from '../ledger/index.js';

/** The chain of a run broke on the way into a sink: the sink stops, loudly. */
export class ChainMismatchError extends Error {
  constructor(
    readonly runId: string,
    readonly seq: number,
    detail: string,
  ) {
    super(`Chain mismatch in run ${runId} at seq ${seq}: ${detail}. The mirror stopped; nothing at or after this seq was copied.`);
    this.name = 'ChainMismatchError';
  }
}

/**
 * Follows one run's hash chain from a known point (seq 0 and the genesis hash, or the last
 * record a sink already holds): every next record must carry the next seq, point at the
 * previous hash and hash to its own `hash`.
 */
export class ChainCheck {
  private seq: number;
  private hash: string;

  constructor(
    readonly runId: string,
    after: { seq: number; hash: string | null } = { seq: 0, hash: null },
  ) {
    this.seq = after.seq;
    this.hash = after.seq === 0 ? genesisHash(runId) : after.hash!;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): string {
    return this.hash;
  }

  accept(event: LedgerEvent): void {
    const expected = this.seq + 1;
    if (event.run_id !== this.runId) throw new ChainMismatchError(this.runId, expected, `the record belongs to run ${event.run_id}`);
    if (event.seq !== expected) throw new ChainMismatchError(this.runId, expected, `the next record has seq ${event.seq}`);
    if (event.prev !== this.hash) {
      throw new ChainMismatchError(this.runId, expected, `its prev ${event.prev.slice(0, 12)}… is not the hash before it (${this.hash.slice(0, 12)}…)`);
    }
    const { hash, ...unhashed } = event;
    const actual = hashOf(unhashed);
    if (actual !== hash) throw new ChainMismatchError(this.runId, expected, `the record hashes to ${actual.slice(0, 12)}…, not its recorded ${hash.slice(0, 12)}…`);
    this.seq = expected;
    this.hash = hash;
  }
}
