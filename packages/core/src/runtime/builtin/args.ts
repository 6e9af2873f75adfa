import { parseArgs } from 'node:util';

export interface AgentArgs {
  script: string;
  stateDir: string;
  faults: string[];
}

export const USAGE = 'usage: main.js --script <NAME|PATH> --state-dir <DIR> [--fault <spec>]...';

/** Parses the agent's command line; throws with the usage line on anything unexpected. */
export function parseAgentArgs(argv: string[]): AgentArgs {
  let values: { script?: string; 'state-dir'?: string; fault?: string[] };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { script: { type: 'string' }, 'state-dir': { type: 'string' }, fault: { type: 'string', multiple: true } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.script) throw new Error(`--script is required\n${USAGE}`);
  if (!values['state-dir']) throw new Error(`--state-dir is required\n${USAGE}`);
  return { script: values.script, stateDir: values['state-dir'], faults: values.fault ?? [] };
}
