import { BUNDLE_UPLOAD_CHUNK_BYTES, MAX_BUNDLE_UPLOAD_BYTES, type BundleExportProgress, type BundleImportResult, type KeelClient } from '@keel/core/contract';
import { create } from 'zustand';
import { describeError } from '../../lib/errors.js';
import { useReplay } from './replay-store.js';

type Message = { ok: boolean; text: string };

/** The diagnostics bundle as the page sees it: an export in flight (with the host's progress), an import in flight, their outcomes. */
interface DiagnosticsState {
  exporting: string | null;
  progress: BundleExportProgress | null;
  exportResult: (Message & { runId: string | null }) | null;
  importing: { name: string; sent: number; size: number } | null;
  importResult: Message | null;
  /** Bumped after every import, so the Imported list reloads. */
  imports: number;
}

export const useDiagnostics = create<DiagnosticsState>(() => ({ exporting: null, progress: null, exportResult: null, importing: null, importResult: null, imports: 0 }));

const set = useDiagnostics.setState;

/** "Export diagnostics…" of one run (the run header's button, the palette, the app menu): the host writes the bundle. */
export async function exportDiagnostics(client: KeelClient, runId: string | null): Promise<void> {
  if (!runId) {
    set({ exportResult: { ok: false, text: 'Select a run first: Export diagnostics… bundles the run you are looking at.', runId: null } });
    return;
  }
  if (useDiagnostics.getState().exporting) return;
  set({ exporting: runId, progress: null, exportResult: null });
  try {
    const result = await client.invoke('diagnostics.export', { runIds: [runId] });
    set({ exportResult: result.file ? { ok: true, text: `Wrote ${result.file} (${result.redactions} redaction${result.redactions === 1 ? '' : 's'})`, runId } : null });
  } catch (failure) {
    set({ exportResult: { ok: false, text: describeError(failure), runId } });
  } finally {
    set({ exporting: null });
  }
}

function describeImport(result: BundleImportResult): string {
  const problems = result.runs.flatMap((run) => run.problems);
  return `${result.already ? 'Already imported' : 'Imported'} bundle ${result.bundle_id}: ${result.runs
    .map((run) => `${run.run_id} (${run.verified} verified${run.redacted.length ? `, ${run.redacted.length} redacted` : ''})`)
    .join(', ')}${problems.length ? ` — ${problems.length} problem(s): ${problems.join('; ')}` : ''}`;
}

/** After an import: say what came in, reload the Imported list, and open its first run in the replay viewer. */
function imported(result: BundleImportResult | null): void {
  if (!result) return;
  set((state) => ({ importResult: { ok: true, text: describeImport(result) }, imports: state.imports + 1 }));
  const first = result.runs[0];
  if (first) useReplay.getState().open({ runId: first.run_id, bundleId: result.bundle_id });
}

/** "Open bundle…" with a path typed in (headless) or the app's open dialog (no path). */
export async function importBundleFile(client: KeelClient, file?: string): Promise<void> {
  set({ importResult: null });
  try {
    imported(await client.invoke('diagnostics.import', file ? { file } : {}));
  } catch (failure) {
    set({ importResult: { ok: false, text: describeError(failure) } });
  }
}

const base64 = (bytes: Uint8Array) => {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
};

/**
 * A bundle dropped on the page or picked with "Import bundle…", uploaded to the host in chunks
 * over the same connection: too large or not a .zip is refused before reading it (the host
 * checks again, and that the first chunk starts like a zip); one chunk in memory at a time.
 */
export async function uploadBundle(client: KeelClient, file: File): Promise<void> {
  set({ importResult: null });
  if (!/\.zip$/i.test(file.name)) {
    set({ importResult: { ok: false, text: `${file.name} is not a diagnostics bundle: a bundle is a .zip file written by "Export diagnostics…" or keel bundle.` } });
    return;
  }
  if (file.size > MAX_BUNDLE_UPLOAD_BYTES) {
    set({
      importResult: {
        ok: false,
        text: `${file.name} is ${Math.round(file.size / 2 ** 20)} MiB; the largest bundle that can be uploaded is ${MAX_BUNDLE_UPLOAD_BYTES / 2 ** 20} MiB. Import it with: keel bundle import FILE`,
      },
    });
    return;
  }
  set({ importing: { name: file.name, sent: 0, size: file.size } });
  try {
    const { uploadId } = await client.invoke('diagnostics.uploadStart', { name: file.name, size: file.size });
    for (let offset = 0; offset < file.size; offset += BUNDLE_UPLOAD_CHUNK_BYTES) {
      const chunk = new Uint8Array(await file.slice(offset, offset + BUNDLE_UPLOAD_CHUNK_BYTES).arrayBuffer());
      const { received } = await client.invoke('diagnostics.uploadChunk', { uploadId, offset, data: base64(chunk) });
      set({ importing: { name: file.name, sent: received, size: file.size } });
    }
    imported(await client.invoke('diagnostics.uploadFinish', { uploadId }));
  } catch (failure) {
    set({ importResult: { ok: false, text: describeError(failure) } });
  } finally {
    set({ importing: null });
  }
}
