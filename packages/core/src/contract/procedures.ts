import { z } from 'zod';
import { procedure } from './define.js';
import { AppInfo } from './schemas/app.js';
import { RunId, VerifyReport } from './schemas/ledger.js';

/** Every procedure Keel exposes, as data. Transports, router and client derive from this. */
export const procedures = {
  'app.info': procedure({
    description: 'Version, data directory, platform, mode and engine health.',
    input: z.object({}).strict(),
    output: AppInfo,
  }),
  'ledger.verify': procedure({
    description: 'Compare both ledger stores per run (count, max seq, contiguity, chained hash).',
    input: z.object({ runId: RunId.optional() }).strict(),
    output: VerifyReport,
  }),
} as const;

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type ProcedureInput<M extends ProcedureName> = z.input<Procedures[M]['input']>;
export type ProcedureOutput<M extends ProcedureName> = z.output<Procedures[M]['output']>;
