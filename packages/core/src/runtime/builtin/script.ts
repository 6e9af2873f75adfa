import fs from 'node:fs';
import { z } from 'zod';
import { parseFault } from './faults.js';

const text = z.string();
const relativeOrAbsolutePath = z.string().min(1, 'a path must not be empty');

const PlanEntry = z
  .object({
    content: z.string().min(1),
    status: z.enum(['pending', 'in_progress', 'completed']),
    priority: z.enum(['high', 'medium', 'low']).optional(),
  })
  .strict();

const ThoughtStep = z.object({ thought: text }).strict();
const MessageStep = z.object({ message: text, chunks: z.number().int().positive().optional() }).strict();
const PlanStep = z.object({ plan: z.array(PlanEntry).min(1) }).strict();
const PermissionStep = z
  .object({
    permission: z
      .object({
        kind: z.enum(['edit', 'execute', 'read', 'fetch', 'other']),
        title: z.string().min(1),
        paths: z.array(relativeOrAbsolutePath).optional(),
        command: z.string().min(1).optional(),
        args: z.array(z.string()).optional(),
      })
      .strict(),
    onDeny: z.enum(['stop', 'continue']).optional(),
  })
  .strict();
const WriteStep = z.object({ write: z.object({ path: relativeOrAbsolutePath, content: text }).strict() }).strict();
const ReadStep = z.object({ read: z.object({ path: relativeOrAbsolutePath }).strict() }).strict();
const RunStep = z
  .object({ run: z.object({ command: z.string().min(1), args: z.array(z.string()).optional(), cwd: relativeOrAbsolutePath.optional() }).strict() })
  .strict();
const StreamStep = z
  .object({
    stream: z
      .object({ count: z.number().int().positive(), text: z.string().optional(), delayMs: z.number().int().nonnegative().optional() })
      .strict(),
  })
  .strict();
const SleepStep = z.object({ sleep: z.number().int().nonnegative() }).strict();

/** Each step kind is named by its one distinguishing key. */
const STEP_SCHEMAS = {
  thought: ThoughtStep,
  message: MessageStep,
  plan: PlanStep,
  permission: PermissionStep,
  write: WriteStep,
  read: ReadStep,
  run: RunStep,
  stream: StreamStep,
  sleep: SleepStep,
} as const;

type StepKey = keyof typeof STEP_SCHEMAS;
export type Step = { [K in StepKey]: z.infer<(typeof STEP_SCHEMAS)[K]> }[StepKey];
export type ThoughtStep = z.infer<typeof ThoughtStep>;
export type MessageStep = z.infer<typeof MessageStep>;
export type PlanStep = z.infer<typeof PlanStep>;
export type PermissionStep = z.infer<typeof PermissionStep>;
export type WriteStep = z.infer<typeof WriteStep>;
export type ReadStep = z.infer<typeof ReadStep>;
export type RunStep = z.infer<typeof RunStep>;
export type StreamStep = z.infer<typeof StreamStep>;
export type SleepStep = z.infer<typeof SleepStep>;

const STEP_KEYS = Object.keys(STEP_SCHEMAS) as StepKey[];

// Dispatching on the key (rather than z.union) keeps errors about the step the author meant.
const StepSchema = z.unknown().transform((value, ctx): Step => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: `a step must be an object with one of: ${STEP_KEYS.join(', ')}` });
    return z.NEVER;
  }
  const keys = STEP_KEYS.filter((key) => key in value);
  const [key] = keys;
  if (key === undefined || keys.length > 1) {
    const found = keys.length > 0 ? keys.join(', ') : Object.keys(value).join(', ') || 'nothing';
    ctx.addIssue({ code: 'custom', message: `a step needs exactly one of ${STEP_KEYS.join(', ')} (found ${found})` });
    return z.NEVER;
  }
  const result = STEP_SCHEMAS[key].safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path });
    return z.NEVER;
  }
  return result.data;
});

const FaultSpec = z.string().superRefine((spec, ctx) => {
  try {
    parseFault(spec);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const ScriptSchema = z
  .object({
    name: z.string().min(1),
    description: z.string(),
    turns: z.array(z.object({ steps: z.array(StepSchema).min(1) }).strict()).min(1),
    /** Fault specs in the `--fault` syntax; `--fault` arguments override them per kind. */
    faults: z.array(FaultSpec).optional(),
  })
  .strict();

export type Script = z.infer<typeof ScriptSchema>;

export class ScriptError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`Invalid built-in agent script ${file}: ${detail}`);
    this.name = 'ScriptError';
  }
}

const formatPath = (path: ReadonlyArray<PropertyKey>) =>
  path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');

/** Validates a parsed script; errors name the file and each offending field. */
export function parseScript(value: unknown, file: string): Script {
  const result = ScriptSchema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
  throw new ScriptError(file, details.join('; '));
}

export function loadScript(file: string): Script {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScriptError(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ScriptError(file, `not valid JSON (${(error as Error).message})`);
  }
  return parseScript(value, file);
}
