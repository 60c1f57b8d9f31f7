// unifiedDiff against the real diff(1): the same hunks, line for line, on
// hand-picked edge cases and on generated edits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../core/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'deployr-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** diff -u's output without its two header lines (they carry file times). */
function realDiff(before: string, after: string): string {
  writeFileSync(path.join(dir, 'a'), before);
  writeFileSync(path.join(dir, 'b'), after);
  try {
    execFileSync('diff', ['-u', path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8' });
    return '';
  } catch (error) {
    return ((error as { stdout: string }).stdout).split('\n').slice(2).join('\n');
  }
}

function ours(before: string, after: string): string {
  return unifiedDiff(before, after).split('\n').slice(2).join('\n');
}

const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}\n`).join('');

describe('unifiedDiff', () => {
  it('is empty for equal texts and labels its sides', () => {
    expect(unifiedDiff('a\n', 'a\n')).toBe('');
    expect(unifiedDiff('a\n', 'b\n', { from: '/etc/x', to: '/etc/x' })).toBe('--- /etc/x\n+++ /etc/x\n@@ -1 +1 @@\n-a\n+b\n');
  });

  const cases: Array<[string, string, string]> = [
    ['a file created', '', 'one\ntwo\n'],
    ['a file emptied', 'one\ntwo\n', ''],
    ['one line changed in the middle of many', lines(30), lines(30).replace('line 15\n', 'line fifteen\n')],
    ['changes far apart make two hunks', lines(40), lines(40).replace('line 3\n', 'x\n').replace('line 35\n', 'y\n')],
    ['changes close together make one hunk', lines(40), lines(40).replace('line 10\n', 'x\n').replace('line 16\n', 'y\n')],
    ['lines added at the end', lines(5), lines(8)],
    ['lines removed at the start', lines(8), lines(8).split('\n').slice(3).join('\n')],
    ['no newline at the end, before', 'a\nb', 'a\nb\n'],
    ['no newline at the end, after', 'a\nb\n', 'a\nc'],
    ['repeated lines', 'x\nx\nx\ny\nx\n', 'x\ny\nx\nx\nx\n'],
  ];
  it.each(cases)('matches diff -u: %s', (_name, before, after) => {
    expect(ours(before, after)).toBe(realDiff(before, after));
  });

  it('matches diff -u on 40 generated edits of a config file', () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 40; round++) {
      const before = Array.from({ length: 5 + random(40) }, () => `key${random(12)} = ${random(5)}\n`);
      const after = [...before];
      for (let edits = 1 + random(4); edits > 0; edits--) {
        const at = random(after.length + 1);
        const kind = random(3);
        if (kind === 0) after.splice(at, 0, `new${random(9)} = 1\n`);
        else if (kind === 1 && after.length > 1) after.splice(at, 1);
        else after[at] = `changed${random(9)}\n`;
      }
      const a = before.join('');
      const b = after.join('');
      // Several diffs are equally minimal; compare what a reader relies on: the counts and the lines kept.
      const mine = ours(a, b);
      const theirs = realDiff(a, b);
      const count = (text: string, sign: string) => text.split('\n').filter((l) => l.startsWith(sign)).length;
      expect([count(mine, '-'), count(mine, '+')], `round ${round}`).toEqual([count(theirs, '-'), count(theirs, '+')]);
      expect(apply(a, unifiedDiff(a, b)), `round ${round}`).toBe(b);
    }
  });
});

/** Applies our diff with the real patch(1) when present, else by hand: the diff must turn a into b. */
function apply(before: string, diff: string): string {
  if (diff === '') return before;
  writeFileSync(path.join(dir, 'p'), before);
  writeFileSync(path.join(dir, 'p.diff'), diff);
  try {
    execFileSync('patch', ['-s', path.join(dir, 'p'), path.join(dir, 'p.diff')]);
    return execFileSync('cat', [path.join(dir, 'p')], { encoding: 'utf8' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return applyByHand(before, diff);
  }
}

function applyByHand(before: string, diff: string): string {
  const old = before.split('\n');
  const out: string[] = [];
  let at = 0;
  for (const line of diff.split('\n').slice(2)) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? /.exec(line);
    if (hunk) {
      const start = Number(hunk[1]) - (hunk[2] === '0' ? 0 : 1);
      while (at < start) out.push(old[at++] as string);
    } else if (line.startsWith(' ')) {
      out.push(line.slice(1));
      at++;
    } else if (line.startsWith('-')) at++;
    else if (line.startsWith('+')) out.push(line.slice(1));
  }
  while (at < old.length) out.push(old[at++] as string);
  return out.join('\n');
}
