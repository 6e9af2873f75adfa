import path from 'node:path';
import type { Command } from 'commander';
import { BundleError, importBundle, inspectBundle, runDoctor, writeBundle, type BundleInspection, type BundleProgress } from '@keel/core';
import { dataDirFor, openForCommand } from './open-ledger.js';
import { withDataOption } from './options.js';

/** A progress bar on stderr when it is a terminal and the bundle is big enough to wait for. */
function progressBar(): { onProgress: (progress: BundleProgress) => void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  let lastDraw = 0;
  return {
    onProgress(progress) {
      if (!tty || progress.total < 8 * 1024 * 1024) return;
      const now = Date.now();
      if (now - lastDraw < 100 && progress.done < progress.total) return;
      lastDraw = now;
      shown = true;
      const width = 30;
      const ratio = progress.total === 0 ? 1 : Math.min(1, progress.done / progress.total);
      const filled = Math.round(ratio * width);
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${mb(progress.done)}/${mb(progress.total)} MB ${progress.entry.slice(-40).padEnd(40)}`);
    },
    done() {
      if (shown) process.stderr.write('\n');
    },
  };
}

function printInspection(inspection: BundleInspection): void {
  const manifest = inspection.manifest;
  if (manifest) {
    process.stdout.write(
      [
        `bundle ${manifest.bundle_id} (format ${manifest.schema_version}), Keel ${manifest.keel_version} on ${manifest.platform.os}/${manifest.platform.arch}, created ${manifest.created}`,
        `runs: ${manifest.runs.map((run) => `${run.run_id} (${run.events} events${run.redacted_seqs.length ? `, ${run.redacted_seqs.length} redacted` : ''}${run.quarantined ? ', quarantined' : ''})`).join(', ') || 'none'}`,
        `redactions: ${manifest.redaction.total}${manifest.redaction.total ? ` (${Object.entries(manifest.redaction.by_rule).map(([rule, n]) => `${rule} ${n}`).join(', ')})` : ''}`,
        '',
      ].join('\n'),
    );
  }
  for (const entry of inspection.entries) process.stdout.write(`${entry.status.padEnd(9)} ${String(entry.size).padStart(10)}  ${entry.path}\n`);
  for (const problem of inspection.problems) process.stdout.write(`PROBLEM: ${problem}\n`);
  process.stdout.write(inspection.ok ? 'all checksums match\n' : 'the bundle does NOT match its manifest\n');
}

interface BundleOptions {
  data?: string;
  run?: string[];
  all?: boolean;
  out?: string;
  json?: boolean;
}

export function registerBundle(program: Command): void {
  const bundle = withDataOption(program.command('bundle'))
    .description('write a diagnostics bundle (a zip, secrets redacted) of runs; inspect or import one')
    .option('--run <id>', 'a run to include (repeat for more)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--all', 'include every run')
    .option('--out <file>', 'where to write the zip (default: keel-diagnostics-<time>.zip here)')
    .option('--json', 'print the result as JSON')
    .action(async (options: BundleOptions) => {
      if (!options.all && !options.run?.length) throw new Error('Name a run with --run ID (repeatable), or use --all.');
      const { ledger, note } = await openForCommand({ ...(options.data ? { data: options.data } : {}), readOnly: true }, 'read');
      if (note) process.stderr.write(`${note}\n`);
      const bar = progressBar();
      try {
        const runIds = options.all ? ledger.runs().map((run) => run.id) : options.run!;
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const out = path.resolve(options.out ?? `keel-diagnostics-${stamp}.zip`);
        const result = await writeBundle({
          ledger,
          dataDir: ledger.dataDir,
          runIds,
          out,
          onProgress: bar.onProgress,
          doctor: () => runDoctor({ dataDir: ledger.dataDir, ledger }),
        });
        bar.done();
        if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          process.stdout.write(
            `wrote ${result.file} (${result.bytes} bytes): ${result.runs.length} run(s), ${result.entries} entries, ${result.redactions} redaction(s)\n`,
          );
        }
      } catch (error) {
        bar.done();
        throw error;
      } finally {
        await ledger.close();
      }
    });

  bundle
    .command('inspect <file>')
    .description("check a bundle's checksums against its manifest and list what is inside; exit 1 on any mismatch")
    .option('--data <dir>', 'accepted like every command (inspect reads only the file)')
    .option('--json', 'print JSON')
    .action(async (file: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ json?: boolean }>();
      try {
        const inspection = await inspectBundle(file);
        if (options.json) process.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
        else printInspection(inspection);
        if (!inspection.ok) process.exitCode = 1;
      } catch (error) {
        if (error instanceof BundleError) throw new Error(error.message);
        throw error;
      }
    });

  bundle
    .command('import <file>')
    .description('import a bundle read-only under "Imported" (never mixed with your own runs); refuses bad checksums, unsafe paths, zip bombs and newer formats')
    .option('--data <dir>', 'data directory (default: $KEEL_DATA_DIR, else the platform default)')
    .option('--json', 'print JSON')
    .action(async (file: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ data?: string; json?: boolean }>();
      const dataDir = dataDirFor(options.data, 'create');
      const result = await importBundle(file, dataDir);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        process.stdout.write(`${result.already ? 'already imported' : 'imported'} bundle ${result.bundle_id} into ${result.dir} (read-only)\n`);
        for (const run of result.runs) {
          process.stdout.write(
            `  run ${run.run_id}: ${run.events} events, ${run.verified} verified by hash and chain${run.redacted.length ? `, ${run.redacted.length} redacted (seq ${run.redacted.join(', ')}): links checked, content not` : ''}\n`,
          );
          for (const problem of run.problems) process.stdout.write(`    PROBLEM: ${problem}\n`);
        }
      }
      if (result.runs.some((run) => run.problems.length > 0)) process.exitCode = 1;
    });
}
