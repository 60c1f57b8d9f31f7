// Quoting is only right if a real shell agrees: every case here renders a
// command with cmd`…` and runs it through /bin/sh (and bash and dash when
// installed), then compares what the shell saw with the value we passed in.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, joinCommands, quote, quoted, raw, shell, type Command } from '../../core/command/index.js';

const SHELLS = ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/bash', '/usr/bin/dash']
  .filter((path) => existsSync(path))
  // /bin/bash and /usr/bin/bash are often the same program: keep one of each name.
  .filter((path, index, all) => all.findIndex((other) => other.split('/').pop() === path.split('/').pop()) === index);

/** Runs a rendered command with `<shell> -c` and returns its stdout exactly. */
function runIn(shellPath: string, command: Command, options: { cwd?: string } = {}): string {
  return execFileSync(shellPath, ['-c', command.render()], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home', VAR: 'expanded' }, ...options });
}

/** Printed back through `printf '%s'`, which adds nothing and interprets nothing in its argument. */
function echoBack(shellPath: string, value: string): string {
  return runIn(shellPath, cmd`printf '%s' ${value}`);
}

const HOSTILE: Array<[string, string]> = [
  ['empty string', ''],
  ['single space', ' '],
  ['single quote', "'"],
  ['two single quotes', "''"],
  ['quote-escape sequence', `'\\''`],
  ['double quote', '"'],
  ['mixed quotes', `it's "quoted"`],
  ['command substitution', '$(echo pwned)'],
  ['backticks', '`echo pwned`'],
  ['variable', '$VAR'],
  ['braced variable', '${VAR}'],
  ['arithmetic', '$((6*7))'],
  ['special variables', '$0 $$ $? $# $@ $*'],
  ['operators', ';|&<>*?[]{}~#!'],
  ['each operator spaced', '; | & < > * ? [ ] { } ~ # !'],
  ['command chain', 'a; rm -rf / && echo x || true'],
  ['redirections', '> /tmp/x < /etc/passwd 2>&1'],
  ['background', 'sleep 1 &'],
  ['glob', '*'],
  ['glob in path', '/etc/*'],
  ['tilde', '~'],
  ['tilde path', '~/x'],
  ['tilde user', '~root'],
  ['comment', '# not a comment'],
  ['history', '!! !$'],
  ['assignment-like', 'A=b'],
  ['leading equals sign', '=ls'],
  ['backslashes', '\\ \\\\ \\n \\t \\'],
  ['trailing backslash', 'abc\\'],
  ['newline', 'line1\nline2'],
  ['only newlines', '\n\n'],
  ['carriage return', 'a\r\nb'],
  ['tab', 'a\tb'],
  ['leading dash', '-n'],
  ['leading double dash', '--help'],
  ['dash e', '-e \\n'],
  ['printf format', '%s %d %% %b'],
  ['leading and trailing spaces', '  padded  '],
  ['emoji', '🚀 deploy 👨‍👩‍👧'],
  ['hebrew (RTL)', 'שלום עולם'],
  ['arabic (RTL)', 'مرحبا بالعالم'],
  ['RTL override', 'abc\u202Eevil\u202C'],
  ['combining characters', 'e\u0301 a\u0308 n\u0303'],
  ['zero-width and nbsp', 'a\u200Bb\u00A0c\uFEFF'],
  ['CJK', '部署 デプロイ'],
  ['control characters', '\x01\x07\x1b[31mred\x1b[0m\x7f'],
  ['bare-safe characters', 'a-b_c.d,e:f@g%h+i=j/k'],
];

describe.each(SHELLS)('quoting round trip through %s', (shellPath) => {
  it.each(HOSTILE)('%s', (_name, value) => {
    expect(echoBack(shellPath, value)).toBe(value);
  });

  it('a very long string (1 MiB, with quotes), passed as a script on stdin', () => {
    // One argv string is capped at 128 KiB on Linux, so the long case goes through stdin.
    const unit = `it's "x" $HOME \`id\` \n`;
    const value = unit.repeat(Math.ceil((1 << 20) / unit.length));
    const output = execFileSync(shellPath, [], { input: cmd`printf '%s' ${value}`.render(), encoding: 'utf8', maxBuffer: 8 << 20 });
    expect(output.length).toBe(value.length);
    expect(output).toBe(value);
  });

  it('a long argument (30,000 characters, a fifth of them quotes) through sh -c', () => {
    const value = "ab'c$".repeat(6_000);
    expect(echoBack(shellPath, value)).toBe(value);
  });

  it('every element of an array is its own word', () => {
    const values = ['plain', 'two words', '', "it's", '$HOME', '*', '-x', 'a\nb', '🚀'];
    expect(runIn(shellPath, cmd`printf '%s\n' ${values}`)).toBe(values.map((value) => `${value}\n`).join(''));
  });

  it('nested arrays are flattened, element by element', () => {
    const values = ['a b', ['c d', ['e f']], 'g'] as const;
    expect(runIn(shellPath, cmd`printf '<%s>' ${values}`)).toBe('<a b><c d><e f><g>');
  });

  it('numbers, bigints and booleans become their text', () => {
    expect(runIn(shellPath, cmd`printf '<%s>' ${42} ${-1.5} ${10n} ${true} ${false}`)).toBe('<42><-1.5><10><true><false>');
  });

  it('a nested cmd is spliced in with its values still quoted', () => {
    const value = `x'; echo pwned; '`;
    const inner = cmd`printf '%s' ${value}`;
    expect(runIn(shellPath, cmd`${inner}; printf '|'`)).toBe(`${value}|`);
  });

  it('quoted() and shell() survive a second round of sh -c', () => {
    const value = `it's $HOME and \`id\` and "q"`;
    const inner = cmd`printf '%s' ${value}`;
    expect(runIn(shellPath, cmd`sh -c ${quoted(inner)}`)).toBe(value);
    expect(runIn(shellPath, shell(inner))).toBe(value);
    // Three levels deep: each level adds one layer of quoting, and each shell removes one.
    expect(runIn(shellPath, shell(shell(shell(inner))))).toBe(value);
  });
});

describe('seeded fuzz', () => {
  // mulberry32: small, deterministic, good enough to spread characters around.
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const SPECIALS = [..."'\"`$\\;|&<>*?[]{}()~#!=%^ \t\n\r-", '\u00e9', '\u0301', '\u05d0', '\u202e', '\u200b', '🚀', '👨‍👩‍👧'];

  function fuzzStrings(seed: number, count: number): string[] {
    const next = random(seed);
    const pick = (max: number): number => Math.floor(next() * max);
    const strings: string[] = [];
    for (let i = 0; i < count; i++) {
      const length = pick(40);
      let value = '';
      for (let j = 0; j < length; j++) {
        const roll = next();
        if (roll < 0.5) value += SPECIALS[pick(SPECIALS.length)];
        else if (roll < 0.9) value += String.fromCharCode(0x20 + pick(0x5f)); // printable ASCII
        else if (roll < 0.95) value += String.fromCharCode(1 + pick(0x1f)); // control characters, never NUL
        else value += String.fromCodePoint(0xa0 + pick(0x2000)); // BMP letters and symbols, no surrogates
      }
      strings.push(value);
    }
    return strings;
  }

  const values = fuzzStrings(20240611, 400);

  it('the generator is deterministic and produces hostile, NUL-free strings', () => {
    expect(fuzzStrings(20240611, 400)).toEqual(values);
    expect(values.some((value) => value.includes("'"))).toBe(true);
    expect(values.some((value) => value.includes('$('))).toBe(true);
    expect(values.every((value) => !value.includes('\0'))).toBe(true);
  });

  it.each(SHELLS)('%s prints each of 400 random strings back exactly', (shellPath) => {
    // One script for all values, separated by NUL (which no value contains).
    const script = joinCommands(" ; printf '\\000' ; ", values.map((value) => cmd`printf '%s' ${value}`));
    const output = execFileSync(shellPath, [], { input: script.render(), encoding: 'utf8', maxBuffer: 8 << 20 });
    expect(output.split('\0')).toEqual(values);
  });
});

describe('raw()', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deployr-quote-'));
    for (const name of ['a.log', 'b.log', 'c.txt']) await writeFile(join(dir, name), '');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is left unquoted, so a glob expands', () => {
    expect(runIn('/bin/sh', cmd`printf '%s\n' ${raw('*.log')}`, { cwd: dir })).toBe('a.log\nb.log\n');
  });

  it('while the same text as a plain value stays literal', () => {
    expect(runIn('/bin/sh', cmd`printf '%s\n' ${'*.log'}`, { cwd: dir })).toBe('*.log\n');
  });

  it('lets a variable expand', () => {
    expect(runIn('/bin/sh', cmd`printf '%s' ${raw('"$VAR"')}`)).toBe('expanded');
    expect(runIn('/bin/sh', cmd`printf '%s' ${'$VAR'}`)).toBe('$VAR');
  });

  it('rejects a non-string', () => {
    expect(() => raw(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('rendered text', () => {
  it('leaves safe words bare and single-quotes everything else', () => {
    expect(quote('abc')).toBe('abc');
    expect(quote('/srv/app-1.2_x')).toBe('/srv/app-1.2_x');
    expect(quote('')).toBe("''");
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(quote('~')).toBe("'~'");
  });

  it("quotes a leading '=' (zsh's =word expands to a program's path) but leaves a=b bare", () => {
    expect(quote('=ls')).toBe("'=ls'");
    expect(quote('=')).toBe("'='");
    expect(quote('==x')).toBe("'==x'");
    expect(quote('a=b')).toBe('a=b');
    expect(quote('--opt=value')).toBe('--opt=value');
    expect(quote('A=')).toBe('A=');
  });

  const zsh = ['/bin/zsh', '/usr/bin/zsh'].find((path) => existsSync(path));
  it.skipIf(!zsh)("zsh prints '=ls' back literally (bare, it would print the path of ls)", () => {
    expect(echoBack(zsh as string, '=ls')).toBe('=ls');
  });

  it('renders an empty array as nothing', () => {
    expect(cmd`rm -f ${[]}`.render()).toBe('rm -f ');
  });
});

describe('values that would print as garbage', () => {
  it.each([
    ['undefined', undefined, /#1 is undefined/],
    ['null', null, /#1 is null/],
    ['an object', { path: '/srv' }, /#1 is object/],
    ['a function', () => 'x', /#1 is function/],
    ['a symbol', Symbol('x'), /#1 is symbol/],
  ])('%s throws a TypeError naming the position', (_name, value, message) => {
    expect(() => cmd`echo ${value as never}`).toThrow(TypeError);
    expect(() => cmd`echo ${value as never}`).toThrow(message);
  });

  it('names the right position among several values', () => {
    expect(() => cmd`cp ${'a'} ${'b'} ${undefined as never}`).toThrow(/interpolated value #3 is undefined/);
  });

  it('checks every element of an array', () => {
    expect(() => cmd`rm ${'x'} ${['a', null as never]}`).toThrow(/interpolated value #2 is null/);
  });
});
