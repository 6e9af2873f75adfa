import { createHash } from 'node:crypto';

const hex = (text: string, chars: number) => {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, chars);
  // An all-zero id is invalid in OTLP; a sha256 prefix of zeros is as good as impossible, but be exact.
  return /^0+$/.test(digest) ? `${digest.slice(0, -1)}1` : digest;
};

/** A run's trace id: the same on every export from every machine, so a re-export adds nothing new. */
export const traceIdOf = (runId: string) => hex(`keel-trace:${runId}`, 32);

/** The run's own (root) span. */
export const runSpanIdOf = (runId: string) => hex(`keel-span:${runId}:run`, 16);

/** The span opened by the event at `seq` (a turn by its prompt, a tool call by its start, ...). */
export const spanIdOf = (runId: string, seq: number) => hex(`keel-span:${runId}:${seq}`, 16);
