import { Lexer } from 'marked';

/**
 * Long agent text is rendered in parts so a streamed message does not re-parse (or re-lay out)
 * all of itself on every update: only its last part changes while it streams (issue 16, the
 * longest task while streaming). Two kinds of parts:
 *
 * - `markdownBlocks`: a message from BLOCKS_FROM characters is split at its top-level markdown
 *   blocks (marked's block lexer: a list, a fenced code block, a table stays one block); each is
 *   rendered as markdown on its own and keeps its render while it does not change.
 * - `plainChunks`: the plain-text tail of a message over the markdown limit is cut into chunks
 *   of about PLAIN_CHUNK characters at line ends, at positions that do not move as text is
 *   appended, so the browser lays out only the last chunk again.
 */
export const BLOCKS_FROM = 2_000;

/**
 * The text as consecutive parts that concatenate back to it, split between top-level blocks;
 * `[text]` when it is short, or when splitting could change what it renders as: reference-style
 * link definitions and footnotes are resolved across the whole text.
 */
export function markdownBlocks(text: string, from = BLOCKS_FROM): string[] {
  if (text.length < from || text.includes('[^')) return [text];
  const lexer = new Lexer({ gfm: true });
  // The block pass only: inline lexing is react-markdown's job, per block.
  const tokens = lexer.blockTokens(text.replace(/\r\n?/g, '\n'), []);
  if (Object.keys(lexer.tokens.links).length > 0) return [text];
  const blocks: string[] = [];
  let used = 0;
  for (const token of tokens) {
    // Blank lines belong to the block before them.
    if (token.type === 'space' && blocks.length > 0) blocks[blocks.length - 1] += token.raw;
    else blocks.push(token.raw);
    used += token.raw.length;
  }
  // A text the lexer did not cover exactly (carriage returns, anything unexpected): whole.
  if (used !== text.length || blocks.join('') !== text) return [text];
  return blocks;
}

/** Characters per chunk of a long plain-text tail. */
export const PLAIN_CHUNK = 2_000;

/**
 * Chunk start positions of `text`: from 0, each chunk ends after the last line end within
 * PLAIN_CHUNK characters of its start (or at PLAIN_CHUNK when there is none). Appending text
 * changes only the last chunk.
 */
export function plainChunkStarts(text: string, size = PLAIN_CHUNK): number[] {
  const starts = [0];
  for (let start = 0; start + size < text.length; ) {
    const lineEnd = text.lastIndexOf('\n', start + size - 1);
    const next = lineEnd >= start ? lineEnd + 1 : start + size;
    starts.push(next);
    start = next;
  }
  return starts;
}

/** The chunks holding the last `limit` characters or a little fewer (whole chunks): start offset and text. */
export function plainTail(text: string, limit: number, size = PLAIN_CHUNK): { from: number; chunks: Array<{ at: number; text: string }> } {
  const starts = plainChunkStarts(text, size);
  let first = starts.findIndex((start) => start >= text.length - limit);
  if (first === -1) first = starts.length - 1;
  const chunks = starts.slice(first).map((at, i, all) => ({ at, text: text.slice(at, all[i + 1] ?? text.length) }));
  return { from: starts[first]!, chunks };
}

/** A text and its blocks (`markdownBlocks`), kept to split the next, longer text from. */
export interface SplitText {
  text: string;
  blocks: string[];
}

/**
 * The blocks of `text`, lexing only from the start of `before`'s last block when `text` is
 * `before.text` with more appended (a streamed message): the blocks before that one stay as they
 * were. Anything else is split from scratch.
 */
export function appendBlocks(before: SplitText | null, text: string, from = BLOCKS_FROM): string[] {
  if (!before || before.blocks.length < 2 || !text.startsWith(before.text) || text.includes('[^')) return markdownBlocks(text, from);
  const kept = before.blocks.slice(0, -1);
  const start = before.text.length - before.blocks[before.blocks.length - 1]!.length;
  const rest = markdownBlocks(text.slice(start), 0);
  // A reference definition in the new part resolves across the whole text: split from scratch.
  if (rest.length === 1 && rest[0] === text.slice(start) && /^ {0,3}\[[^\]]+\]:/m.test(rest[0])) return markdownBlocks(text, from);
  return kept.concat(rest);
}

/**
 * A block this long that is still being streamed is shown as plain text until it stops growing
 * for GROWING_QUIET_MS (a pause in a stream, even on a loaded host, is shorter): parsing tens of
 * thousands of characters as markdown on every update is the longest main-thread task while a
 * run streams. Once quiet it is parsed once.
 */
export const LIVE_PLAIN_FROM = 2_000;
export const GROWING_QUIET_MS = 3_000;
/** While such a block grows, the text is split into blocks again at most this often (a finished block in it then renders as markdown). */
export const RELEX_MS = 500;
