import { describe, expect, it } from 'vitest';
import { columns, printable, truncateColumns } from '../../core/output/columns.js';
import { formatDuration } from '../../core/output/format.js';
import { afterLastCarriageReturn, LineSplitter } from '../../core/output/line-splitter.js';
import { lastVisibleLine, type HostState } from '../../core/output/live-model.js';
import { RowSelection } from '../../core/output/live-rows.js';
import { isSafeRunId, safeFileName } from '../../core/output/safe-name.js';

describe('output helpers', () => {
  it('splits chunks into lines per key, keeping unfinished tails', () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push('a', 'one\r\ntw')).toEqual(['one']);
    expect(splitter.push('b', 'x')).toEqual([]);
    expect(splitter.push('a', 'o\nthree')).toEqual(['two']);
    expect(splitter.push('a', ' is longer than ten')).toEqual(['three is longer than ten']); // cap: emitted anyway
    expect(splitter.flush('b')).toBe('x');
    expect(splitter.flush('b')).toBeUndefined();
    expect(afterLastCarriageReturn('10%\r55%\r100%')).toBe('100%');
  });

  it('formats durations', () => {
    expect([0, 999, 1000, 1249, 59_949, 60_000, 125_000, 3_725_000].map(formatDuration)).toEqual([
      '0ms',
      '999ms',
      '1.0s',
      '1.2s',
      '59.9s',
      '1m 00s',
      '2m 05s',
      '1h 02m',
    ]);
  });

  it('measures and cuts text by terminal columns', () => {
    expect(columns('abc')).toBe(3);
    expect(columns('日本語')).toBe(6);
    expect(truncateColumns('abcdef', 4)).toBe('abc…');
    expect(truncateColumns('日本語です', 7)).toBe('日本語…');
    expect(columns(truncateColumns('x🚀'.repeat(50), 21))).toBeLessThanOrEqual(21);
    expect(printable('\x1b[31mred\x1b[0m\x07 \x1b]0;title\x07ok\t')).toBe('red ok');
  });

  it('finds the last visible line of a chunk', () => {
    expect(lastVisibleLine('a\nb\n\n  \n')).toBe('b');
    expect(lastVisibleLine(' 10%\r 42%')).toBe('42%');
    expect(lastVisibleLine('\x1b[2J\x1b[Hdone\x1b[0m\r\n')).toBe('done');
    expect(lastVisibleLine('\n')).toBe('');
  });

  it('accepts engine run ids and makes host names safe file names', () => {
    expect(isSafeRunId('20261121T114323123Z-9f3a')).toBe(true);
    for (const bad of ['', '.', '..', '../x', 'a/b', '.hidden', '-rf', 'a b']) expect(isSafeRunId(bad)).toBe(false);
    expect(safeFileName('web-1.example.com')).toBe('web-1.example.com');
    expect(safeFileName('..')).toBe('_..');
    expect(safeFileName('NUL')).toBe('_NUL');
    expect(safeFileName('a/b\\c:d')).toBe('a_b_c_d');
  });
});

describe('live rows', () => {
  const hosts = (n: number): HostState[] => Array.from({ length: n }, (_, index) => ({ name: `h${index}`, index, phase: 'waiting', tasks: [] }));
  const shown = (rows: RowSelection, list: HostState[]) => list.filter((h) => rows.has(h)).map((h) => h.name);

  it('gives every host a row while they fit, then running and failed hosts up to the cap', () => {
    const list = hosts(6);
    const rows = new RowSelection(list);
    rows.update(6, () => {});
    expect(rows.collapsed).toBe(false);
    expect(shown(rows, list)).toHaveLength(6);

    for (const i of [1, 2, 3, 4]) list[i]!.phase = 'running';
    const changed: string[] = [];
    rows.update(3, (h) => changed.push(h.name)); // the terminal got smaller
    expect(rows.collapsed).toBe(true);
    expect(new Set(changed).size).toBe(6);
    expect(shown(rows, list)).toEqual(['h1', 'h2', 'h3']);
    expect(rows.hidden).toBe(3);

    list[5]!.phase = 'failed';
    expect(rows.admitFailed(list[5]!)).toBe(false); // no free row: the view prints it above instead
    list[2]!.phase = 'failed';
    expect(rows.admitFailed(list[2]!)).toBe(true); // keeps its row

    list[1]!.phase = 'done';
    rows.update(3, () => {});
    expect(shown(rows, list)).toEqual(['h2', 'h3', 'h4']);
    rows.update(2, () => {}); // smaller still: running rows go before failed ones
    expect(shown(rows, list)).toEqual(['h2', 'h3']);
    list[3]!.phase = 'done';
    list[4]!.phase = 'done';
    rows.update(2, () => {});
    expect(shown(rows, list)).toEqual(['h2', 'h5']);
  });
});
