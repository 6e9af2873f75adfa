// Start-up is per command (issue 16): `keel --version` loads nothing but the version, and
// `keel <command> ...` loads only that command's module (commands.ts); anything else — help,
// no command, an unknown or newly added one — builds the whole program (program.ts).
import { KEEL_VERSION } from '@keel/core/version';

function fail(error: unknown): void {
  process.stderr.write(`keel: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${KEEL_VERSION}\n`);
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
