import { canonicalJson } from '../contract/canonical-json.js';
import { Redactor } from '../diagnostics/index.js';

/**
 * Everything a sink sends off the machine passes a redactor first (I12). The diagnostics
 * bundle's `Redactor` has this shape; a redactor that throws stops the sink (fail closed).
 */
export interface TextRedactor {
  redact(text: string): Promise<{ text: string }>;
}

/** A redaction failed: nothing was sent. */
export class SinkRedactionError extends Error {
  constructor(cause: unknown) {
    super(`Redaction failed (${cause instanceof Error ? cause.message : String(cause)}); nothing was sent.`, { cause });
    this.name = 'SinkRedactionError';
  }
}

/** Key names whose values never leave, whatever they look like (the same words as the bundle's). */
const SENSITIVE_KEY =
  /passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth(?:orization)?|credentials?|session[_-]?(?:id|key)|cookie|signing[_-]?key|client[_-]?secret/i;

export const isSensitiveKey = (key: string) => SENSITIVE_KEY.test(key);

/**
 * The redactor sinks use: the diagnostics bundle's (secretlint's recommended preset, Keel's
 * key-name and place detectors, this environment's secret values, the home directory as `~`),
 * so what leaves by a sink is redacted exactly as a bundle is.
 */
export function sinkRedactor(env: NodeJS.ProcessEnv = process.env): TextRedactor {
  return new Redactor({ env });
}

/** Replaces the value of every sensitive key, at any depth (not numbers or booleans: `input_tokens: 12` is a count). */
function scrubKeys(value: unknown): { value: unknown; changed: boolean } {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const scrubbed = scrubKeys(item);
      changed ||= scrubbed.changed;
      return scrubbed.value;
    });
    return { value: out, changed };
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSensitiveKey(key) && (typeof item === 'string' ? item.length > 0 : item !== null && typeof item === 'object')) {
        out[key] = '[REDACTED:key]';
        changed = true;
        continue;
      }
      const scrubbed = scrubKeys(item);
      changed ||= scrubbed.changed;
      out[key] = scrubbed.value;
    }
    return { value: out, changed };
  }
  return { value, changed: false };
}

/** Every string leaf through the redactor (when a whole-text pass broke the JSON). */
async function redactLeaves(value: unknown, redactor: TextRedactor): Promise<unknown> {
  if (typeof value === 'string') return (await redactor.redact(value)).text;
  if (Array.isArray(value)) return Promise.all(value.map((item) => redactLeaves(item, redactor)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await redactLeaves(item, redactor);
    return out;
  }
  return value;
}

/**
 * A JSON value as it may leave the machine: sensitive keys' values replaced, then the text
 * through `redactor`. `redacted` says whether anything changed. Throws SinkRedactionError.
 */
export async function redactValue<T>(value: T, redactor: TextRedactor): Promise<{ value: T; redacted: boolean }> {
  try {
    const keyed = scrubKeys(value);
    const before = canonicalJson(keyed.value);
    const { text } = await redactor.redact(before);
    if (text === before) return { value: keyed.value as T, redacted: keyed.changed };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // A replacement crossed the JSON's structure: redact string by string instead.
      parsed = await redactLeaves(keyed.value, redactor);
    }
    return { value: parsed as T, redacted: true };
  } catch (error) {
    if (error instanceof SinkRedactionError) throw error;
    throw new SinkRedactionError(error);
  }
}

/**
 * Many values at once (a mirror batch): one redactor pass over their canonical JSON lines
 * joined by newlines — ten times cheaper than a pass each with secretlint — and value by value
 * when a replacement crossed a line or broke the JSON. Throws SinkRedactionError.
 */
export async function redactValues<T>(values: readonly T[], redactor: TextRedactor): Promise<Array<{ value: T; redacted: boolean }>> {
  if (values.length === 0) return [];
  try {
    const keyed = values.map(scrubKeys);
    const lines = keyed.map((item) => canonicalJson(item.value));
    const { text } = await redactor.redact(lines.join('\n'));
    const out = text.split('\n');
    if (out.length === lines.length) {
      const parsed: Array<{ value: T; redacted: boolean }> = [];
      for (let i = 0; i < out.length; i += 1) {
        try {
          parsed.push({ value: JSON.parse(out[i]!) as T, redacted: keyed[i]!.changed || out[i] !== lines[i] });
        } catch {
          break;
        }
      }
      if (parsed.length === out.length) return parsed;
    }
    return await Promise.all(values.map((value) => redactValue(value, redactor)));
  } catch (error) {
    if (error instanceof SinkRedactionError) throw error;
    throw new SinkRedactionError(error);
  }
}
