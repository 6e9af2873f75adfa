import path from 'node:path';
import type { PolicyAction } from '../contract/schemas/policy.js';
import type { ShellWord } from './words.js';

/** Nested shell strings (`sh -c`, `eval`, ...) are parsed this deep; deeper is not statically known. */
export const MAX_SHELL_DEPTH = 4;
/** Wrappers unwrapped around one command (`sudo nice env ...`); more is not statically known. */
export const MAX_WRAPPERS = 16;
/** Syntax nesting followed in one script; deeper is not statically known. */
export const MAX_SYNTAX_DEPTH = 256;
/** Longest command text parsed (characters). */
export const MAX_COMMAND_LENGTH = 256 * 1024;

/** Where a command sits: how deep in nested shells, which wrappers around it, its env prefix. */
export interface Frame {
  depth: number;
  via: string[];
  env: string[];
  moreArgs: boolean;
  /** Inside a loop or a function: it may run any number of times. */
  repeatable: boolean;
}

export const topFrame = (): Frame => ({ depth: 0, via: [], env: [], moreArgs: false, repeatable: false });

/** A write or read whose target is resolved against the possible working directories at the end. */
interface PendingPath {
  action: Extract<PolicyAction, { kind: 'write' | 'read' }>;
  target: string;
}

/**
 * The state of analysing one input (a command string or an argv) into actions. Facts that hold
 * for the whole input — the directories `cd` may have moved to, variables that change which
 * program runs, commands that may create symlinks — are gathered over every nested script and
 * applied to every action at the end: a superset, so never more lenient than the truth.
 */
export class Analysis {
  readonly actions: PolicyAction[] = [];
  private readonly pending: PendingPath[] = [];
  /** Static `cd` targets; null when one is not statically known (`cd $X`, `cd -`, `popd`). */
  private readonly cdTargets: Array<string | null> = [];
  /** A relative `cd` that may run any number of times (in a loop or function). */
  private unboundedCd = false;
  /** Names assigned anywhere in the input that change how programs resolve or behave. */
  readonly scriptEnv = new Set<string>();
  /** A command that may create or move symlinks runs somewhere in the input. */
  linkMaker: string | null = null;

  constructor(
    readonly cwd: string,
    readonly home: string | undefined,
    /** Parses and walks a nested script (installed by the shell module). */
    readonly script: (text: string, frame: Frame) => void,
  ) {}

  origin(frame: Frame) {
    return {
      cwd: this.cwd,
      ...(frame.env.length > 0 ? { env: [...frame.env] } : {}),
      ...(frame.via.length > 0 ? { via: [...frame.via] } : {}),
    };
  }

  /** An exec action for a program that is not statically known (or a command that does not parse). */
  unknown(frame: Frame, reason: string, extra: { source?: string; unparseable?: boolean } = {}): void {
    this.actions.push({
      kind: 'exec',
      program: null,
      args: extra.source === undefined ? [] : [extra.source],
      ...this.origin(frame),
      unknown: reason,
      ...(extra.unparseable ? { unparseable: true } : {}),
    });
  }

  /** The command fields of an action that came from `program args`. */
  command(frame: Frame, program: string, args: readonly ShellWord[]) {
    const dynamicArgs = args.flatMap((arg, index) => (arg.value === null || arg.glob ? [index] : []));
    return {
      program,
      args: args.map((arg) => arg.value ?? arg.source),
      ...(dynamicArgs.length > 0 ? { dynamicArgs } : {}),
      ...(frame.moreArgs ? { moreArgs: true } : {}),
      ...this.origin(frame),
    };
  }

  /** A write or read of `target` (a value after quote removal; null when not statically known). */
  path(kind: 'write' | 'read', frame: Frame, target: ShellWord, fields: Record<string, unknown> = {}): void {
    if (target.value === null || target.glob) {
      this.actions.push({
        kind,
        target: target.source,
        paths: [],
        ...this.origin(frame),
        ...fields,
        unknown: `the ${kind === 'write' ? 'written' : 'read'} path is not statically known: ${target.source}`,
      } as PolicyAction);
      return;
    }
    const action = { kind, target: target.value, paths: [], ...this.origin(frame), ...fields } as PendingPath['action'];
    this.actions.push(action);
    this.pending.push({ action, target: target.value });
  }

  cd(target: string | null, frame: Frame): void {
    this.cdTargets.push(target);
    if (frame.repeatable && target !== null && !path.isAbsolute(target)) this.unboundedCd = true;
  }

  /** Resolves pending paths against every directory the input may have `cd`-ed to. */
  finish(): PolicyAction[] {
    const candidates = this.workingDirectories();
    for (const { action, target } of this.pending) {
      if (path.isAbsolute(target)) action.paths = [path.normalize(target)];
      else if (candidates === null) {
        action.paths = [path.resolve(this.cwd, target)];
        action.unknown = 'the directory the command runs in is not statically known (cd)';
      } else action.paths = [...new Set(candidates.map((dir) => path.resolve(dir, target)))];
      if (this.linkMaker !== null && action.unknown === undefined) {
        action.unknown = `the command line also runs ${this.linkMaker}, which may create or move a symlink on the way to ${target}`;
      }
    }
    if (this.scriptEnv.size > 0) {
      for (const action of this.actions) {
        if (action.program === undefined) continue;
        action.env = [...new Set([...(action.env ?? []), ...this.scriptEnv])];
      }
    }
    return this.actions;
  }

  /**
   * Every directory a command may run in: the cwd, and every static cd target applied from every
   * candidate, as many times as there are cd commands (in any order: branches and `||` make the
   * real sequence unknowable). Null when that is unbounded: a cd that is not statically known,
   * or a relative one in a loop or function.
   */
  private workingDirectories(): string[] | null {
    if (this.cdTargets.length === 0) return [this.cwd];
    if (this.unboundedCd || this.cdTargets.some((target) => target === null)) return null;
    let dirs = new Set([this.cwd]);
    for (let round = 0; round < this.cdTargets.length; round++) {
      const next = new Set(dirs);
      for (const dir of dirs) for (const target of this.cdTargets) next.add(path.resolve(dir, target!));
      if (next.size === dirs.size) break;
      if (next.size > 256) return null;
      dirs = next;
    }
    return [...dirs];
  }
}
