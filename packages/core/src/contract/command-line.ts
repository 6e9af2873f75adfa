/**
 * Splits a command line the way a POSIX shell splits words: whitespace separates, single
 * quotes keep everything, double quotes keep all but a backslash before `$`, a backtick, `"`,
 * `\\` or a newline, and a backslash outside quotes escapes the next character. No expansion of
 * any kind. Throws on an unclosed quote. With `literal`, it also throws on anything a shell
 * would expand or treat as an operator (`$`, backticks, `;&|<>()` outside quotes): the words
 * are then exactly what a shell would run.
 */
export function splitCommandLine(line: string, options: { literal?: boolean } = {}): string[] {
  const refuse = (what: string) => {
    throw new Error(`The command line has ${what}, which a shell would not take literally.`);
  };
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) word += line[++i];
      else if (options.literal && (ch === '$' || ch === '`')) refuse(`"${ch}" inside double quotes`);
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) {
        if (options.literal) refuse('a trailing backslash');
        word += ch;
      } else word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (options.literal && '$`;&|<>()'.includes(ch)) {
      refuse(`"${ch}"`);
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`Unclosed ${quote === '"' ? 'double' : 'single'} quote in the command line.`);
  if (inWord) words.push(word);
  return words;
}

/** Quotes a word for display when it needs it. */
export function quoteWord(word: string): string {
  return word === '' || /[^\w@%+=:,./-]/.test(word) ? `'${word.replace(/'/g, `'\\''`)}'` : word;
}
