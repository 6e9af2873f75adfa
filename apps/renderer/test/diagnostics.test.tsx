// @vitest-environment jsdom
// Issue 14 in the page: "Export diagnostics…" shows a progress bar that advances with the host's
// diagnostics.progress events; the app menu's commands (app.menu) act on the selected run; a bundle
// picked with "Import bundle…" or dropped on the window is uploaded in chunks (too large or not a
// .zip refused before reading) and opens in the replay viewer under Imported.
import { MAX_BUNDLE_UPLOAD_BYTES, type BundleImportResult, type RunSummary } from '@keel/core/contract';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDiagnostics } from '../src/components/replay/diagnostics-store.js';
import { DiagnosticsDoor } from '../src/components/replay/DiagnosticsDoor.js';
import { ExportDiagnosticsButton } from '../src/components/replay/ExportDiagnostics.js';
import { ImportedView } from '../src/components/replay/ImportedView.js';
import { useReplay } from '../src/components/replay/replay-store.js';
import { useRuns } from '../src/stores/runs.js';
import { mockClient, openStream, renderWithClient, runSummary } from './helpers.js';

const run = (id: string): RunSummary => runSummary(id);

const written = { file: '/data/bundles/b.zip', bytes: 10, bundle_id: 'b1', runs: ['run-a'], entries: 3, redactions: 2 };
const importResult: BundleImportResult = { bundle_id: 'bundle-1', dir: '/data/imported/bundle-1', already: false, runs: [{ run_id: 'run-x', events: 9, last_seq: 9, verified: 9, redacted: [], problems: [] }] };

// jsdom 26 has no Blob.arrayBuffer (every browser has): read through its FileReader.
Blob.prototype.arrayBuffer ??= function arrayBuffer(this: Blob) {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(this);
  });
};

beforeEach(() => {
  useRuns.setState({ runs: [run('run-a')], selectedRunId: 'run-a' });
  useDiagnostics.setState({ exporting: null, progress: null, exportResult: null, importing: null, importResult: null, imports: 0 });
  useReplay.setState({ source: null, seq: null });
});
afterEach(cleanup);

const deferred = <T,>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
};

describe('export diagnostics', () => {
  it('the progress bar advances with each diagnostics.progress event and gives way to where the bundle went', async () => {
    const pending = deferred<typeof written>();
    const { client, invoke, streams } = mockClient({ 'diagnostics.export': () => pending.promise, 'diagnostics.imported': () => [] });
    renderWithClient(<ExportDiagnosticsButton runId="run-a" />, client);
    fireEvent.click(screen.getByTestId('export-diagnostics'));
    expect(invoke).toHaveBeenCalledWith('diagnostics.export', { runIds: ['run-a'] });
    const bar = await screen.findByTestId('export-progress-bar');
    expect((screen.getByTestId('export-diagnostics') as HTMLButtonElement).disabled).toBe(true);
    const progress = openStream(streams, 'diagnostics.progress');
    const values: number[] = [];
    for (const done of [0, 250, 750, 1000]) {
      act(() => progress.handlers.onEvent({ state: 'running', runIds: ['run-a'], entry: 'runs/run-a/ledger.ndjson', done, total: 1000 }));
      values.push(Number((bar as HTMLProgressElement).value));
    }
    expect(values).toEqual([0, 25, 75, 100]);
    expect((screen.getByTestId('export-progress')).textContent).toContain('100% · runs/run-a/ledger.ndjson');
    await act(async () => pending.resolve(written));
    expect(screen.queryByTestId('export-progress')).toBeNull();
    expect(progress.closed).toBe(true);
    expect((screen.getByTestId('export-diagnostics-result')).textContent).toContain('Wrote /data/bundles/b.zip (2 redactions)');
  });

  it('the app menu exports the selected run through the same procedure; with no run selected it says so', async () => {
    const { client, invoke, streams } = mockClient({ 'diagnostics.export': () => written, 'diagnostics.import': () => importResult });
    renderWithClient(<DiagnosticsDoor />, client);
    const menu = openStream(streams, 'app.menu');
    await act(async () => menu.handlers.onEvent({ command: 'export-diagnostics' }));
    expect(invoke).toHaveBeenCalledWith('diagnostics.export', { runIds: ['run-a'] });

    act(() => useRuns.setState({ selectedRunId: null }));
    await act(async () => openStream(streams, 'app.menu').handlers.onEvent({ command: 'export-diagnostics' }));
    expect((screen.getByTestId('menu-export-result')).textContent).toContain('Select a run first');
    expect(invoke.mock.calls.filter(([method]) => method === 'diagnostics.export')).toHaveLength(1);

    await act(async () => openStream(streams, 'app.menu').handlers.onEvent({ command: 'open-bundle' }));
    expect(invoke).toHaveBeenCalledWith('diagnostics.import', {});
    expect(useReplay.getState().source).toEqual({ runId: 'run-x', bundleId: 'bundle-1' });
  });
});

