import { Command } from 'commander';
import { KEEL_VERSION } from '@keel/core';
import { registerServe } from './commands/serve.js';
import { registerOpen } from './commands/open.js';
import { registerInfo } from './commands/info.js';
import { registerLedger } from './commands/ledger.js';
import { registerBench } from './commands/bench.js';
import { registerReplay } from './commands/replay.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerPolicy } from './commands/policy.js';
import { registerCheckpoints, registerGc } from './commands/checkpoints.js';
import { registerDoctor } from './commands/doctor.js';
import { registerReliability } from './commands/reliability.js';
import { registerBundle } from './commands/bundle.js';
import { registerSink } from './commands/sink.js';
import { registerExport } from './commands/export.js';

/** The `keel` command: every subcommand is a thin layer over @keel/core. */
export function buildProgram(): Command {
  const program = new Command('keel')
    .description('Keel: run AI coding agents on your own git repositories, with a ledger you can verify.')
    .version(KEEL_VERSION)
    .showHelpAfterError();
  registerServe(program);
  registerOpen(program);
  registerInfo(program);
  registerLedger(program);
  registerRun(program);
  registerRuns(program);
  registerReplay(program);
  registerPolicy(program);
  registerCheckpoints(program);
  registerGc(program);
  registerDoctor(program);
  registerSink(program);
  registerExport(program);
  registerBench(program);
  registerReliability(program);
  registerBundle(program);
  return program;
}
