import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import { BundleError, importBundle, listImportedRuns, RedactionError, writeBundle } from '../diagnostics/index.js';
import type { Ledger } from '../ledger/index.js';
import type { ProcedureHandlers } from './router.js';
import { runDoctor } from './doctor.js';
import type { ReplayService } from './replay-service.js';

type DiagnosticsHandlers = Pick<
  ProcedureHandlers,
  'replay.open' | 'replay.stateAt' | 'replay.events' | 'diagnostics.export' | 'diagnostics.import' | 'diagnostics.imported'
>;

export interface DiagnosticsDoors {
  /** A native save dialog (the Electron door); null when the user cancels. */
  chooseBundleFile?: (defaultName: string) => Promise<string | null>;
  /** A native open dialog for a bundle (the Electron door); null when the user cancels. */
  chooseBundleToOpen?: () => Promise<string | null>;
}

const source = ({ runId, bundleId }: { runId: string; bundleId?: string | undefined }) => (bundleId ? { runId, bundleId } : { runId });

/** The replay viewer's and the diagnostics bundle's procedures (issue 14). */
export function diagnosticsProcedures(ledger: Ledger, dataDir: string, replay: ReplayService, doors: DiagnosticsDoors): DiagnosticsHandlers {
  return {
    'replay.open': (input) => replay.timeline(source(input)),
    'replay.stateAt': (input) => replay.stateAt(source(input), input.seq),
    'replay.events': (input) => replay.events(source(input), input.fromSeq, input.limit ?? 200),
    'diagnostics.export': async ({ runIds }) => {
      const name = `keel-diagnostics-${new Date().toISOString().replace(/[:.]/g, '-')}.zip`;
      let out: string | null;
      if (doors.chooseBundleFile) {
        out = await doors.chooseBundleFile(name);
        if (out === null) return { file: null, bytes: 0, bundle_id: 'cancelled', runs: [], entries: 0, redactions: 0 };
      } else {
        const dir = path.join(dataDir, 'bundles');
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        out = path.join(dir, name);
      }
      try {
        return await writeBundle({ ledger, dataDir, runIds, out, doctor: () => runDoctor({ dataDir, ledger }) });
      } catch (error) {
        if (error instanceof RedactionError) throw new KeelRpcError('internal', error.message);
        throw new KeelRpcError('invalid_input', (error as Error).message);
      }
    },
    'diagnostics.import': async ({ file }) => {
      const chosen = file ?? (doors.chooseBundleToOpen ? await doors.chooseBundleToOpen() : null);
      if (chosen === null) {
        if (!doors.chooseBundleToOpen) throw new KeelRpcError('invalid_input', 'There is no file picker in headless mode; type the bundle path.');
        return null;
      }
      try {
        return await importBundle(chosen, dataDir);
      } catch (error) {
        if (error instanceof BundleError || (error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeelRpcError('invalid_input', (error as Error).message);
        throw error;
      }
    },
    'diagnostics.imported': () => listImportedRuns(dataDir),
  };
}
