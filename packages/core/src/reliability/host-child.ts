// The host the `host-kill` scenario kills: a real ledger and RunManager (which reconciles what the
// previous, killed host left), one run with the built-in agent streaming, prompted in a loop until
// the parent SIGKILLs this process. Run as a plain Node process from dist/:
//
//   node dist/reliability/host-child.js <dataDir> <workspace> <script> <runId|new> <promptPrefix>
//
// Protocol on stdout, one line each, written synchronously (so a line printed is a line the parent
// can see even when the kill comes right after):
//   READY <runId>
//   PROMPT <text>                 before the prompt is handed to the run (the only prompts it may store)
//   ACK <runId> <seq> <hash>      after the event is durable in both stores (the ledger's commit)
import fs from 'node:fs';
import { openLedger } from '../ledger/index.js';
import { RunManager } from '../runs/index.js';
import { HOST_KILL_RESTART } from './host-protocol.js';

const [dataDir, workspace, script, runArg, prefix] = process.argv.slice(2) as [string, string, string, string, string];
const out = (line: string) => fs.writeSync(1, `${line}\n`);

const ledger = await openLedger({ dataDir });
ledger.onCommit((event) => out(`ACK ${event.run_id} ${event.seq} ${event.hash}`));
const manager = await RunManager.open({ ledger, dataDir, tuning: { restart: HOST_KILL_RESTART } });
const controller =
  runArg === 'new' ? await manager.create({ workspace, agent: { kind: 'builtin', script }, approvalMode: 'all', title: 'reliability host-kill' }) : manager.get(runArg);
// Start the agent before the first prompt (and after a reconciled kill, a fresh generation).
if (controller.runState !== 'stopped') {
  await controller.start();
  await controller.waitForState((state) => state === 'idle' || state === 'stopped' || state === 'interrupted');
}
out(`READY ${controller.runId}`);

for (let n = 1; ; n++) {
  const text = `${prefix}.${n}`;
  out(`PROMPT ${text}`);
  const { turn } = await controller.prompt(text);
  await controller.waitForTurn(turn);
  await controller.waitForState((state) => state === 'idle' || state === 'stopped');
  if (controller.runState === 'stopped') await controller.restartRuntime();
}