const zipFile = (name: string, bytes: number[]) => new File([new Uint8Array(bytes)], name, { type: 'application/zip' });

describe('import by upload', () => {
  const uploadHandlers = () => {
    const chunks: Array<{ offset: number; data: string }> = [];
    const mock = mockClient({
      'diagnostics.imported': () => [],
      'diagnostics.uploadStart': () => ({ uploadId: 'u1' }),
      'diagnostics.uploadChunk': (input: { offset: number; data: string }) => {
        chunks.push(input);
        return { received: input.offset + atob(input.data).length };
      },
      'diagnostics.uploadFinish': () => importResult,
    });
    return { ...mock, chunks };
  };

  it('"Import bundle…" uploads the picked file and opens its run in the replay viewer', async () => {
    const { client, invoke, chunks } = uploadHandlers();
    renderWithClient(
      <>
        <ImportedView />
        <DiagnosticsDoor />
      </>,
      client,
    );
    const bytes = [0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 250];
    fireEvent.change(screen.getByTestId('bundle-file'), { target: { files: [zipFile('bundle.zip', bytes)] } });
    await waitFor(() => expect(useReplay.getState().source).toEqual({ runId: 'run-x', bundleId: 'bundle-1' }));
    expect(invoke).toHaveBeenCalledWith('diagnostics.uploadStart', { name: 'bundle.zip', size: bytes.length });
    expect(chunks.map(({ offset, data }) => [offset, [...atob(data)].map((c) => c.charCodeAt(0))])).toEqual([[0, bytes]]);
    expect(invoke).toHaveBeenCalledWith('diagnostics.uploadFinish', { uploadId: 'u1' });
    expect((screen.getByTestId('import-result')).textContent).toContain('Imported bundle bundle-1: run-x (9 verified)');
    expect(useDiagnostics.getState().imports).toBe(1);
  });

  it('refuses a file over the cap or not a .zip before reading or sending it, in plain words', async () => {
    const { client, invoke } = uploadHandlers();
    renderWithClient(
      <>
        <ImportedView />
        <DiagnosticsDoor />
      </>,
      client,
    );
    const huge = zipFile('huge.zip', [0x50]);
    Object.defineProperty(huge, 'size', { value: MAX_BUNDLE_UPLOAD_BYTES + 1 });
    Object.defineProperty(huge, 'slice', { value: () => { throw new Error('read'); } });
    fireEvent.change(screen.getByTestId('bundle-file'), { target: { files: [huge] } });
    expect((await screen.findByTestId('import-error')).textContent).toContain('huge.zip is 256 MiB; the largest bundle that can be uploaded is 256 MiB. Import it with: keel bundle import FILE');
    fireEvent.change(screen.getByTestId('bundle-file'), { target: { files: [new File(['hello'], 'notes.txt')] } });
    await waitFor(() => expect((screen.getByTestId('import-error')).textContent).toContain('notes.txt is not a diagnostics bundle'));
    expect(invoke.mock.calls.map(([method]) => method).filter((method) => method.startsWith('diagnostics.upload'))).toEqual([]);
  });

  it('a bundle dropped on the window is uploaded; the drop zone shows while dragging', async () => {
    const { client, invoke } = uploadHandlers();
    renderWithClient(<DiagnosticsDoor />, client);
    const file = zipFile('dropped.zip', [0x50, 0x4b, 0x03, 0x04]);
    const dataTransfer = { types: ['Files'], files: [file], dropEffect: 'none' };
    act(() => void fireEvent.dragEnter(window, { dataTransfer }));
    expect(screen.queryByTestId('bundle-drop')).not.toBeNull();
    act(() => void fireEvent.drop(window, { dataTransfer }));
    expect(screen.queryByTestId('bundle-drop')).toBeNull();
    await waitFor(() => expect(useReplay.getState().source).toEqual({ runId: 'run-x', bundleId: 'bundle-1' }));
    expect(invoke).toHaveBeenCalledWith('diagnostics.uploadStart', { name: 'dropped.zip', size: 4 });
  });
});
