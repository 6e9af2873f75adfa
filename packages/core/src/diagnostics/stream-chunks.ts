// Secrets split across streamed chunks. Agents stream text in small deltas (message.chunk,
// thought.chunk, terminal.output, tool.updated output in the ledger; session/update and
// item/*/delta notifications in protocol logs): a token can arrive in two or more lines, and
// no line alone holds it. This pass joins the chunks of each stream within a batch, looks for
// secrets in the joined text, and redacts the part of every chunk a secret crosses.
import { placeholder, type Redactor } from './redactor.js';

/** One line of a batch: what it was, parsed, and what will be written. */
export interface SliceRecord {
  /** The line's JSON object (null: not JSON). */
  readonly before: Record<string, unknown> | null;
  /** Text before the JSON on the line (a protocol log's `<time> <in|out> `), kept as is. */
  readonly prefix?: string;
  /** The line as it will be written (already redacted line by line). */
  line: string;
}

type Path = ReadonlyArray<string | number>;
interface Leaf {
  record: SliceRecord;
  path: Path;
  text: string;
}

/** Which ledger stream a record's text belongs to, and where the text is; null for other records. */
function ledgerLeaf(record: Record<string, unknown>): { key: string; path: Path } | null {
  const payload = record.payload as Record<string, unknown> | undefined;
  if (!payload || typeof payload !== 'object') return null;
  switch (record.type) {
    case 'message.chunk':
    case 'thought.chunk':
      return typeof payload.text === 'string' ? { key: `${record.type}|${String(record.generation)}|${String(payload.turn)}`, path: ['payload', 'text'] } : null;
    case 'terminal.output':
      return typeof payload.text === 'string' ? { key: `terminal|${String(payload.terminalId)}`, path: ['payload', 'text'] } : null;
    case 'tool.updated':
      return typeof payload.output === 'string' ? { key: `tool|${String(payload.toolCallId)}`, path: ['payload', 'output'] } : null;
    default:
      return null;
  }
}

/** Keys whose string values are streamed deltas in agent protocols (ACP, Codex). */
const DELTA_KEYS = new Set(['text', 'delta', 'output', 'chunk', 'stdout', 'stderr', 'content']);

/** Every streamed-text leaf of a protocol message, keyed by its path with array indices as `*`. */
function protocolLeaves(value: unknown, path: Array<string | number>, out: Array<{ key: string; path: Path; text: string }>): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => protocolLeaves(item, [...path, i], out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string' && DELTA_KEYS.has(key)) out.push({ key: [...path, key].map((part) => (typeof part === 'number' ? '*' : part)).join('.'), path: [...path, key], text: item });
      else protocolLeaves(item, [...path, key], out);
    }
  }
}

function setAt(target: Record<string, unknown>, path: Path, text: string): void {
  let at: Record<string | number, unknown> = target;
  for (const part of path.slice(0, -1)) at = at[part] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = text;
}

/** The cuts each leaf needs for secrets that cross leaves of one stream (in-leaf secrets are the line pass's). */
async function cutsAcross(redactor: Redactor, leaves: Leaf[], counts: Record<string, number>, cuts: Map<Leaf, Array<{ start: number; end: number; with: string }>>): Promise<void> {
  const starts: number[] = [];
  let length = 0;
  for (const leaf of leaves) {
    starts.push(length);
    length += leaf.text.length;
  }
  for (const range of await redactor.find(leaves.map((leaf) => leaf.text).join(''))) {
    const touched = leaves.map((_, i) => i).filter((i) => starts[i]! < range.end && starts[i]! + leaves[i]!.text.length > range.start);
    if (touched.length < 2) continue;
    counts[range.rule] = (counts[range.rule] ?? 0) + 1;
    touched.forEach((i, n) => {
      const leaf = leaves[i]!;
      const list = cuts.get(leaf) ?? [];
      list.push({ start: Math.max(range.start, starts[i]!) - starts[i]!, end: Math.min(range.end, starts[i]! + leaf.text.length) - starts[i]!, with: n === 0 ? placeholder(range.rule) : '' });
      cuts.set(leaf, list);
    });
  }
}

/**
 * Redacts secrets that cross chunk boundaries within `records` (one batch, in order): ledger
 * records (`kind: 'ledger'`) by their stream, protocol log lines by the path of each delta.
 * Rewrites the lines it changes (redacted line by line again) and returns them.
 */
export async function redactAcrossChunks(redactor: Redactor, records: SliceRecord[], counts: Record<string, number>, kind: 'ledger' | 'protocol'): Promise<SliceRecord[]> {
  const streams = new Map<string, Leaf[]>();
  const add = (key: string, leaf: Leaf) => {
    const list = streams.get(key) ?? [];
    list.push(leaf);
    streams.set(key, list);
  };
  for (const record of records) {
    if (!record.before) continue;
    if (kind === 'ledger') {
      const found = typeof record.before.seq === 'number' ? ledgerLeaf(record.before) : null;
      if (found) add(found.key, { record, path: found.path, text: (record.before.payload as Record<string, string>)[found.path[1] as string]! });
    } else {
      const found: Array<{ key: string; path: Path; text: string }> = [];
      protocolLeaves(record.before, [], found);
      for (const leaf of found) add(leaf.key, { record, path: leaf.path, text: leaf.text });
    }
  }
  const cuts = new Map<Leaf, Array<{ start: number; end: number; with: string }>>();
  for (const leaves of streams.values()) if (leaves.length >= 2) await cutsAcross(redactor, leaves, counts, cuts);
  const changed = new Map<SliceRecord, Record<string, unknown>>();
  for (const [leaf, list] of cuts) {
    let text = leaf.text;
    for (const cut of list.sort((a, b) => b.start - a.start)) text = text.slice(0, cut.start) + cut.with + text.slice(cut.end);
    const copy = changed.get(leaf.record) ?? (structuredClone(leaf.record.before) as Record<string, unknown>);
    setAt(copy, leaf.path, text);
    changed.set(leaf.record, copy);
  }
  for (const [record, copy] of changed) {
    // The rest of the line is redacted as the line pass did; placeholders are JSON-safe.
    record.line = `${record.prefix ?? ''}${(await redactor.redact(JSON.stringify(copy))).text}`;
  }
  return [...changed.keys()];
}
