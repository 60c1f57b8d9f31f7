/**
 * A unified diff of two texts, line by line, for showing what a file
 * change would do (`--dry-run`) and what it did. Texts are small (config
 * files), so a plain longest-common-subsequence table is fast enough; past
 * MAX_CELLS the whole old text is shown as replaced by the new one.
 */
export interface DiffOptions {
  /** Label of the old side: `--- <from>`. */
  readonly from?: string;
  /** Label of the new side: `+++ <to>`. */
  readonly to?: string;
  /** Unchanged lines shown around each change. Default 3. */
  readonly context?: number;
}

const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** '' when the texts are equal. A missing final newline is marked as diff(1) does. */
export function unifiedDiff(before: string, after: string, options: DiffOptions = {}): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = a.length * b.length > MAX_CELLS ? replaceAll(a, b) : lcsOps(a, b);
  const context = options.context ?? 3;
  const out = [`--- ${options.from ?? 'before'}`, `+++ ${options.to ?? 'after'}`];
  for (const hunk of hunks(ops, context)) out.push(...hunk);
  return out.join('\n') + '\n';
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

function replaceAll(a: string[], b: string[]): Op[] {
  return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
}

function lcsOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j]: LCS of a[i..] and b[j..], in one flat array.
  const lengths = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number): number => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[at(i, j)] = a[i] === b[j] ? (lengths[at(i + 1, j + 1)] ?? 0) + 1 : Math.max(lengths[at(i + 1, j)] ?? 0, lengths[at(i, j + 1)] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i] as string });
      i++;
      j++;
    } else if ((lengths[at(i + 1, j)] ?? 0) >= (lengths[at(i, j + 1)] ?? 0)) {
      ops.push({ kind: '-', line: a[i++] as string });
    } else {
      ops.push({ kind: '+', line: b[j++] as string });
    }
  }
  while (i < n) ops.push({ kind: '-', line: a[i++] as string });
  while (j < m) ops.push({ kind: '+', line: b[j++] as string });
  return ops;
}

function* hunks(ops: Op[], context: number): Generator<string[]> {
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  let k = 0;
  while (k < changed.length) {
    const first = changed[k] as number;
    let last = first;
    // Join changes whose context would touch or overlap.
    while (k + 1 < changed.length && (changed[k + 1] as number) - last <= 2 * context + 1) last = changed[++k] as number;
    k++;
    const start = Math.max(0, first - context);
    const end = Math.min(ops.length, last + context + 1);
    let oldLine = 1;
    let newLine = 1;
    for (const op of ops.slice(0, start)) {
      if (op.kind !== '+') oldLine++;
      if (op.kind !== '-') newLine++;
    }
    const slice = ops.slice(start, end);
    const oldCount = slice.filter((op) => op.kind !== '+').length;
    const newCount = slice.filter((op) => op.kind !== '-').length;
    yield [`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@`, ...slice.map((op) => `${op.kind}${op.line}`)];
  }
}

function range(start: number, count: number): string {
  // diff(1): an empty side is shown as the line before it, with count 0.
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? String(start) : `${start},${count}`;
}
