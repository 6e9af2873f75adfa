import { KeelRpcError } from '../contract/errors.js';
import {
  MAX_REPLAY_MARKERS,
  type LedgerEvent,
  type ReplayEventRow,
  type ReplayMarker,
  type ReplaySource,
  type ReplayTimeline,
  type RunView,
} from '../contract/index.js';
import { listImportedRuns, readImportedEvents } from '../diagnostics/index.js';
import { genesisHash, hashOf, type Ledger } from '../ledger/index.js';
import { markerOf, ReplayIndex } from '../replay/index.js';

const PAGE = 5_000;

interface Opened {
  source: ReplaySource;
  index: ReplayIndex;
  markers: ReplayMarker[];
  markersTruncated: boolean;
  /** The hash the next record must link to. */
  prevHash: string;
  firstBadSeq: number | null;
  redacted: Set<number>;
  readOnly: boolean;
}

const keyOf = (source: ReplaySource) => `${source.bundleId ?? ''}/${source.runId}`;

/**
 * The host side of the replay viewer: one ReplayIndex per open run (the last few opened are
 * kept), fed from the ledger — and kept current for a live run on every call — or from an
 * imported bundle's slice. While indexing it checks the hash chain record by record and
 * collects the timeline markers, so a scrub never reads the ledger again.
 */
export class ReplayService {
  private readonly open = new Map<string, Opened>();

  constructor(
    private readonly ledger: Ledger,
    private readonly dataDir: string,
    private readonly capacity = 2,
  ) {}

  timeline(source: ReplaySource): ReplayTimeline {
    const run = this.get(source);
    return {
      runId: source.runId,
      bundleId: source.bundleId ?? null,
      events: run.index.length,
      lastSeq: run.index.lastSeq,
      markers: run.markers,
      markersTruncated: run.markersTruncated,
      chain: { firstBadSeq: run.firstBadSeq, redactedSeqs: [...run.redacted].sort((a, b) => a - b) },
      readOnly: run.readOnly,
    };
  }

  stateAt(source: ReplaySource, seq: number): { seq: number; view: RunView } {
    const run = this.get(source);
    const at = Math.min(seq, run.index.lastSeq);
    return { seq: at, view: run.index.stateAt(at) };
  }

  events(source: ReplaySource, fromSeq: number, limit: number): { rows: ReplayEventRow[]; lastSeq: number } {
    const run = this.get(source);
    const rows = run.index.eventsFrom(fromSeq, limit).map((record) => ({
      record,
      chain: run.firstBadSeq !== null && record.seq >= run.firstBadSeq ? ('broken' as const) : run.redacted.has(record.seq) ? ('redacted' as const) : ('verified' as const),
    }));
    return { rows, lastSeq: run.index.lastSeq };
  }

  close(): void {
    this.open.clear();
  }

  private get(source: ReplaySource): Opened {
    const key = keyOf(source);
    let run = this.open.get(key);
    if (run) {
      this.open.delete(key);
    } else {
      run = source.bundleId ? this.fromBundle(source, source.bundleId) : this.fromLedger(source);
    }
    this.open.set(key, run);
    while (this.open.size > this.capacity) this.open.delete(this.open.keys().next().value!);
    if (!source.bundleId) this.catchUp(run);
    return run;
  }

  private fresh(source: ReplaySource, redacted: Set<number>, readOnly: boolean): Opened {
    return {
      source,
      index: new ReplayIndex({ runId: source.runId }),
      markers: [],
      markersTruncated: false,
      prevHash: genesisHash(source.runId),
      firstBadSeq: null,
      redacted,
      readOnly,
    };
  }

  private add(run: Opened, event: LedgerEvent): void {
    if (run.firstBadSeq === null) {
      const { hash, ...unhashed } = event;
      const linked = event.prev === run.prevHash && event.seq === run.index.lastSeq + 1;
      if (!linked || (!run.redacted.has(event.seq) && hashOf(unhashed) !== hash)) run.firstBadSeq = event.seq;
    }
    run.prevHash = event.hash;
    run.index.append(event);
    const marker = markerOf(event);
    if (marker) {
      if (run.markers.length < MAX_REPLAY_MARKERS) run.markers.push(marker);
      else run.markersTruncated = true;
    }
  }

  private fromLedger(source: ReplaySource): Opened {
    const summary = this.ledger.run(source.runId);
    if (!summary) throw new KeelRpcError('not_found', `No run ${source.runId}.`);
    return this.fresh(source, new Set(), summary.readOnly || summary.quarantined);
  }

  /** Appends what the ledger committed since the last call (a live run grows while it is watched). */
  private catchUp(run: Opened): void {
    let from = run.index.lastSeq + 1;
    for (;;) {
      const page = this.ledger.read(run.source.runId, { fromSeq: from, limit: PAGE });
      for (const event of page) this.add(run, event);
      if (page.length < PAGE) return;
      from = page[page.length - 1]!.seq + 1;
    }
  }

  private fromBundle(source: ReplaySource, bundleId: string): Opened {
    const imported = listImportedRuns(this.dataDir).find((each) => each.bundleId === bundleId && each.runId === source.runId);
    if (!imported) throw new KeelRpcError('not_found', `No imported run ${source.runId} in bundle ${bundleId}.`);
    const run = this.fresh(source, new Set(imported.redactedSeqs), true);
    for (const event of readImportedEvents(this.dataDir, bundleId, source.runId)) this.add(run, event);
    return run;
  }
}
