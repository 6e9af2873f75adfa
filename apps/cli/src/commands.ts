import { Command } from 'commander';
import { KEEL_VERSION } from '@keel/core/version';

/** A command's registration: adds it (with its options and subcommands) to the program. */
export type Register = (program: Command) => void;

/** The `keel` program before any command: name, description, --version, help after errors. */
export function programShell(): Command {
  return new Command('keel')
    .description('Keel: run AI coding agents on your own git repositories, with a ledger you can verify.')
    .version(KEEL_VERSION)
    .showHelpAfterError();
}

/**
 * Each top-level command's module, loaded only when that command runs (issue 16: start-up is
 * per command). A command missing here still works: bin.ts then builds the whole program
 * (program.ts). apps/cli/test/lazy-commands.test.ts checks that every entry registers exactly
 * the command of its name, with the same options and subcommands as the whole program.
 */
const LAZY: Readonly<Record<string, () => Promise<Register>>> = {
  serve: async () => (await import('./commands/serve.js')).registerServe,
  open: async () => (await import('./commands/open.js')).registerOpen,
  info: async () => (await import('./commands/info.js')).registerInfo,
  ledger: async () => (await import('./commands/ledger.js')).registerLedger,
  run: async () => (await import('./commands/run.js')).registerRun,
  runs: async () => (await import('./commands/runs.js')).registerRuns,
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  policy: async () => (await import('./commands/policy.js')).registerPolicy,
  checkpoints: async () => (await import('./commands/checkpoints.js')).registerCheckpoints,
  gc: async () => (await import('./commands/checkpoints.js')).registerGc,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  sink: async () => (await import('./commands/sink.js')).registerSink,
  export: async () => (await import('./commands/export.js')).registerExport,
  bench: async () => (await import('./commands/bench.js')).registerBench,
  reliability: async () => (await import('./commands/reliability.js')).registerReliability,
  bundle: async () => (await import('./commands/bundle.js')).registerBundle,
};

/** The names bin.ts can start on their own. */
export const LAZY_COMMANDS: readonly string[] = Object.keys(LAZY);

/** The registration of command `name`, loading only its module; null for any other word. */
export async function commandFor(name: string): Promise<Register | null> {
  return Object.hasOwn(LAZY, name) ? LAZY[name]!() : null;
}
