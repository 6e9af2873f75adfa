// The host's side of the live OTLP exporter: starts `live-main.js` in its own process while the
// setting is on, reads its JSON status lines, starts it again (with jittered backoff) when it
// dies, and stops it when the setting goes off or the host closes. The exporter's position file
// makes a restart resume where the collector last acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LiveExportLine, type LiveExportStatus } from '../../contract/schemas/sinks.js';
import { nodeChildEnv } from '../../runtime/index.js';
import { Backoff } from '../backoff.js';

export const liveExportMain = fileURLToPath(new URL('../../../dist/sinks/otlp/live-main.js', import.meta.url));

/** How long a stopping child may take to finish its batch before it is killed. */
const STOP_GRACE_MS = 3000;
/** A status line longer than this is not one of ours; it is ignored rather than held. */
const MAX_LINE = 16 * 1024;

export interface LiveExportOptions {
  dataDir: string;
  /** Restart delays (tests shorten them). */
  backoff?: Backoff;
  env?: NodeJS.ProcessEnv;
  onProblem?: (message: string) => void;
}

export class LiveOtlpExport {
  private child: ChildProcess | null = null;
  /** The child being stopped on purpose (its exit is not a crash). */
  private stopping: ChildProcess | null = null;
  private wanted = false;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff: Backoff;
  private status: LiveExportStatus = { state: 'off', endpoint: null, spansSent: 0, lastSentAt: null, problem: null, restarts: 0 };
  private readonly listeners = new Set<(status: LiveExportStatus) => void>();

  constructor(private readonly options: LiveExportOptions) {
    this.backoff = options.backoff ?? new Backoff(1000, 60_000);
  }

  current(): LiveExportStatus {
    return { ...this.status };
  }

  /** The child's pid while it runs (tests kill it). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  onStatus(listener: (status: LiveExportStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Follows the setting: starts the exporter when on, stops it when off. Idempotent. */
  async set(enabled: boolean): Promise<void> {
    if (enabled === this.wanted) return;
    this.wanted = enabled;
    if (enabled) {
      this.update({ problem: null });
      this.spawnChild();
    } else await this.stop();
  }

  async close(): Promise<void> {
    this.wanted = false;
    await this.stop();
    this.listeners.clear();
  }

  private update(patch: Partial<LiveExportStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.listeners) listener(this.current());
  }

  private spawnChild(): void {
    this.restartTimer = null;
    if (!this.wanted || this.child) return;
    this.update({ state: 'starting' });
    const child = spawn(process.execPath, [liveExportMain, this.options.dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: nodeChildEnv(this.options.env ?? process.env) });
    this.child = child;
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      if (line.length <= MAX_LINE) this.receive(line);
    });
    child.once('error', (error) => this.update({ problem: `The live exporter could not start: ${error.message}` }));
    child.once('close', (code, signal) => {
      if (this.child === child) this.child = null;
      const stoppedOnPurpose = this.stopping === child;
      if (stoppedOnPurpose) this.stopping = null;
      if (!this.wanted) {
        this.update({ state: 'off', problem: null }); // switched off: the last attempt's problem (and its "switch off and on") no longer applies
        return;
      }
      // Switched off and on again while it was stopping: start the new one now.
      if (stoppedOnPurpose) return this.spawnChild();
      // It said what is wrong (no endpoint, a refused URL): starting again would say the same.
      if (this.status.state === 'failed' && this.status.problem) {
        const problem = `${this.status.problem} Fix it, then switch the live export off and on.`;
        this.update({ problem });
        this.options.onProblem?.(problem);
        return;
      }
      // It died while wanted (killed, crashed): say why, and start it again after a while.
      const why = `The live exporter stopped (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}.`;
      this.update({ state: 'failed', problem: why, restarts: this.status.restarts + 1 });
      this.options.onProblem?.(why);
      this.restartTimer = setTimeout(() => this.spawnChild(), this.backoff.next());
    });
  }

  private receive(text: string): void {
    let parsed;
    try {
      parsed = LiveExportLine.safeParse(JSON.parse(text));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const line = parsed.data;
    if (line.kind === 'started') this.update({ state: 'running', endpoint: line.endpoint });
    else if (line.kind === 'batch') {
      this.backoff.reset();
      this.update({ state: 'running', spansSent: this.status.spansSent + line.spans, lastSentAt: new Date().toISOString(), problem: null });
    } else if (line.kind === 'retrying') this.update({ state: 'retrying', problem: line.message });
    else this.update({ state: 'failed', problem: line.message });
  }

  private async stop(): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) {
      this.update({ state: 'off', problem: null });
      return;
    }
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    this.stopping = child;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await closed;
    clearTimeout(killer);
  }
}
