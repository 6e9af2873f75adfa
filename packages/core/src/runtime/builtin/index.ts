import path from 'node:path';
import { isPathLike } from './catalog.js';
import { compiledMain } from './paths.js';

export { listBuiltinScripts, resolveBuiltinScript, type BuiltinScriptInfo } from './catalog.js';
export { DEFAULT_BIG_MESSAGE_BYTES, FAULT_EXIT_CODE, faultPlan, formatFault, mergeFaults, parseFault, FaultSpecError, type Fault, type StepFault } from './faults.js';
export { loadScript, parseScript, ScriptError, ScriptSchema, type Script, type Step } from './script.js';

export interface BuiltinAgentOptions {
  /** A shipped script name (`hello`, `edit-and-test`, ...) or a path to a script file. */
  script: string;
  /** Where the agent keeps `<sessionId>.json` (created if missing). */
  stateDir: string;
  /** Fault specs, see faults.ts; they override the script's faults of the same kind. */
  faults?: string[];
}

/** The argv that starts Keel's built-in ACP agent: `[node, main.js, ...args]`. */
export function builtinAgentCommand(options: BuiltinAgentOptions): string[] {
  const faults = (options.faults ?? []).flatMap((fault) => ['--fault', fault]);
  // Paths are made absolute here: the agent runs with the workspace as its cwd, not ours.
  const script = isPathLike(options.script) ? path.resolve(options.script) : options.script;
  return [process.execPath, compiledMain, '--script', script, '--state-dir', path.resolve(options.stateDir), ...faults];
}
