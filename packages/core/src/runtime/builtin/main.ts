// Keel's built-in ACP agent process:
//   node main.js --script <NAME|PATH> --state-dir <DIR> [--fault <spec>]...
// ACP (newline-delimited JSON-RPC) on stdin/stdout, human-readable log lines on stderr.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ndJsonStream } from '@agentclientprotocol/sdk';
import { createBuiltinAgent } from './agent.js';
import { parseAgentArgs } from './args.js';
import { resolveBuiltinScript } from './catalog.js';
import { isHung } from './fault-injector.js';
import { faultPlan, formatFault, mergeFaults } from './faults.js';
import { stderrLog as log } from './log.js';
import { loadScript } from './script.js';
import { SessionStore } from './session-store.js';
import { StdoutSink } from './stdout-sink.js';

const EXIT_USAGE = 2;

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function configure() {
  try {
    const args = parseAgentArgs(process.argv.slice(2));
    const scriptFile = resolveBuiltinScript(args.script);
    const script = loadScript(scriptFile);
    const faults = mergeFaults(script.faults ?? [], args.faults);
    return { stateDir: path.resolve(args.stateDir), scriptFile, script, faults };
  } catch (error) {
    log(`cannot start: ${(error as Error).message}`);
    process.exit(EXIT_USAGE);
  }
}

async function main(): Promise<void> {
  const { stateDir, scriptFile, script, faults } = configure();
  log(`starting: script "${script.name}" (${scriptFile}), ${script.turns.length} turn(s), state dir ${stateDir}`);
  log(`faults: ${faults.length > 0 ? faults.map(formatFault).join(', ') : 'none'}`);

  process.stderr.on('error', () => undefined); // a broken log pipe (host gone) must not kill the agent
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // EPIPE: the client went away; nobody is left to talk to.
    log(`stdout failed (${error.code ?? error.message}); exiting`);
    process.exit(error.code === 'EPIPE' ? 0 : 1);
  });
  const sink = new StdoutSink(process.stdout);
  const app = createBuiltinAgent({ script, plan: faultPlan(faults), store: new SessionStore(stateDir), sink, log, version: version() });
  const input = Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>;
  const connection = app.connect(ndJsonStream(sink.writable, input));
  await connection.closed;
  if (isHung()) {
    log('connection closed while hung; staying alive until killed');
    return;
  }
  await sink.idle();
  log('connection closed; exiting');
  process.exit(0);
}

process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log(`fatal (unhandled rejection): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  process.exit(1);
});

void main();
