// Diagnostics bundle redaction (issue 14, I12): a real run of the built-in agent carries more
// than 100 planted secrets of many kinds in its prompt, agent messages, thoughts, tool inputs,
// tool outputs, file diffs, stderr and protocol logs; the unzipped bundle (read with the
// system's `unzip -p`) holds none of them. Also: the false-positive rate on ordinary code, and
// a redactor that fails leaves no file at all.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor, RedactionError, writeBundle, inspectBundle, sliceEvents } from '../src/diagnostics/index.js';
import { fold } from '../src/replay/index.js';
import { createRun, repoRoot, tempDir, useRuntimeSuite } from './fixtures/runtime-kit.js';
import { secretCorpus, secretEnvironment, type PlantedSecret } from './fixtures/secret-corpus.js';

useRuntimeSuite();

/** Where each planted secret goes in the run: the script's steps, the prompt, or the agent's stderr. */
type Place = 'prompt' | 'message' | 'thought' | 'write' | 'run' | 'stderr';
const PLACES: readonly Place[] = ['message', 'thought', 'write', 'run', 'stderr', 'prompt'];

function plan(planted: readonly PlantedSecret[]) {
  const by: Record<Place, PlantedSecret[]> = { prompt: [], message: [], thought: [], write: [], run: [], stderr: [] };
  planted.forEach((secret, i) => by[PLACES[i % PLACES.length]!].push(secret));
  const steps: unknown[] = [];
  for (const secret of by.message) steps.push({ message: `Note: ${secret.text}` });
  for (const secret of by.thought) steps.push({ thought: `Thinking about ${secret.text}` });
  by.write.forEach((secret, i) => steps.push({ write: { path: `conf/file-${i}.txt`, content: `# config\n${secret.text}\n` } }));
  // printf's argument is the tool input; what it prints is the tool output.
  for (const secret of by.run) steps.push({ run: { command: 'sh', args: ['-c', 'printf "%s\\n" "$1"', 'sh', secret.text] } });
  // Streamed deltas: a message in 7 chunks, so secrets arrive split across records.
  const streamed = planted.filter((secret) => secret.kind === 'openai' || secret.kind === 'github').slice(0, 4);
  steps.push({ message: `Streamed: ${streamed.map((secret) => secret.text).join(' and ')}`, chunks: 7 });
  steps.push({ message: 'All done.' });
  return { by, streamed, script: { name: 'planted-secrets', description: 'issue 14 redaction corpus', turns: [{ steps }] } };
}

