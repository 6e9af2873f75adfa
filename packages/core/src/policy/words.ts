import type { Node } from 'web-tree-sitter';

/**
 * One shell word after quote removal, as far as it can be known without running anything.
 * `value` is null when the word holds an expansion (`$X`, `${X}`, `$(...)`, backticks,
 * arithmetic, brace expansion, an unknown `~user`) or anything this module does not recognise;
 * `glob` is set when unquoted `*`, `?` or `[` would make the shell expand it to file names.
 * A word that is not fully static can turn into zero, one or many words at run time.
 */
export interface ShellWord {
  value: string | null;
  /** The word as written. */
  source: string;
  glob: boolean;
}

/** Whether the word is exactly known: no expansion and no glob. */
export const isStatic = (word: ShellWord): word is ShellWord & { value: string } => word.value !== null && !word.glob;

export const literalWord = (value: string): ShellWord => ({ value, source: value, glob: false });

interface Segment {
  text: string;
  quoted: boolean;
}

/** Decodes the inside of `$'...'` (bash ANSI-C quoting); null for anything unusual. */
export function decodeAnsiC(body: string): string | null {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === undefined) return null;
    const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (next in simple) {
      out += simple[next];
      continue;
    }
    const hex = (max: number) => {
      let digits = '';
      while (digits.length < max && /[0-9a-fA-F]/.test(body[i + 1] ?? '')) digits += body[++i];
      return digits;
    };
    if (next === 'x') {
      const digits = hex(2);
      if (digits === '') return null;
      out += String.fromCharCode(parseInt(digits, 16));
    } else if (next === 'u' || next === 'U') {
      const digits = hex(next === 'u' ? 4 : 8);
      if (digits === '') return null;
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) return null;
      out += String.fromCodePoint(code);
    } else if (/[0-7]/.test(next)) {
      let digits = next;
      while (digits.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) digits += body[++i];
      out += String.fromCharCode(parseInt(digits, 8) & 0xff);
    } else if (next === 'c') {
      const control = body[++i];
      if (control === undefined) return null;
      out += String.fromCharCode(control.toUpperCase().charCodeAt(0) & 0x1f);
    } else {
      out += `\\${next}`;
    }
  }
  return out;
}

/**
 * A backstop for text the parser calls literal: an unescaped backtick, or an unescaped `$`
 * followed by anything a shell would expand, means it is not.
 */
