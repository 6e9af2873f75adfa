// readLines (ledger/line-reader.ts): every line of a file with its exact byte offsets, in bounded
// memory. With `reuse` it reads into one buffer (the ledger check reads every log whole, issue 16:
// peak RSS) and must give the same lines and offsets as the fresh-copy read.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines, type Line } from '../src/ledger/line-reader.js';
import { tempDir } from './helpers.js';

const root = tempDir('keel-lines-');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const MiB = 1 << 20;

/** Each line as plain values, its bytes copied while they are valid. */
function collect(file: string, from: number, reuse: boolean): Array<Omit<Line, 'bytes'> & { text: string }> {
  const out: Array<Omit<Line, 'bytes'> & { text: string }> = [];
  for (const line of readLines(file, from, { reuse })) out.push({ start: line.start, end: line.end, terminated: line.terminated, text: line.bytes.toString('latin1') });
  return out;
}

/** The lines a plain split of the file gives, from byte `from`. */
function expected(content: Buffer, from: number): Array<Omit<Line, 'bytes'> & { text: string }> {
  const out: Array<Omit<Line, 'bytes'> & { text: string }> = [];
  let start = from;
  while (start < content.length) {
    const newline = content.indexOf(10, start);
    const end = newline === -1 ? content.length : newline + 1;
    out.push({ start, end, terminated: newline !== -1, text: content.toString('latin1', start, newline === -1 ? end : newline) });
    start = end;
  }
  return out;
}

function fileOf(name: string, lines: string[], tail = ''): { file: string; content: Buffer } {
  const content = Buffer.from(lines.map((line) => `${line}\n`).join('') + tail, 'latin1');
  const file = path.join(root, name);
  fs.writeFileSync(file, content);
  return { file, content };
}

describe('readLines', () => {
  // Lines that cross the 1 MiB read boundary, one longer than two reads, empty lines, and an unterminated tail.
  const lines = [
    ...Array.from({ length: 3_000 }, (_, i) => `{"seq":${i},"text":"${'a'.repeat((i * 37) % 900)}"}`),
    'L'.repeat(Math.round(2.5 * MiB)),
    '',
    ...Array.from({ length: 2_000 }, (_, i) => `${i}:${'b'.repeat((i * 53) % 1_500)}`),
    '',
  ];
  const { file, content } = fileOf('mixed.ndjson', lines, 'torn tail without a newline');

  it('reading into one buffer gives the same lines and offsets as fresh copies, from the start and from inside the file', () => {
    for (const from of [0, 1, content.indexOf(10) + 1, MiB - 3, MiB + 17, content.length - 10, content.length]) {
      const want = expected(content, from);
      expect(collect(file, from, true)).toEqual(want);
      expect(collect(file, from, false)).toEqual(want);
    }
  });

  it('a line longer than the buffer is given whole, and an unterminated last line is marked so', () => {
    const got = collect(file, 0, true);
    expect(got.find((line) => line.text.length > 2 * MiB)?.text).toBe(lines[3_000]);
    expect(got.at(-1)).toMatchObject({ text: 'torn tail without a newline', terminated: false, end: content.length });
  });

  it('without reuse, the bytes of every line stay valid after the read moved on', () => {
    const kept = [...readLines(file)].map((line) => line.bytes);
    expect(kept.map((bytes) => bytes.toString('latin1'))).toEqual(expected(content, 0).map((line) => line.text));
  });

  it('an empty file and a start at its end give no lines', () => {
    const { file: empty } = fileOf('empty.ndjson', []);
    expect(collect(empty, 0, true)).toEqual([]);
    expect(collect(file, content.length, true)).toEqual([]);
  });
});
