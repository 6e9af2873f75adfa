import { KeelRpcError } from '../contract/errors.js';
import type { Ledger } from '../ledger/index.js';
import { HarnessJobs, readScorecards, reliabilityDir, RunFactsReader } from '../reliability/index.js';
import type { ProcedureHandlers, StreamHandlers } from './router.js';

type ReliabilityProcedures = Pick<ProcedureHandlers, 'reliability.overview' | 'reliability.run' | 'reliability.runFacts'>;
type ReliabilityStreams = Pick<StreamHandlers, 'reliability.progress'>;

/** The reliability procedures and stream (issue 13): scorecards, the harness, per-run facts. */
export function reliabilityHandlers(options: { ledger: Ledger; dataDir: string }): { procedures: ReliabilityProcedures; streams: ReliabilityStreams; close(): void } {
  const jobs = new HarnessJobs(options.dataDir);
  const facts = new RunFactsReader(options.ledger);
  return {
    close: () => jobs.close(),
    procedures: {
      'reliability.overview': () => readScorecards(reliabilityDir(options.dataDir)),
      'reliability.run': ({ seed, scenarios }) => jobs.start({ profile: 'quick', ...(seed === undefined ? {} : { seed }), ...(scenarios ? { scenarios } : {}) }),
      'reliability.runFacts': ({ runId }) => {
        if (!options.ledger.run(runId)) throw new KeelRpcError('not_found', `No run ${runId}.`);
        return facts.facts(runId);
      },
    },
    streams: {
      'reliability.progress': (_params, sink) => {
        sink.next(jobs.status);
        return jobs.subscribe((progress) => sink.next(progress));
      },
    },
  };
}
