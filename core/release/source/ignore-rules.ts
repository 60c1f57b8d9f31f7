import ignore, { type Ignore } from 'ignore';

/** The ignore files read in every directory, in the order their rules apply: later ones can `!`re-include. */
export const IGNORE_FILES = ['.gitignore', '.deployrignore'] as const;

/** The rules of one directory's ignore files, tested with paths relative to that directory. */
interface Level {
  /** The directory, POSIX and relative to the scanned root; '' for the root. */
  readonly base: string;
  readonly rules: Ignore;
}

// Git matches case-sensitively unless core.ignorecase is set (it is not on Linux, where releases run);
// `ignore` defaults to case-insensitive.
const newRules = (): Ignore => ignore({ ignorecase: false });

const below = (base: string, path: string): string => (base === '' ? path : path.slice(base.length + 1));

/**
 * The .gitignore-syntax rules in force in one directory: its own and every
 * ancestor's. Deeper levels decide last, as in git: the deepest level with a
 * matching pattern wins, and within a level the last matching pattern wins.
 */
export class IgnoreStack {
  /** No rules at all: the stack to `enter` the root with. */
  static readonly EMPTY = new IgnoreStack([]);

  private constructor(private readonly levels: readonly Level[]) {}

  /**
   * The stack in force inside `dir` (POSIX, relative to the root, '' for the
   * root), adding `patterns`: the lines of dir's ignore files in order. Only
   * for a directory this stack does not ignore, since git never looks inside
   * an ignored one.
   */
  enter(dir: string, patterns: readonly string[]): IgnoreStack {
    const levels = this.levels.map((level) => pinned(level, dir));
    if (patterns.length > 0) levels.push({ base: dir, rules: newRules().add(patterns) });
    return new IgnoreStack(levels);
  }

  /** Whether `path` (POSIX, relative to the root, below the last directory entered) is ignored. */
  ignores(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const { base, rules } of this.levels) {
      // The trailing slash is how `ignore` tells a directory from a file, for dir-only patterns like `build/`.
      const verdict = rules.test(below(base, path) + (isDir ? '/' : ''));
      if (verdict.ignored) ignored = true;
      else if (verdict.unignored) ignored = false;
    }
    return ignored;
  }
}

/** Splits an ignore file into the lines `IgnoreStack.enter` takes. */
export function patternLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/**
 * `ignore` reports every path under a directory its own rules exclude as
 * excluded, without looking at the path. Git only declines to descend into an
 * excluded directory; once a deeper level re-includes it (`!gen/` in a
 * sub-directory's .deployrignore), the paths inside are judged on their own,
 * e.g. by a `*.log` higher up. Pinning the directory as unignored at this
 * level gives that. The pin is made of `?` per character so no name needs
 * escaping: it may also match same-length siblings, but this level is only
 * ever asked about paths inside `dir` from here on.
 */
function pinned(level: Level, dir: string): Level {
  if (dir === level.base) return level;
  const rel = below(level.base, dir);
  if (!level.rules.test(`${rel}/`).ignored) return level;
  const pin = `!/${rel.replace(/[^/]/g, '?')}/`;
  return { base: level.base, rules: newRules().add(level.rules).add(pin) };
}
