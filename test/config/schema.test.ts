// The validator on its own: exact messages and paths, every problem at once,
// defaults, unions choosing a branch, docs rows, and the plugin entry point.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { secret } from '../../core/command/secret.js';
import { s, listOptions, validate, validateOptions, type Infer } from '../../core/config/schema/index.js';
import { ConfigError, ConfigValidationError } from '../../core/errors.js';

const host = s.object({
  address: s.string({ nonEmpty: true }),
  port: s.number({ integer: true, min: 1, max: 65535 }).optional(),
  roles: s.array(s.string()).optional(),
});

describe('messages', () => {
  it.each([
    [s.string(), 42, 'expected a string, got 42'],
    [s.string({ nonEmpty: true }), '  ', 'expected a non-empty string, got "  "'],
    [s.number(), '22x', 'expected a number, got "22x"'],
    [s.number(), Number.NaN, 'expected a number, got NaN'],
    [s.number({ integer: true }), 1.5, 'expected an integer, got 1.5'],
    [s.number({ integer: true, min: 1, max: 65535 }), 70000, 'expected an integer from 1 to 65535, got 70000'],
    [s.number({ min: 0 }), -1, 'expected a number ≥ 0, got -1'],
    [s.number({ positive: true }), 0, 'expected a positive number, got 0'],
    [s.number({ positive: true }), Infinity, 'expected a positive number, got Infinity'],
    [s.boolean(), 'yes', 'expected true or false, got "yes"'],
    [s.oneOf('ssh', 'local'), 'sshh', `expected 'ssh' or 'local', got "sshh" — did you mean 'ssh'?`],
    [s.oneOf('a', 'b', 'c'), 1, `expected 'a', 'b' or 'c', got 1`],
    [s.literal(false), true, 'expected false, got true'],
    [s.array(s.string()), 'web-1', 'expected a list of strings, got "web-1"'],
    [s.record(s.number()), [], 'expected an object of numbers by name, got an array'],
    [s.function(), {}, 'expected a function, got an object'],
    [s.secret(), 42, "expected a string or secret('…'), got 42"],
    [s.secret(), null, "expected a string or secret('…'), got null"],
    [s.custom((v) => v === 'x' || `"${String(v)}" is not x`, 'x'), 'y', '"y" is not x'],
    [s.custom((v) => v === 'x', 'the letter x'), 'y', 'expected the letter x, got "y"'],
  ])('%#: %j', (schema, value, message) => {
    expect(validate(schema as never, value).issues).toEqual([{ path: '', message }]);
  });

  it('shortens long strings and never shows a secret', () => {
    expect(validate(s.number(), 'x'.repeat(60)).issues[0]?.message).toBe(`expected a number, got "${'x'.repeat(40)}…"`);
    expect(validate(s.string(), secret('hunter2', 'db')).issues[0]?.message).toBe('expected a string, got a secret');
  });
});

describe('objects', () => {
  it('reports every problem with its path, in the order written', () => {
    const schema = s.object({ hosts: s.array(host), name: s.string() });
    const { issues } = validate(schema, {
      hots: [],
      hosts: [{ address: 'a' }, { address: '', port: '22x' }, 'web-3', { address: 'd', roles: ['x', 3] }],
    });
    expect(issues).toEqual([
      { path: 'hots', message: "unknown key — did you mean 'hosts'?" },
      { path: 'hosts[1].address', message: 'expected a non-empty string, got ""' },
      { path: 'hosts[1].port', message: 'expected an integer from 1 to 65535, got "22x"' },
      { path: 'hosts[2]', message: 'expected an object, got "web-3"' },
      { path: 'hosts[3].roles[1]', message: 'expected a string, got 3' },
      { path: 'name', message: 'missing — expected a string' },
    ]);
  });

  it('suggests case-insensitively, and lists the keys when nothing is close', () => {
    const schema = s.object({ hosts: s.unknown(), deployTo: s.unknown() });
    expect(validate(schema, { Hosts: 1, deployto: 1, zzz: 1 }).issues).toEqual([
      { path: 'Hosts', message: "unknown key — did you mean 'hosts'?" },
      { path: 'deployto', message: "unknown key — did you mean 'deployTo'?" },
      { path: 'zzz', message: 'unknown key (known keys: hosts, deployTo)' },
    ]);
  });

  it('says "got undefined" for a key that is present but undefined (e.g. an unset process.env value)', () => {
    expect(validate(s.object({ app: s.string() }), { app: undefined }).issues).toEqual([{ path: 'app', message: 'expected a string, got undefined' }]);
  });

  it('quotes keys that would not read after a dot', () => {
    const { issues } = validate(s.record(s.object({ a: s.number() })), { 'db migrate': { a: 'x' }, 'db:seed': { a: 'y' } });
    expect(issues.map((i) => i.path)).toEqual(['["db migrate"].a', 'db:seed.a']);
  });

  it('a misspelt key is reported once, not also as its intended key missing', () => {
    expect(validate(s.object({ hosts: s.array(s.string()) }), { hots: [] }).issues).toEqual([{ path: 'hots', message: "unknown key — did you mean 'hosts'?" }]);
  });

  it('fills defaults, keeps the order written, and drops nothing else', () => {
    const schema = s.object({ a: s.number().default(3), b: s.string().optional(), c: s.boolean() });
    const { value, issues } = validate(schema, { c: true, b: 'x' });
    expect(issues).toEqual([]);
    expect(value).toEqual({ c: true, b: 'x', a: 3 });
    expect(Object.keys(value)).toEqual(['c', 'b', 'a']);
  });

  it("unknownKeys: 'allow' returns the very object (plugins with methods and extra fields)", () => {
    const plugin = { name: 'p', apply() {}, extra: 1 };
    const { value, issues } = validate(s.object({ name: s.string(), apply: s.function() }, { unknownKeys: 'allow' }), plugin);
    expect(issues).toEqual([]);
    expect(value).toBe(plugin);
  });
});

