/**
 * Names close to `wanted`, best first: a small edit distance (a typo), or
 * one containing the other (`v1.2` for `1.2`). Refs are few enough that
 * comparing each is cheap.
 */
export function closeMatches(wanted: string, names: Iterable<string>, limit = 5): string[] {
  const lower = wanted.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const name of new Set(names)) {
    const candidate = name.toLowerCase();
    const distance = editDistance(lower, candidate);
    const contains = candidate.includes(lower) || lower.includes(candidate);
    if (distance <= Math.max(2, Math.floor(wanted.length / 3)) || (contains && Math.min(candidate.length, lower.length) >= 2)) {
      // A name that starts with what was typed (`v1` → `v1.0`) is the likeliest meaning.
      scored.push([name, candidate.startsWith(lower) ? 0.5 : contains ? Math.min(distance, 1.5) : distance]);
    }
  }
  return scored
    .sort(([a, x], [b, y]) => x - y || a.localeCompare(b))
    .slice(0, limit)
    .map(([name]) => name);
}

/** " — did you mean 'a' or 'b'?", or '' when nothing is close. */
export function suggest(wanted: string, names: Iterable<string>): string {
  const close = closeMatches(wanted, names);
  if (close.length === 0) return '';
  const quoted = close.map((name) => `'${name}'`);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return ` — did you mean ${list}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = row;
  }
  return previous[b.length] as number;
}
