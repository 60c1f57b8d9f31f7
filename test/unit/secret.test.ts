// A secret must be unprintable by construction (STYLE.md habit 12): every way
// a value can be turned into text shows the mask, and only render() — called
// where the command runs — reveals it.
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  MASK,
  cmd,
  maskSecretValues,
  quoted,
  revealSecret,
  secret,
  shell,
  withEnv,
  and,
  pipe,
  inDir,
} from '../../core/command/index.js';
import { Host, RecordingConnection, type Connection, type HostEvent } from '../../core/connection/index.js';
import { CommandError } from '../../core/errors.js';

const VALUE = 'hunter2-s3cr3t';

/** Every way a value commonly ends up as text. */
function printed(value: unknown): string[] {
  return [
    String(value),
    `${value}`,
    JSON.stringify(value),
    JSON.stringify({ nested: [value] }),
    inspect(value),
    inspect({ deep: { deeper: value } }, { depth: 10 }),
    format('%s %o %O %j', value, value, value, value),
  ];
}

describe('a secret on its own', () => {
  const token = secret(VALUE);

  it('never prints its value', () => {
    for (const text of printed(token)) expect(text).not.toContain(VALUE);
  });

  it('prints the mask in text and JSON', () => {
    expect(String(token)).toBe(MASK);
    expect(`${token}`).toBe(MASK);
    expect(JSON.stringify({ token })).toBe(`{"token":"${MASK}"}`);
  });

  it('shows its label, not its value, when inspected', () => {
    expect(inspect(secret(VALUE, 'db password'))).toBe('Secret(db password)');
    expect(inspect(token)).toBe(`Secret(${MASK})`);
  });

  it('keeps the value off the object itself', () => {
    expect(Object.values(token)).not.toContain(VALUE);
    expect(JSON.stringify(Object.getOwnPropertyDescriptors(token))).not.toContain(VALUE);
    expect(JSON.stringify(structuredClone(token))).not.toContain(VALUE);
  });

  it('is revealed by revealSecret only', () => {
    expect(revealSecret(token)).toBe(VALUE);
    expect(() => revealSecret({} as never)).toThrow(TypeError);
  });

  it('accepts only strings', () => {
    expect(() => secret(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('a secret inside a command', () => {
  const token = secret(VALUE);

  const cases = [
    ['cmd', cmd`curl -H ${token} https://example.com`],
    ['an array', cmd`login ${['--user', 'me', '--password', token]}`],
    ['a nested cmd', cmd`echo start; ${cmd`mysql -p${token}`}`],
    ['quoted()', cmd`sh -c ${quoted(cmd`mysql -p${token}`)}`],
    ['shell()', shell(cmd`mysql -p${token}`)],
    ['shell(shell())', shell(shell(cmd`mysql -p${token}`))],
    ['withEnv()', withEnv({ DB_PASSWORD: token, USER: 'app' }, 'migrate')],
    ['and/pipe/inDir', inDir('/srv', and(pipe(cmd`echo ${token}`, 'docker login --password-stdin'), 'true'))],
  ] as const;

  it.each(cases)('%s: display(), toString, JSON and inspect are masked', (_name, command) => {
    expect(command.display()).toContain(MASK);
    expect(command.display()).not.toContain(VALUE);
    for (const text of printed(command)) expect(text).not.toContain(VALUE);
  });

  it.each(cases)('%s: render() reveals it and secretValues() lists it', (_name, command) => {
    expect(command.render()).toContain(VALUE);
    expect(command.secretValues()).toContain(VALUE);
  });

  it('is quoted when revealed, like any other value', () => {
    const spaced = secret("it's a secret");
    expect(cmd`login ${spaced}`.render()).toBe(`login 'it'\\''s a secret'`);
    expect(cmd`login ${spaced}`.display()).toBe(`login ${MASK}`);
  });

  it('masks exactly where the value was', () => {
    expect(withEnv({ DB_PASSWORD: token, USER: 'app' }, 'migrate').display()).toBe(`export DB_PASSWORD=${MASK} USER=app && migrate`);
    expect(shell(cmd`mysql -p${token}`).display()).toBe(`sh -c 'mysql -p${MASK}'`);
  });
});

describe('maskSecretValues', () => {
  it('masks every echo of a value in output', () => {
    expect(maskSecretValues(`token=${VALUE}\nagain ${VALUE}!`, [VALUE])).toBe(`token=${MASK}\nagain ${MASK}!`);
  });

  it('masks several values, short ones included', () => {
    expect(maskSecretValues('user abc pass xyz', ['abc', 'xyz'])).toBe(`user ${MASK} pass ${MASK}`);
  });

  it('ignores empty values instead of masking between every character', () => {
    expect(maskSecretValues('plain text', [''])).toBe('plain text');
  });

  it('leaves text without secrets alone', () => {
    expect(maskSecretValues('nothing here', [VALUE])).toBe('nothing here');
  });

  it('masks a value that contains another one, whatever the order', () => {
    for (const values of [['abc', 'abcdef'], ['abcdef', 'abc']]) {
      const masked = maskSecretValues('key=abcdef', values);
      expect(masked).not.toContain('abc');
      expect(masked).not.toContain('def');
    }
  });
});

describe('CommandError from Host.exec', () => {
  it('contains no secret in message, command, stdout, stderr or any printed form', async () => {
    const connection = new RecordingConnection('web-1').respond('deploy-token', {
      code: 22,
      stdout: `sent header Authorization: ${VALUE}\n`,
      stderr: `curl: (22) 401 Unauthorized for token ${VALUE}\n`,
    });
    const events: HostEvent[] = [];
    const host = new Host(connection, { onEvent: (event) => events.push(event) });

    const error: unknown = await host
      .env({ API_TOKEN: secret(VALUE) })
      .exec(cmd`curl --fail -H ${secret(VALUE)} https://example.com/deploy-token`)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CommandError);
    const failure = error as CommandError;
    expect(failure.exitCode).toBe(22);
    expect(failure.command).toBe(`export API_TOKEN=${MASK} && curl --fail -H ${MASK} https://example.com/deploy-token`);
    expect(failure.stdout).toBe(`sent header Authorization: ${MASK}\n`);
    expect(failure.stderr).toBe(`curl: (22) 401 Unauthorized for token ${MASK}\n`);
    expect(failure.message).toContain('web-1');
    expect(failure.message).toContain('401 Unauthorized');

    for (const text of [failure.message, failure.describe(), failure.stack ?? '', inspect(failure), JSON.stringify(failure), ...printed(failure)]) {
      expect(text).not.toContain(VALUE);
    }
    // The event stream that feeds logs is masked too.
    expect(JSON.stringify(events)).not.toContain(VALUE);
    expect(JSON.stringify(events)).toContain(MASK);
    // What the recording kept is the masked command.
    expect(JSON.stringify(connection.calls)).not.toContain(VALUE);
  });

  it('masks the sudo password if a command echoes it', async () => {
    const connection = new RecordingConnection('web-1').respond('whoami', { code: 1, stderr: `bad password ${VALUE}\n` });
    const host = new Host(connection, { sudoPassword: VALUE });
    const error = (await host.exec('whoami').catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.stderr).toBe(`bad password ${MASK}\n`);
    expect(error.message).not.toContain(VALUE);
  });

  it('passes masked output to onStdout/onStderr', async () => {
    const connection = new RecordingConnection().respond('print', { stdout: `out ${VALUE}`, stderr: `err ${VALUE}` });
    const host = new Host(connection);
    const out: string[] = [];
    const err: string[] = [];
    await host.exec(cmd`print ${secret(VALUE)}`, { onStdout: (text) => out.push(text), onStderr: (text) => err.push(text) });
    // Text that may be (the start of) a secret is held back until the next chunk or the end of the
    // stream shows whether it is one, so the masked secret arrives as a chunk of its own.
    expect(out).toEqual(['out ', MASK]);
    expect(err).toEqual(['err ', MASK]);
  });

  it('masks a secret split across two chunks, never passing on a piece of it', async () => {
    const chunks = [`out ${VALUE.slice(0, 5)}`, `${VALUE.slice(5)} and ${VALUE.slice(0, 3)}`, `${VALUE.slice(3)}!\n`];
    const connection: Connection = {
      name: 'chunky',
      kind: 'recording',
      async exec(_command, options = {}) {
        for (const chunk of chunks) options.onStdout?.(Buffer.from(chunk));
        const stdout = Buffer.from(chunks.join(''));
        return { stdout, stderr: Buffer.alloc(0), code: 0, signal: null, timedOut: false, aborted: false };
      },
      put: async () => undefined,
      get: async () => undefined,
      close: async () => undefined,
    };
    const events: HostEvent[] = [];
    const host = new Host(connection, { onEvent: (event) => events.push(event) });
    const seen: string[] = [];
    const result = await host.exec(cmd`print ${secret(VALUE)}`, { onStdout: (text) => seen.push(text) });
    expect(seen.join('')).toBe(`out ${MASK} and ${MASK}!\n`);
    for (const text of seen) {
      for (let length = 3; length <= VALUE.length; length += 1) expect(text).not.toContain(VALUE.slice(0, length));
    }
    const streamed = events.flatMap((event) => (event.type === 'command:output' ? [event.text] : []));
    expect(streamed).toEqual(seen);
    expect(result.stdout).toBe(chunks.join('')); // the result keeps the command's own output, unmasked
  });
});