function mayExpand(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') i++;
    else if (ch === '`') return true;
    else if (ch === '$' && i + 1 < text.length && /[A-Za-z0-9_{(@*#?$!'"-]/.test(text[i + 1]!)) return true;
  }
  return false;
}

/** Backslash removal inside double quotes: only before `$`, a backtick, `"`, `\` or a newline. */
function unescapeDoubleQuoted(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\\' && next !== undefined && '$`"\\\n'.includes(next)) {
      if (next !== '\n') out += next;
      i++;
    } else out += ch;
  }
  return out;
}

/**
 * The segments of a node: each child's text in order, with the literal text between children
 * (a gap) checked to be what the parser says it is. Null when the children do not tile the node.
 */
function childSpans(node: Node): Array<{ child: Node | null; text: string }> | null {
  const spans: Array<{ child: Node | null; text: string }> = [];
  let at = node.startIndex;
  const text = node.text;
  for (const child of node.children) {
    if (child.startIndex < at) return null;
    if (child.startIndex > at) spans.push({ child: null, text: text.slice(at - node.startIndex, child.startIndex - node.startIndex) });
    if (text.slice(child.startIndex - node.startIndex, child.endIndex - node.startIndex) !== child.text) return null;
    spans.push({ child, text: child.text });
    at = child.endIndex;
  }
  if (at < node.endIndex) spans.push({ child: null, text: text.slice(at - node.startIndex) });
  return spans;
}

/** Unquoted text: backslash escapes the next character (kept as quoted), `\<newline>` vanishes. */
function unquotedSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let plain = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      if (next === '\n') continue;
      if (plain) segments.push({ text: plain, quoted: false });
      plain = '';
      segments.push({ text: next, quoted: true });
    } else plain += ch;
  }
  if (plain) segments.push({ text: plain, quoted: false });
  return segments;
}

/** The segments of one word node, or null when it is not static. */
function segmentsOf(node: Node): Segment[] | null {
  switch (node.type) {
    case 'word':
    case 'number':
      return mayExpand(node.text) ? null : unquotedSegments(node.text);
    case 'command_name': {
      const parts: Segment[] = [];
      for (const span of childSpans(node) ?? []) {
        if (span.child === null) {
          if (span.text.trim() !== '') return null;
          continue;
        }
        const inner = segmentsOf(span.child);
        if (inner === null) return null;
        parts.push(...inner);
      }
      return parts;
    }
    case 'raw_string': {
      const text = node.text;
      if (!text.startsWith("'") || !text.endsWith("'") || text.length < 2) return null;
      return [{ text: text.slice(1, -1), quoted: true }];
    }
    case 'ansi_c_string': {
      const text = node.text;
      if (!text.startsWith("$'") || !text.endsWith("'")) return null;
      const decoded = decodeAnsiC(text.slice(2, -1));
      return decoded === null ? null : [{ text: decoded, quoted: true }];
    }
    case 'string': {
      const spans = childSpans(node);
      if (spans === null) return null;
      let out = '';
      for (const [index, span] of spans.entries()) {
        const child = span.child;
        if (child !== null && child.type === '"' && (index === 0 || index === spans.length - 1)) continue;
        if (child === null || child.type === 'string_content') {
          if (mayExpand(span.text)) return null;
          out += unescapeDoubleQuoted(span.text);
        } else return null; // an expansion or substitution inside the quotes
      }
      return [{ text: out, quoted: true }];
    }
    case 'concatenation': {
      const spans = childSpans(node);
      if (spans === null) return null;
      const parts: Segment[] = [];
      for (const span of spans) {
        if (span.child === null) {
          // Text the parser left between the parts of one word: take it as unquoted literal
          // unless it could expand.
          if (/\s/.test(span.text) || mayExpand(span.text)) return null;
          parts.push(...unquotedSegments(span.text));
          continue;
        }
        const inner = segmentsOf(span.child);
        if (inner === null) return null;
        parts.push(...inner);
      }
      return parts;
    }
    default:
      // simple_expansion, expansion, command_substitution, process_substitution,
      // arithmetic_expansion, brace_expression, extglob_pattern, translated_string, a bare `$`
      // token, and anything new: not statically known.
      return null;
  }
}

/** Unquoted `{...,...}` or `{a..b}`: bash brace expansion turns one word into several. */
function hasBraceExpansion(segments: Segment[]): boolean {
  const unquoted = segments.map((segment) => (segment.quoted ? segment.text.replace(/./gs, '_') : segment.text)).join('');
  return /\{[^{}]*(,|\.\.)[^{}]*\}/.test(unquoted);
}

/**
 * Builds one word from the nodes that make it (adjacent nodes with no space between are one
 * shell word). `home` expands a leading unquoted `~` or `~/`.
 */
export function wordOf(nodes: readonly Node[], home: string | undefined): ShellWord {
  const source = nodes.map((node) => node.text).join('');
  const segments: Segment[] = [];
  for (const node of nodes) {
    const inner = segmentsOf(node);
    if (inner === null) return { value: null, source, glob: false };
    segments.push(...inner);
  }
  if (hasBraceExpansion(segments)) return { value: null, source, glob: false };
  const glob = segments.some((segment) => !segment.quoted && /[*?[]/.test(segment.text));
  const first = segments[0];
  if (first && !first.quoted && first.text.startsWith('~')) {
    const rest = first.text.slice(1);
    const slash = rest.indexOf('/');
    const user = slash === -1 ? rest : rest.slice(0, slash);
    // `~` alone, `~/x`, or `~` followed by a quoted part (`~"/x"`): the home directory.
    if (user !== '' || home === undefined) return { value: null, source, glob };
    first.text = home + rest;
  }
  return { value: segments.map((segment) => segment.text).join(''), source, glob };
}

/** Splits nodes into shell words: nodes that touch (no whitespace between) form one word. */
export function groupAdjacent(nodes: readonly Node[]): Node[][] {
  const sorted = [...nodes].sort((a, b) => a.startIndex - b.startIndex);
  const groups: Node[][] = [];
  for (const node of sorted) {
    const last = groups[groups.length - 1];
    const previous = last?.[last.length - 1];
    if (last && previous && previous.endIndex === node.startIndex) last.push(node);
    else groups.push([node]);
  }
  return groups;
}
