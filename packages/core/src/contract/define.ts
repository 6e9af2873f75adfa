import type { z } from 'zod';

/** A request/response call: its input and output are validated on every crossing. */
export interface ProcedureDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly input: I;
  readonly output: O;
  readonly description: string;
}

/** A subscription: params validated once, every event validated before it is sent. */
export interface StreamDef<P extends z.ZodType = z.ZodType, E extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly event: E;
  readonly description: string;
}

export const procedure = <I extends z.ZodType, O extends z.ZodType>(def: ProcedureDef<I, O>) => def;
export const stream = <P extends z.ZodType, E extends z.ZodType>(def: StreamDef<P, E>) => def;
