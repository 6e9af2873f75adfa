// Start-up is per command (issue 16): `keel --version` loads nothing but the version, and
// `keel <command> ...` loads only that command's module (commands.ts); anything else — help,
// no command, an unknown or newly added one — builds the whole program (program.ts).
import { parseArgs } from 'node:util';
import { KEEL_VERSION } from '@keel/core/version';

function fail(error: unknown): void {
  process.stderr.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

/**
 * `keel runs`, `--json` and `--data DIR` in any order, and nothing else: the listing a person
 * runs most, started without commander (issue 16: loading it was ~35 ms of `keel runs`, against
 * a 300 ms target at 2,000 runs). Null for any other shape (help, a subcommand, an unknown or
 * incomplete option): commander then parses it and says what is wrong, as for every command.
 */
function plainRunsList(args: string[]): { data?: string; json?: boolean } | null {
  if (args[0] !== 'runs') return null;
  try {
    const { values } = parseArgs({ args: args.slice(1), options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false });
    return values;
  } catch {
    return null;
  }
}

async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${KEEL_VERSION}\n`);
    return;
  }
  const runsList = plainRunsList(args);
  if (runsList) {
    const { printRuns } = await import('./commands/runs.js');
    await printRuns(runsList);
    return;
  }
  // commander and the command table load only past --version.
  const { commandFor, programShell } = await import('./commands.js');
  const register = args[0] === undefined ? null : await commandFor(args[0]);
  if (register) {
    const program = programShell();
    register(program);
    await program.parseAsync(argv);
    return;
  }
  const { buildProgram } = await import('./program.js');
  await buildProgram().parseAsync(argv);
}

main(process.argv).catch(fail);
