/** The most of one command's output the ledger records (the agent still gets all of it, up to its own limit). */
export const TERMINAL_RECORD_LIMIT = 1024 * 1024;

/**
 * How much of each command's output is still recorded: the first TERMINAL_RECORD_LIMIT bytes,
 * then one line saying the rest is not (the rest is only counted).
 */
export class OutputBudget {
  private readonly used = new Map<string, number>();

  constructor(private readonly limit = TERMINAL_RECORD_LIMIT) {}

  /** The part of `text` to record for `terminalId` (null: nothing more). */
  take(terminalId: string, text: string): string | null {
    const recorded = this.used.get(terminalId) ?? 0;
    const bytes = Buffer.byteLength(text);
    this.used.set(terminalId, recorded + bytes);
    if (recorded >= this.limit) return null;
    const room = this.limit - recorded;
    return bytes > room ? `${Buffer.from(text).subarray(0, room).toString('utf8')}\n[Keel: further output of this command is not recorded]\n` : text;
  }
}
