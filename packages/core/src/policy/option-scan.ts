// Option scanning for the commands the policy reads: which words are options (and their values)
// and which are operands. Strict by design: an option this code does not know is a flag, so the
// word after it is still judged as an operand.
import { isStatic, type ShellWord } from './words.js';

export interface OptionSpec {
  /** Short options taking a value (`-u root`, `-uroot`). */
  shortValue?: string;
  /** Long options taking a value (`--user root`, `--user=root`). */
  longValue?: readonly string[];
  /** Options after which nothing is a command (`sudo -l`): the wrapper runs nothing. */
  stop?: readonly string[];
  /** Stop at the first positional (GNU getopt "+" mode, how wrappers parse). */
}

export type Scan =
  | { ok: true; index: number; options: Map<string, string | true> }
  | { ok: false; reason: string };

/**
 * Scans leading options of a wrapper: returns the index of the first positional word and the
 * options seen (values for those taking one). An option that is not statically known makes the
 * position of the inner command unknown.
 */
export function scanOptions(args: readonly ShellWord[], spec: OptionSpec, start = 0): Scan {
  const options = new Map<string, string | true>();
  let i = start;
  while (i < args.length) {
    const word = args[i]!;
    if (!isStatic(word)) {
      if (word.value !== null && !word.value.startsWith('-')) return { ok: true, index: i, options };
      return { ok: false, reason: `an option is not statically known: ${word.source}` };
    }
    const text = word.value;
    if (text === '--') return { ok: true, index: i + 1, options };
    if (!text.startsWith('-') || text === '-') return { ok: true, index: i, options };
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq === -1 ? text : text.slice(0, eq);
      if (eq === -1 && spec.longValue?.includes(name)) {
        const value = args[i + 1];
        if (value === undefined) return { ok: true, index: i + 1, options };
        options.set(name, value.value ?? value.source);
        i += 2;
        continue;
      }
      options.set(name, eq === -1 ? true : text.slice(eq + 1));
      i += 1;
      continue;
    }
    // A cluster of short options: `-nu`, `-uroot`, `-n5`.
    let consumedNext = false;
    for (let c = 1; c < text.length; c++) {
      const letter = text[c]!;
      if (spec.shortValue?.includes(letter)) {
        const rest = text.slice(c + 1);
        if (rest !== '') options.set(`-${letter}`, rest);
        else {
          const value = args[i + 1];
          options.set(`-${letter}`, value?.value ?? value?.source ?? '');
          consumedNext = true;
        }
        break;
      }
      options.set(`-${letter}`, true);
    }
    i += consumedNext ? 2 : 1;
  }
  return { ok: true, index: i, options };
}

export const has = (scan: Extract<Scan, { ok: true }>, ...names: string[]) => names.some((name) => scan.options.has(name));

export interface Positionals {
  positionals: ShellWord[];
  options: Map<string, Array<string>>;
  dynamic: ShellWord[];
}

/** All positionals and options of a command whose options may come anywhere (GNU style). */
export function splitArgs(args: readonly ShellWord[], spec: { shortValue?: string; longValue?: readonly string[] }): Positionals {
  const positionals: ShellWord[] = [];
  const options = new Map<string, string[]>();
  const dynamic: ShellWord[] = [];
  const add = (name: string, value: string) => options.set(name, [...(options.get(name) ?? []), value]);
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (!isStatic(word)) {
      dynamic.push(word);
      if (word.value !== null && !word.value.startsWith('-')) positionals.push(word);
      continue;
    }
    const text = word.value;
    if (text === '--') {
      positionals.push(...args.slice(i + 1));
      dynamic.push(...args.slice(i + 1).filter((arg) => !isStatic(arg)));
      break;
    }
    if (!text.startsWith('-') || text === '-') {
      positionals.push(word);
      continue;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq === -1 ? text : text.slice(0, eq);
      if (eq === -1 && spec.longValue?.includes(name)) {
        const value = args[++i];
        add(name, value?.value ?? value?.source ?? '');
        if (value && !isStatic(value)) dynamic.push(value);
      } else add(name, eq === -1 ? '' : text.slice(eq + 1));
      continue;
    }
    for (let c = 1; c < text.length; c++) {
      const letter = text[c]!;
      if (spec.shortValue?.includes(letter)) {
        const rest = text.slice(c + 1);
        if (rest !== '') add(`-${letter}`, rest);
        else {
          const value = args[++i];
          add(`-${letter}`, value?.value ?? value?.source ?? '');
          if (value && !isStatic(value)) dynamic.push(value);
        }
        break;
      }
      add(`-${letter}`, '');
    }
  }
  return { positionals, options, dynamic };
}
