/**
 * Splits `--agent-cmd "npx foo --flag 'two words'"` into argv: whitespace separates, single
 * and double quotes group, backslash escapes. No expansion of any kind (no shell runs).
 */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: '"' | "'" | null = null;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = null;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (char === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (quote) throw new Error(`Unterminated ${quote} quote in the agent command.`);
  if (started) args.push(current);
  if (args.length === 0) throw new Error('The agent command is empty.');
  return args;
}