/** Every entry of a zip as text, read with the system's unzip (as a user would check it). */
function unzipAll(file: string): Map<string, string> {
  const names = execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return new Map(names.map((name) => [name, execFileSync('unzip', ['-p', file, name], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })]));
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('diagnostics bundle redaction', () => {
  it('leaves none of 118 planted secrets (17 kinds) from the prompt, messages (also split across streamed chunks), thoughts, tool inputs and outputs, diffs, stderr and protocol logs in the unzipped bundle', async () => {
    const { env, planted: envPlanted } = secretEnvironment();
    const planted = [...secretCorpus(), ...envPlanted];
    expect(planted.length).toBeGreaterThanOrEqual(100);
    expect(new Set(planted.map((secret) => secret.kind)).size).toBeGreaterThanOrEqual(14);
    const { by, streamed, script } = plan(planted);
    const scriptFile = path.join(tempDir('keel-diag-script-'), 'planted.json');
    fs.writeFileSync(scriptFile, JSON.stringify(script));

    const harness = await createRun({ script: scriptFile, approvalMode: 'all' });
    const { turn } = await harness.controller.prompt(`Please look at these:\n${by.prompt.map((secret) => secret.text).join('\n')}`);
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    // The agent's stderr log for its generation: what an agent printing secrets to stderr leaves.
    const runDir = path.join(harness.dataDir, 'runs', harness.runId);
    fs.appendFileSync(path.join(runDir, 'agent-1.stderr.log'), by.stderr.map((secret) => `warn: ${secret.text}\n`).join(''));

    // Every secret really is in the run's data before bundling (so the check below can fail).
    const raw = [path.join(harness.dataDir, 'ledger', `${harness.runId}.ndjson`), ...filesUnder(runDir).filter((file) => file.endsWith('.log'))]
      .map((file) => fs.readFileSync(file, 'utf8'))
      .join('\n');
    const rawJsonText = raw.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    for (const secret of planted) for (const value of secret.secrets) expect(rawJsonText.includes(value), `${secret.kind} ${value.slice(0, 6)}… planted`).toBe(true);
    const protocolLog = fs.readFileSync(path.join(runDir, 'agent-1.protocol.log'), 'utf8');
    expect(by.message.some((secret) => protocolLog.includes(secret.secrets[0]!.slice(0, 12)))).toBe(true);

    const out = path.join(tempDir('keel-diag-out-'), 'bundle.zip');
    const result = await writeBundle({ ledger: harness.ledger, dataDir: harness.dataDir, runIds: [harness.runId], out, redactor: new Redactor({ env }) });
    expect(result.redactions).toBeGreaterThanOrEqual(planted.length);

    const entries = unzipAll(out);
    expect([...entries.keys()]).toEqual(
      expect.arrayContaining(['manifest.json', `runs/${harness.runId}/ledger.ndjson`, `runs/${harness.runId}/agent-1.protocol.log`, `runs/${harness.runId}/agent-1.stderr.log`]),
    );
    const leaks: string[] = [];
    for (const [name, text] of entries) {
      const decoded = text.replace(/\\n/g, '\n').replace(/\\"/g, '"');
      for (const secret of planted) {
        for (const value of secret.secrets) if (text.includes(value) || decoded.includes(value)) leaks.push(`${secret.kind} in ${name}`);
      }
    }
    expect(leaks).toEqual([]);
    // Streamed chunks joined again — by the replay fold, and as the protocol log's text deltas — hold no secret either.
    const slice = entries.get(`runs/${harness.runId}/ledger.ndjson`)!;
    const folded = JSON.stringify(fold(sliceEvents(slice), harness.runId));
    const deltas = entries
      .get(`runs/${harness.runId}/agent-1.protocol.log`)!
      .split('\n')
      .flatMap((line) => [...line.matchAll(/"text":"((?:[^"\\]|\\.)*)"/g)].map((match) => JSON.parse(`"${match[1]}"`) as string))
      .join('');
    expect(fold([...sliceEvents(raw.split('\n').filter((line) => line.startsWith('{"')).join('\n'))], harness.runId).items.length).toBeGreaterThan(0);
    for (const secret of streamed) {
      for (const value of secret.secrets) {
        expect(folded.includes(value), `${secret.kind} joined in the fold`).toBe(false);
        expect(deltas.includes(value), `${secret.kind} joined in the protocol log`).toBe(false);
      }
    }

    // The manifest counts what was redacted per rule and per file, never a value.
    const manifest = JSON.parse(entries.get('manifest.json')!);
    expect(manifest.redaction.total).toBe(result.redactions);
    expect(Object.keys(manifest.redaction.by_file)).toEqual(expect.arrayContaining([`runs/${harness.runId}/ledger.ndjson`, `runs/${harness.runId}/agent-1.stderr.log`]));
    expect(manifest.runs[0].redacted_seqs.length).toBeGreaterThan(0);
    // Redacted records keep their place: still valid JSON with their seq, in order.
    const seqs = entries
      .get(`runs/${harness.runId}/ledger.ndjson`)!
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { seq?: number })
      .filter((record) => record.seq !== undefined)
      .map((record) => record.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect((await inspectBundle(out)).ok).toBe(true);
  });

  it('reports its false-positive rate on ordinary code (Keel\'s own sources) and keeps it under 5% of files', async () => {
    const redactor = new Redactor({ env: {}, home: '/nonexistent-home' });
    const roots = ['packages/core/src', 'apps/renderer/src', 'apps/main/src', 'apps/cli/src'].map((dir) => path.join(repoRoot, dir));
    const files = roots
      .flatMap(filesUnder)
      .filter((file) => /\.(ts|tsx|css)$/.test(file) && !file.includes(`${path.sep}diagnostics${path.sep}`));
    expect(files.length).toBeGreaterThan(100);
    let flaggedFiles = 0;
    let bytes = 0;
    const byRule: Record<string, number> = {};
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      bytes += text.length;
      const { counts } = await redactor.redact(text);
      if (Object.keys(counts).length > 0) flaggedFiles += 1;
      for (const [rule, n] of Object.entries(counts)) byRule[rule] = (byRule[rule] ?? 0) + n;
    }
    const total = Object.values(byRule).reduce((sum, n) => sum + n, 0);
    const rate = flaggedFiles / files.length;
    process.stdout.write(
      `redaction false positives on ordinary code: ${flaggedFiles}/${files.length} files (${(rate * 100).toFixed(1)}%), ${total} replacements in ${(bytes / 1e6).toFixed(2)} MB; by rule ${JSON.stringify(byRule)}\n`,
    );
    expect(rate).toBeLessThan(0.05);
  });

  it('fails closed: a redactor error aborts the bundle and leaves no file, partial or whole', async () => {
    const harness = await createRun({ script: 'hello', approvalMode: 'all' });
    const { turn } = await harness.controller.prompt('hi');
    expect(await harness.controller.waitForTurn(turn)).toBe('end_turn');
    const outDir = tempDir('keel-diag-fail-');
    const out = path.join(outDir, 'bundle.zip');
    let calls = 0;
    // A detector that breaks on its third text: after the ledger slice was staged, mid-bundle.
    const broken = { id: 'broken-detector', find: (): never[] => {
      calls += 1;
      if (calls >= 3) throw new Error('simulated detector crash');
      return [];
    } };
    const before = new Set(fs.readdirSync(path.dirname(tempDir('keel-probe-'))).filter((name) => name.startsWith('keel-bundle-')));
    await expect(writeBundle({ ledger: harness.ledger, dataDir: harness.dataDir, runIds: [harness.runId], out, redactor: new Redactor({ extraDetectors: [broken] }) })).rejects.toBeInstanceOf(
      RedactionError,
    );
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(fs.readdirSync(outDir)).toEqual([]);
    const after = fs.readdirSync(path.dirname(tempDir('keel-probe-'))).filter((name) => name.startsWith('keel-bundle-') && !before.has(name));
    expect(after).toEqual([]);
  });
});
