/**
 * Whether a code block's source is complete, so it can be highlighted: a fenced block needs
 * its closing fence (while a message streams, the last block's fence has not arrived yet and
 * its text still grows); an indented block is complete once something follows it.
 * `start`/`end` are the block's offsets in `source` (from the markdown parser's positions).
 */
export function isCodeBlockComplete(source: string, start: number, end: number): boolean {
  const block = source.slice(start, end);
  const opener = /^[ \t]*(`{3,}|~{3,})/.exec(block);
  if (!opener) return source.slice(end).trim().length > 0;
  const fence = opener[1]!;
  const lines = block.split('\n');
  if (lines.length < 2) return false;
  const last = lines[lines.length - 1]!.trim();
  return last.length >= fence.length && [...last].every((char) => char === fence[0]);
}

/** The language named in a fenced block's info string (`language-ts` class), if any. */
export function languageOf(className: unknown): string | null {
  const classes = Array.isArray(className) ? className : typeof className === 'string' ? className.split(/\s+/) : [];
  for (const name of classes) {
    if (typeof name === 'string' && name.startsWith('language-')) return name.slice('language-'.length) || null;
  }
  return null;
}
