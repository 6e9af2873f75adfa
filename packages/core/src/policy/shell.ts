import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';
import type { PolicyAction } from '../contract/schemas/policy.js';
import { Analysis, MAX_COMMAND_LENGTH, MAX_SYNTAX_DEPTH, topFrame, type Frame } from './analysis.js';
import { analyzeCommand, isSensitiveEnv } from './commands.js';
import { groupAdjacent, isStatic, literalWord, wordOf } from './words.js';

// Shell commands -> actions, through a real parser: tree-sitter's bash grammar (compiled to
// WebAssembly, loaded once). Every simple command anywhere in the tree — in lists, pipelines,
// subshells, groups, if/for/while/case, functions, command and process substitutions, heredocs —
// is analysed on its own (commands.ts); every redirection is a write or read. Input the parser
// cannot take completely (any ERROR or MISSING node) is one unparseable action: never allowed.
// See docs/adr/0006-policy-engine.md for why tree-sitter and not sh-syntax.

let parser: Parser | null = null;
let loading: Promise<void> | null = null;

/** Loads the bash parser (WebAssembly) once; evaluation needs it. Safe to call many times. */
export function loadShellParser(): Promise<void> {
  loading ??= (async () => {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    const language = await Language.load(wasm);
    const next = new Parser();
    next.setLanguage(language);
    parser = next;
  })().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

export const shellParserLoaded = (): boolean => parser !== null;

function requireParser(): Parser {
  if (parser === null) throw new Error('The shell parser is not loaded: await loadShellParser() before evaluating commands.');
  return parser;
}

export interface ShellOptions {
  /** The directory the command runs in (absolute). */
  cwd: string;
  /** Expands `~`; without it a path starting with `~` is not statically known. */
  home?: string;
}

/** The actions of a shell command string. Needs `loadShellParser()` to have resolved. */
export function commandActions(command: string, options: ShellOptions): PolicyAction[] {
  const an: Analysis = new Analysis(options.cwd, options.home, (text, frame) => walkScript(an, text, frame));
  walkScript(an, command, topFrame());
  return an.finish();
}

/** The actions of a command given as an argv (no shell in between: ACP terminals, Codex argv). */
export function argvActions(argv: readonly string[], options: ShellOptions): PolicyAction[] {
  const an: Analysis = new Analysis(options.cwd, options.home, (text, frame) => walkScript(an, text, frame));
  analyzeCommand(an, argv.map(literalWord), topFrame());
  return an.finish();
}

function firstError(node: Node): Node | null {
  if (node.isError || node.isMissing) return node;
  for (const child of node.children) {
    if (!child.hasError && !child.isMissing) continue;
    const found = firstError(child);
    if (found) return found;
  }
  return null;
}

function walkScript(an: Analysis, text: string, frame: Frame): void {
  if (text.length > MAX_COMMAND_LENGTH) {
    an.unknown(frame, `the command is longer than ${MAX_COMMAND_LENGTH} characters`, { unparseable: true });
    return;
  }
  const tree = requireParser().parse(text);
  if (tree === null) {
    an.unknown(frame, 'the shell parser gave up on the command', { unparseable: true, source: text });
    return;
  }
  try {
    const root = tree.rootNode;
    if (root.hasError) {
      const at = firstError(root);
      const where = at ? ` (line ${at.startPosition.row + 1}, column ${at.startPosition.column + 1})` : '';
      an.unknown(frame, `the command does not parse as shell${where}`, { unparseable: true, source: text });
      return;
    }
    new Walker(an, frame, text).visit(root);
  } finally {
    tree.delete();
  }
}

/** Builtins whose arguments name variables they set (`read PATH`, `export PATH=...`). */
const VARIABLE_SETTERS = new Set(['read', 'printf', 'mapfile', 'readarray', 'getopts', 'let', 'declare', 'typeset', 'export', 'local', 'readonly', 'unset']);

/** Node types that nest: the syntax depth limit counts these. */
const NESTING = new Set([
  'subshell', 'compound_statement', 'command_substitution', 'process_substitution', 'if_statement', 'while_statement', 'for_statement',
  'c_style_for_statement', 'case_statement', 'function_definition', 'arithmetic_expansion', 'expansion', 'string', 'test_command',
  'parenthesized_expression', 'binary_expression', 'unary_expression', 'ternary_expression', 'negated_command', 'heredoc_body',
]);
/** Node types that hold no command, redirection or assignment: not descended into. */
const LEAVES = new Set(['word', 'number', 'raw_string', 'ansi_c_string', 'variable_name', 'string_content', 'file_descriptor', 'heredoc_start', 'heredoc_end', 'heredoc_content', 'test_operator', 'special_variable_name', 'regex', 'extglob_pattern', 'comment']);
/** Node types whose body may run many times. */
const REPEATING = new Set(['while_statement', 'for_statement', 'c_style_for_statement', 'function_definition']);

/** Devices a redirection may use freely. */
const HARMLESS_DEVICES = /^\/dev\/(null|zero|full|random|urandom|stdin|stdout|stderr|tty|fd\/\d+)$/;

class Walker {
  constructor(
    private readonly an: Analysis,
    private readonly frame: Frame,
    /** The script the tree was parsed from (tree-sitter's indices are its UTF-16 offsets). */
    private readonly text: string,
  ) {}

  /**
   * Walks the tree without recursion (an `a && b && ...` chain of thousands is a left-deep tree),
   * counting only the constructs that really nest (subshells, groups, loops, substitutions...).
   */
  visit(root: Node): void {
    const stack: Array<{ node: Node; depth: number; repeatable: boolean }> = [{ node: root, depth: 0, repeatable: this.frame.repeatable }];
    while (stack.length > 0) {
      const { node, depth, repeatable } = stack.pop()!;
      if (depth > MAX_SYNTAX_DEPTH) {
        this.an.unknown(this.frame, `the command nests deeper than ${MAX_SYNTAX_DEPTH} levels`);
        return;
      }
      const frame = repeatable === this.frame.repeatable ? this.frame : { ...this.frame, repeatable };
      switch (node.type) {
        case 'comment':
          continue;
        case 'command':
          this.command(node, frame);
          break;
        case 'file_redirect':
          this.redirect(node, frame);
          break;
        case 'redirected_statement':
          this.redirectedStatement(node, frame);
          break;
        case 'variable_assignment':
          if (node.parent?.type !== 'command') this.setVariable(node.childForFieldName('name')?.text);
          break;
        case 'unset_command':
          for (const child of node.namedChildren) this.setVariable(child.text);
          break;
        case 'for_statement':
          this.setVariable(node.childForFieldName('variable')?.text);
          break;
      }
      if (LEAVES.has(node.type) || !node.isNamed) continue;
      const childDepth = NESTING.has(node.type) ? depth + 1 : depth;
      const childRepeatable = repeatable || REPEATING.has(node.type);
      const children = node.children;
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, depth: childDepth, repeatable: childRepeatable });
    }
  }

  /** A variable set for the rest of the script: one that changes what programs run taints them all. */
  private setVariable(name: string | undefined): void {
    if (name !== undefined && isSensitiveEnv(name)) this.an.scriptEnv.add(name);
  }

  /**
   * Words tree-sitter files under a redirection although they belong to the command
   * (`rm >/dev/null -rf /`): every destination word after the first, and heredoc arguments.
   */
  private redirectExtras(statement: Node): Node[] {
    const extras: Node[] = [];
    for (const redirect of statement.childrenForFieldName('redirect')) {
      if (redirect.type === 'file_redirect') extras.push(...groupAdjacent(redirect.childrenForFieldName('destination')).slice(1).flat());
      else if (redirect.type === 'heredoc_redirect') extras.push(...redirect.childrenForFieldName('argument'));
    }
    return extras;
  }

  private redirectedStatement(node: Node, frame: Frame): void {
    const body = node.childForFieldName('body');
    if (body?.type !== 'command' && this.redirectExtras(node).length > 0) {
      this.an.unknown(frame, 'words after the redirection of a compound command (bash refuses this)', { unparseable: true, source: node.text });
    }
  }

  private command(node: Node, frame: Frame): void {
    const name = node.childForFieldName('name');
    const parts = [...node.children.filter((child) => child.type === 'variable_assignment'), ...(name ? [name] : []), ...node.childrenForFieldName('argument')];
    const lines = this.splitAtNewlines(parts.sort((a, b) => a.startIndex - b.startIndex));
    const parent = node.parent;
    const extras = parent?.type === 'redirected_statement' && parent.childForFieldName('body')?.equals(node) ? this.redirectExtras(parent) : [];
    lines.forEach((line, index) => this.simpleCommand(line, index === lines.length - 1 ? extras : [], frame));
  }

  /**
   * tree-sitter-bash sometimes folds the next line into a command (`a | b | c⏎d e || f` parses
   * as `c d e`); an unescaped newline always ends a simple command, so each line is judged as
   * the command bash runs.
   */
  private splitAtNewlines(parts: Node[]): Node[][] {
    const lines: Node[][] = [];
    let previous: Node | null = null;
    for (const part of parts) {
      const gap = previous === null ? '' : this.text.slice(previous.endIndex, part.startIndex);
      if (lines.length === 0 || /(^|[^\\])\n/.test(gap)) lines.push([]);
      lines[lines.length - 1]!.push(part);
      previous = part;
    }
    return lines;
  }

  /** One simple command: its assignments, then its program and arguments. */
  private simpleCommand(parts: Node[], extras: Node[], frame: Frame): void {
    const env = parts.filter((child) => child.type === 'variable_assignment').map((child) => child.childForFieldName('name')?.text ?? '?');
    const wordNodes = parts.filter((child) => child.type !== 'variable_assignment');
    if (wordNodes.length === 0) {
      // Only assignments (and redirections): the variables stay set for the rest of the script.
      for (const variable of env) this.setVariable(variable);
      return;
    }
    const words = groupAdjacent([...wordNodes, ...extras]).map((nodes) => wordOf(nodes, this.an.home));
    const program = words[0];
    if (program && isStatic(program) && VARIABLE_SETTERS.has(program.value)) {
      for (const word of words.slice(1)) if (word.value !== null) this.setVariable(/^[A-Za-z_][A-Za-z0-9_]*/.exec(word.value)?.[0]);
    }
    analyzeCommand(this.an, words, { ...frame, env: [...frame.env, ...env] });
  }

  private redirect(node: Node, frame: Frame): void {
    const operator = node.children.find((child) => !child.isNamed)?.type ?? '';
    const groups = groupAdjacent(node.childrenForFieldName('destination'));
    const first = groups[0];
    if (first === undefined) return; // `>&-`
    const target = wordOf(first, this.an.home);
    if ((operator === '>&' || operator === '<&') && target.value !== null && /^(\d+-?|-)$/.test(target.value)) return; // 2>&1
    const kind = operator === '<' || operator === '<&' ? 'read' : 'write';
    if (target.value !== null && !target.glob) {
      if (HARMLESS_DEVICES.test(target.value)) return;
      const tcp = /^\/dev\/(tcp|udp)\/([^/]+)\/(\d+)$/.exec(target.value);
      if (tcp) {
        this.an.actions.push({ kind: 'network', host: tcp[2]!.toLowerCase(), port: Number(tcp[3]), ...this.an.origin(frame) });
        return;
      }
    }
    this.an.path(kind, frame, target);
  }
}
