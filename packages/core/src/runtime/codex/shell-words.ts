/**
 * Codex reports a command as the shell line it runs, e.g. `/bin/bash -lc 'npm test'`. Policy
 * decides on the script the agent wrote, so unwrap `<shell> -c|-lc <one quoted word>`; any
 * other shape is returned unchanged (the policy then sees the whole line, which is safe).
 */
export function unwrapShellCommand(command: string): string {
  const match = /^(?:\S*\/)?(?:bash|zsh|sh)\s+-(?:c|lc|lic|ilc)\s+([\s\S]+)$/.exec(command.trim());
  if (!match) return command;
  const word = singleShellWord(match[1]!);
  return word ?? command;
}

/** The value of `text` if it is exactly one POSIX shell word ('…', "…", \x and plain characters). */
function singleShellWord(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return null;
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (char === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) return null;
        const inner = text[i]!;
        if (inner === '"') break;
        if (inner === '\\' && i + 1 < text.length && '$`"\\\n'.includes(text[i + 1]!)) {
          out += text[i + 1];
          i += 2;
        } else {
          // `$` or a backtick inside double quotes would expand: not a literal word.
          if (inner === '$' || inner === '`') return null;
          out += inner;
          i += 1;
        }
      }
      i += 1;
    } else if (char === '\\') {
      if (i + 1 >= text.length) return null;
      out += text[i + 1];
      i += 2;
    } else if (/\s/.test(char) || '$`;&|<>()'.includes(char)) {
      return null;
    } else {
      out += char;
      i += 1;
    }
  }
  return out;
}
