/**
 * POSIX sh quoting. Values made only of characters that no shell treats
 * specially stay bare so logged commands read naturally; everything else is
 * single-quoted, the one quoting form in which no character is special.
 */
// A leading '=' stays quoted: zsh expands `=word` to the path of the program `word`.
const SAFE_BARE = /^[A-Za-z0-9_\/.,:@%+-][A-Za-z0-9_\/.,:@%+=-]*$/;

export function quote(value: string): string {
  if (value === '') return "''";
  if (SAFE_BARE.test(value)) return value;
  // Inside single quotes nothing is special, so a quote is closed, escaped, reopened.
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
