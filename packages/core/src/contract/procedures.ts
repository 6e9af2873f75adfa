import { z } from 'zod';
import { procedure } from './define.js';
import { AppInfo } from './schemas/app.js';

/** Every procedure Keel exposes, as data. Transports, router and client derive from this. */
export const procedures = {
  'app.info': procedure({
    description: 'Version, data directory, platform, mode and engine health.',
    input: z.object({}).strict(),
    output: AppInfo,
  }),
} as const;

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type ProcedureInput<M extends ProcedureName> = z.input<Procedures[M]['input']>;
export type ProcedureOutput<M extends ProcedureName> = z.output<Procedures[M]['output']>;
