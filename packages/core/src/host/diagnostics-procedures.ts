import fs from 'node:fs';
import path from 'node:path';
import { KeelRpcError } from '../contract/errors.js';
import { BundleError, importBundle, listImportedRuns, RedactionError, writeBundle } from '../diagnostics/index.js';
import type { Ledger } from '../ledger/index.js';
import type { ProcedureHandlers } from './router.js';
import { runDoctor } from './doctor.js';
import type { ReplayService } from './replay-service.js';
import { DiagnosticsActivity } from './diagnostics-activity.js';
import { BundleUploads } from './bundle-upload.js';

type DiagnosticsHandlers = Pick<
  ProcedureHandlers,
  | 'replay.open'
  | 'replay.stateAt'
  | 'replay.events'
  | 'diagnostics.export'
  | 'diagnostics.import'
  | 'diagnostics.uploadStart'
  | 'diagnostics.uploadChunk'
  | 'diagnostics.uploadFinish'
  | 'diagnostics.imported'
>;

export interface DiagnosticsDoors {
  /** A native save dialog (the Electron door); null when the user cancels. */
  chooseBundleFile?: (defaultName: string) => Promise<string | null>;
  /** A native open dialog for a bundle (the Electron door); null when the user cancels. */
  chooseBundleToOpen?: () => Promise<string | null>;
}

const source = ({ runId, bundleId }: { runId: string; bundleId?: string | undefined }) => (bundleId ? { runId, bundleId } : { runId });

/** The replay viewer's and the diagnostics bundle's procedures (issue 14). */
export function diagnosticsProcedures(
  ledger: Ledger,
  dataDir: string,
  replay: ReplayService,
  doors: DiagnosticsDoors,
  activity: DiagnosticsActivity = new DiagnosticsActivity(),
  uploads: BundleUploads = new BundleUploads(dataDir),
): DiagnosticsHandlers {
  const importFile = async (file: string) => {
    try {
      return await importBundle(file, dataDir);
    } catch (error) {
      if (error instanceof BundleError || (error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeelRpcError('invalid_input', (error as Error).message);
      throw error;
    }
  };
  return {
    'replay.open': (input) => replay.timeline(source(input)),
    'replay.stateAt': (input) => replay.stateAt(source(input), input.seq, input),
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
      if (activity.progress.state === 'running') throw new KeelRpcError('conflict', 'A diagnostics bundle is already being written; wait for it to finish.');
      activity.report({ state: 'running', runIds, entry: '', done: 0, total: 0 });
      try {
        const written = await writeBundle({
          ledger,
          dataDir,
          runIds,
          out,
          doctor: () => runDoctor({ dataDir, ledger }),
          onProgress: ({ entry, done, total }) => activity.report({ state: 'running', runIds, entry, done, total }),
        });
        activity.report({ state: 'finished', runIds, file: written.file });
        return written;
      } catch (error) {
        activity.report({ state: 'failed', runIds, message: (error as Error).message });
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
      return importFile(chosen);
    },
    'diagnostics.uploadStart': ({ name, size }) => uploads.start(name, size),
    'diagnostics.uploadChunk': ({ uploadId, offset, data }) => uploads.chunk(uploadId, offset, data),
    'diagnostics.uploadFinish': async ({ uploadId }) => {
      const uploaded = uploads.finish(uploadId);
      try {
        return await importFile(uploaded.file);
      } finally {
        uploaded.done();
      }
    },
    'diagnostics.imported': () => listImportedRuns(dataDir),
  };
}
