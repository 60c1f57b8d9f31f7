// Writing values into supervisor's ini files. Supervisor reads them with
// Python's configparser (inline comments on: `;` or `#` after whitespace),
// expands `%(name)s` in most values, splits `command` like a POSIX shell
// (shlex, no shell runs) and `environment` with a non-POSIX shlex that knows
// quotes but no escapes. What cannot be escaped is refused, with the reason.

/** `%` starts an expansion (`%(program_name)s`); `%%` is a literal one. */
export function escapePercent(value: string): string {
  return value.replaceAll('%', '%%');
}

const LINE_BREAK = /[\r\n\0]/;
/** configparser's inline comments: `;` or `#` after whitespace ends the value, quotes or not. */
const INLINE_COMMENT = /\s[;#]/;

function lineProblem(value: string, what: string): string | undefined {
  if (LINE_BREAK.test(value)) return `${what} must be one line: supervisor's ini files have no escape for line breaks`;
  if (INLINE_COMMENT.test(value)) return `${what} cannot contain " ;" or " #": supervisor's ini files read them as the start of a comment, and cannot escape them`;
  return undefined;
}

/** A whole value after `key=`: one line, no comment markers, no spaces at its ends (configparser drops them). */
export function valueProblem(value: string, what: string): string | undefined {
  return lineProblem(value, what) ?? (value.trim() !== value ? `${what} cannot start or end with spaces: supervisor's ini files drop them` : undefined);
}

/** One word of a command given as a list: quoted, so only what no quoting survives is refused. */
export function wordProblem(word: string): string | undefined {
  return lineProblem(word, 'a command word');
}

/** A value of `environment`: double-quoted, or single-quoted when it holds a double quote. */
export function environmentValueProblem(value: string): string | undefined {
  const line = lineProblem(value, 'an environment value');
  if (line) return line;
  if (value.includes('"') && value.includes("'")) return `an environment value cannot hold both ' and ": supervisor has no escape for quotes there`;
  // Supervisor strips quote characters off both ends of each value.
  if (/^['"]|['"]$/.test(value)) return 'an environment value cannot start or end with a quote character: supervisor strips them';
  return undefined;
}

const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** A word for supervisor's POSIX shlex split: bare when safe, else single-quoted (`'` as `'\''`). */
export function quoteWord(word: string): string {
  if (PLAIN_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `KEY="value",KEY2='it"s'` with `%` doubled; values already checked by environmentValueProblem. */
export function environmentLine(values: Readonly<Record<string, string>>): string {
  return Object.entries(values)
    .map(([key, value]) => {
      const quote = value.includes('"') ? "'" : '"';
      return `${key}=${quote}${escapePercent(value)}${quote}`;
    })
    .join(',');
}