describe('unions', () => {
  const entry = s.union([s.string(), host], { expected: "a host string like 'user@host:port' or a host object" });

  it('a value of no branch gets the union phrase', () => {
    expect(validate(entry, 42).issues).toEqual([{ path: '', message: "expected a host string like 'user@host:port' or a host object, got 42" }]);
  });

  it('a value of one branch gets that branch’s precise problems', () => {
    expect(validate(entry, { address: 'a', port: 0 }).issues).toEqual([{ path: 'port', message: 'expected an integer from 1 to 65535, got 0' }]);
  });

  it('refinements speak for themselves', () => {
    const noSpace = s.union([s.string().refine((v) => (v.includes(' ') ? 'no spaces, please' : undefined)), s.number()]);
    expect(validate(noSpace, 'a b').issues).toEqual([{ path: '', message: 'no spaces, please' }]);
    expect(validate(noSpace, 'ab').issues).toEqual([]);
    expect(validate(noSpace, 3).issues).toEqual([]);
  });

  it('joins branch phrases when no phrase is given', () => {
    expect(validate(s.union([s.string(), s.literal(false)]), true).issues[0]?.message).toBe('expected a string or false, got true');
  });
});

describe('modifiers', () => {
  it('return copies: the original schema is unchanged', () => {
    const base = s.string();
    const optional = base.optional();
    const described = base.describe('Name');
    expect(validate(base, undefined).issues).toHaveLength(1);
    expect(validate(optional, undefined).issues).toHaveLength(0);
    expect(base.description).toBeUndefined();
    expect(described.description).toBe('Name');
  });

  it('whenMismatched replaces the type message', () => {
    const schema = s.object({ name: s.string() }).whenMismatched((v) => (typeof v === 'function' ? 'call it' : undefined));
    expect(validate(schema, () => {}).issues[0]?.message).toBe('call it');
    expect(validate(schema, 3).issues[0]?.message).toBe('expected an object, got 3');
  });
});

describe('validateOptions (for plugins)', () => {
  const schema = s.object({
    program: s.string({ nonEmpty: true }).describe('Program name in supervisord.conf'),
    numprocs: s.number({ integer: true, min: 1 }).default(1).describe('Processes to run'),
  });

  it('returns the options with defaults filled in', () => {
    expect(validateOptions(schema, { program: 'web' }, 'deployr:supervisor')).toEqual({ program: 'web', numprocs: 1 });
  });

  it('throws one ConfigValidationError listing every problem', () => {
    let error: unknown;
    try {
      validateOptions(schema, { numprocs: 0, prgram: 'web', colour: 'red' }, 'deployr:supervisor');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigValidationError;
    expect(e.code).toBe('CONFIG_ERROR');
    expect(e.message).toBe(
      [
        'Plugin deployr:supervisor has 3 problems:',
        '  options.numprocs: expected an integer ≥ 1, got 0',
        "  options.prgram: unknown key — did you mean 'program'?",
        '  options.colour: unknown key (known keys: program, numprocs)',
      ].join('\n'),
    );
    expect(e.hint).toBe('fix the options passed to deployr:supervisor in your deploy config');
    expect(e.issues).toHaveLength(3);
  });

  it('names the options as a whole when they are not an object', () => {
    expect(() => validateOptions(schema, 'web', 'x')).toThrow('Plugin x has 1 problem:\n  options: expected an object, got "web"');
  });

  it('infers the options type from the schema', () => {
    expectTypeOf<Infer<typeof schema>>().toEqualTypeOf<{ program: string; numprocs: number }>();
    const partial = s.object({ a: s.string().optional(), b: s.array(s.oneOf('x', 'y')) });
    expectTypeOf<Infer<typeof partial>>().toEqualTypeOf<{ a?: string | undefined; b: ('x' | 'y')[] }>();
  });
});

describe('listOptions (docs from the same declarations)', () => {
  it('lists every option with type, default and description', () => {
    const schema = s.object({
      port: s.number({ integer: true }).default(22).describe('SSH port'),
      hosts: s.array(s.union([s.string(), s.object({ address: s.string().describe('Where') })], { expected: 'a host' })).optional(),
      vars: s.record(s.unknown()).optional(),
    });
    expect(listOptions(schema)).toEqual([
      { path: 'port', type: 'an integer', required: false, default: 22, description: 'SSH port' },
      { path: 'hosts', type: 'a list of hosts', required: false },
      { path: 'hosts[]', type: 'a host', required: true },
      { path: 'hosts[].address', type: 'a string', required: true, description: 'Where' },
      { path: 'vars', type: 'an object', required: false },
      { path: 'vars.<name>', type: 'any value', required: false },
    ]);
  });
});
