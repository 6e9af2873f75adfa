import os from 'node:os';
import type { lintSource as LintSource } from '@secretlint/core';
import { environmentValues, keelPatterns, type Detector, type SecretRange } from './secret-patterns.js';

/** secretlint's recommended preset, as a detector over character ranges. */
const SECRETLINT_PRESET_ID = '@secretlint/secretlint-rule-preset-recommend';

/**
 * secretlint and its preset, loaded with the first text to check (issue 16: importing Keel does
 * not load them). secretlint's core records a performance mark per rule per call in a
 * process-wide profiler, whose observer searches every earlier mark on each new one: over a big
 * bundle (thousands of calls) that grew quadratic (a 100,000-event run took minutes, most of it
 * in the profiler). Keel never reads the profile, so marking is turned off for the process.
 */
type SecretlintConfig = Parameters<typeof LintSource>[0]['options']['config'];
let secretlint: Promise<{ lintSource: typeof LintSource; config: SecretlintConfig }> | null = null;
function loadSecretlint() {
  secretlint ??= Promise.all([import('@secretlint/core'), import('@secretlint/profiler'), import('@secretlint/secretlint-rule-preset-recommend')]).then(
    ([core, profiler, preset]) => {
      profiler.secretLintProfiler.mark = () => undefined;
      return { lintSource: core.lintSource, config: { rules: [{ id: SECRETLINT_PRESET_ID, rule: preset.creator }] } };
    },
  );
  return secretlint;
}

export const secretlintDetector: Detector = {
  id: SECRETLINT_PRESET_ID,
  async find(text) {
    const { lintSource, config } = await loadSecretlint();
    const result = await lintSource({
      source: { content: text, filePath: 'bundle-entry.txt', ext: '.txt', contentType: 'text' },
      options: { config, noPhysicFilePath: true },
    });
    return result.messages.map((message) => ({
      start: message.range[0],
      end: message.range[1],
      rule: message.ruleId.replace('@secretlint/secretlint-rule-', 'secretlint/'),
    }));
  },
};

/** A redactor failed: the bundle is abandoned (I12: fail closed). */
export class RedactionError extends Error {
  constructor(
    readonly detector: string,
    cause: unknown,
  ) {
    super(`Redaction failed in ${detector} (${cause instanceof Error ? cause.message : String(cause)}); no bundle was written.`, { cause });
    this.name = 'RedactionError';
  }
}

export interface RedactorOptions {
  /** The environment whose secret variables' values are redacted (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The home directory, shown as `~` (default: os.homedir()). */
  home?: string;
  /** More detectors (tests inject a failing one to prove the bundle fails closed). */
  extraDetectors?: readonly Detector[];
}

export interface Redacted {
  text: string;
  /** Replacements per rule id (the home directory counts as `path/home`). */
  counts: Record<string, number>;
}

/** The placeholder a secret becomes: the rule's short name, never any part of the value. */
export const placeholder = (rule: string) => `[REDACTED:${rule.replace(/^(?:keel|secretlint)\//, '')}]`;

/** Ranges sorted and merged: overlapping finds become one replacement, named by the first rule. */
function merge(ranges: SecretRange[]): SecretRange[] {
  const sorted = ranges.filter((range) => range.end > range.start).sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SecretRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.start < last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  return merged;
}

/**
 * Every text that goes into a diagnostics bundle passes here: secretlint's recommended
 * preset, Keel's key-name and place detectors, and the values of this environment's secret
 * variables; then the home directory becomes `~`. Any detector error throws RedactionError.
 */
export class Redactor {
  readonly detectors: readonly Detector[];
  private readonly homes: RegExp[];

  constructor(options: RedactorOptions = {}) {
    this.detectors = [secretlintDetector, keelPatterns, environmentValues(options.env ?? process.env), ...(options.extraDetectors ?? [])];
    const home = options.home ?? os.homedir();
    const trimmed = home.replace(/[\\/]+$/, '');
    // The home path as a whole path component only: /home/ann, not /home/anna.
    this.homes = trimmed ? [new RegExp(`${trimmed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_.-])`, 'g')] : [];
  }

  /** Detector ids, for the manifest. */
  get detectorIds(): string[] {
    return this.detectors.map((detector) => detector.id);
  }

  /** Every secret's range in `text`, merged (overlaps become one range, named by the first rule). */
  async find(text: string): Promise<SecretRange[]> {
    return merge(await this.findAll(text));
  }

  private async findAll(text: string): Promise<SecretRange[]> {
    const found: SecretRange[] = [];
    for (const detector of this.detectors) {
      let ranges: SecretRange[];
      try {
        ranges = await detector.find(text);
      } catch (error) {
        throw new RedactionError(detector.id, error);
      }
      if (!Array.isArray(ranges)) throw new RedactionError(detector.id, new Error('it returned no list of ranges'));
      for (const range of ranges) {
        if (!Number.isInteger(range.start) || !Number.isInteger(range.end) || range.start < 0 || range.end > text.length) {
          throw new RedactionError(detector.id, new Error(`it returned a range outside the text (${range.start}-${range.end})`));
        }
        found.push(range);
      }
    }
    return found;
  }

  async redact(text: string): Promise<Redacted> {
    const counts: Record<string, number> = {};
    const found = await this.findAll(text);
    let out = text;
    if (found.length > 0) {
      const parts: string[] = [];
      let at = 0;
      for (const range of merge(found)) {
        // A secret spanning lines (a PEM block) leaves its line ends: logs keep their line numbers.
        const newlines = text.slice(range.start, range.end).split('\n').length - 1;
        parts.push(text.slice(at, range.start), placeholder(range.rule), '\n'.repeat(newlines));
        counts[range.rule] = (counts[range.rule] ?? 0) + 1;
        at = range.end;
      }
      parts.push(text.slice(at));
      out = parts.join('');
    }
    for (const home of this.homes) {
      let n = 0;
      out = out.replace(home, () => {
        n += 1;
        return '~';
      });
      if (n > 0) counts['path/home'] = (counts['path/home'] ?? 0) + n;
    }
    return { text: out, counts };
  }
}

/** Adds `more` into `total`, rule by rule. */
export function addCounts(total: Record<string, number>, more: Record<string, number>): void {
  for (const [rule, n] of Object.entries(more)) total[rule] = (total[rule] ?? 0) + n;
}
