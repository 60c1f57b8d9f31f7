// validateConfig on values (no files): a full config passes untouched in
// meaning, cross-field rules, warnings, and the error's shape.
import { describe, expect, it } from 'vitest';
import { secret, isSecret } from '../../core/command/secret.js';
import { HOOK_NAMES } from '../../core/config/config-schema.js';
import { validateConfig } from '../../core/config/validate.js';
import { isComposition, parallel, series } from '../../core/engine/task.js';
import { ConfigError, ConfigValidationError } from '../../core/errors.js';

const minimal = { app: 'shop', environments: { prod: { hosts: ['web-1'] } } };

function problems(value: unknown): string[] {
  try {
    validateConfig(value);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('validateConfig', () => {
  it('checks a config it already returned only once: the same result comes back', () => {
    const first = validateConfig({ app: 'x', environments: { l: { connect: 'local' } } });
    expect(validateConfig(first.config)).toBe(first);
    expect(validateConfig({ app: 'x', environments: { l: { connect: 'local' } } })).not.toBe(first);
  });

  it('accepts every field of the config, keeping functions, secrets, buffers and compositions as they are', () => {
    const deploy = async () => {};
    const tap = async () => {};
    const plugin = { name: 'deployr:x', apply() {}, extra: { kept: true } };
    const key = Buffer.from('key');
    const password = secret('pw');
    const flow = series('build', parallel('a', deploy));
    const ssh = {
      user: 'deploy',
      port: 2222,
      identityFile: ['~/.ssh/a', '~/.ssh/b'],
      passphrase: secret('pp'),
      privateKey: key,
      password,
      agent: false as const,
      proxyJump: 'bastion',
      hostKeyFingerprints: ['SHA256:' + 'A'.repeat(43)],
      knownHostsFiles: ['./known_hosts'],
      recordKnownHostsFile: './known_hosts',
      strictHostKeyChecking: 'accept-new' as const,
      connectTimeout: 5000,
      keepaliveInterval: 0,
      keepaliveCountMax: 3,
      maxChannels: 4,
      useSshConfig: false,
      sshConfigFile: './ssh_config',
    };
    const config = {
      app: 'shop',
      deployTo: '/srv/shop',
      keepReleases: 3,
      concurrency: 4,
      ssh,
      vars: { node: 20, nested: { a: [1] } },
      commandTimeout: 1.5,
      sudoPassword: 'pw',
      logDir: 'logs',
      environments: {
        prod: {
          hosts: ['deploy@web-1:22', { name: 'db', address: '10.0.0.5', user: 'root', port: 22, roles: ['db'], vars: { a: 1 }, ssh: { user: 'x' }, disabled: true }],
          connect: 'ssh' as const,
          confirm: 'Really?',
          description: 'Production',
          ...{ deployTo: '/srv/prod', keepReleases: 2, concurrency: 1, vars: {}, commandTimeout: 10, sudoPassword: password },
        },
        staging: { extends: 'prod', confirm: true },
        local: { connect: 'local' as const },
      },
      plugins: [plugin],
      tasks: {
        deploy,
        alias: 'deploy',
        flow,
        'db:migrate': { run: 'migrate', description: 'Migrate', roles: ['db'], once: true, local: false, timeout: 60 },
      },
      hooks: Object.fromEntries(HOOK_NAMES.map((name) => [name, tap])),
    };
    const { config: out, warnings } = validateConfig(config);
    expect(warnings).toEqual([]);
    expect(out).toEqual(config);
    expect(out.plugins?.[0]).toBe(plugin);
    expect(out.tasks?.deploy).toBe(deploy);
    expect(out.tasks?.flow).toBe(flow);
    expect(isComposition(out.tasks?.flow)).toBe(true);
    expect(out.ssh?.privateKey).toBe(key);
    expect(out.environments.prod?.sudoPassword).toBe(password);
    expect(isSecret(out.ssh?.passphrase)).toBe(true);
    expect(out.hooks?.done).toBe(tap);
  });

  it('throws a ConfigValidationError (a ConfigError, code CONFIG_ERROR) with every issue and a next step', () => {
    let error: unknown;
    try {
      validateConfig({ app: 1, environments: { prod: { hosts: [] } } }, 'deploy.config.ts');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigValidationError;
    expect(e.code).toBe('CONFIG_ERROR');
    expect(e.issues).toEqual([
      { path: 'app', message: 'expected a non-empty string, got 1' },
      { path: 'environments.prod.hosts', message: "no hosts; list them, or set connect: 'local' to run on this machine" },
    ]);
    expect(e.message).toBe(
      [
        'deploy.config.ts has 2 problems:',
        '  app: expected a non-empty string, got 1',
        "  environments.prod.hosts: no hosts; list them, or set connect: 'local' to run on this machine",
      ].join('\n'),
    );
    expect(e.hint).toBe('fix each one in deploy.config.ts, then run the command again');
    expect(e.file).toBe(`${process.cwd()}/deploy.config.ts`);
  });

  it('shows an absolute file relative to cwd, and names the whole value when there is no file', () => {
    expect(() => validateConfig(42, '/home/me/shop/deploy.config.ts', { cwd: '/home/me/shop/src' })).toThrow(
      '../deploy.config.ts has 1 problem:\n  default export: expected an object, got 42',
    );
    expect(() => validateConfig(null)).toThrow('The config has 1 problem:\n  config: expected an object, got null');
  });

  it('an environment inheriting hosts, or running locally, needs none of its own', () => {
    expect(problems({ app: 'a', environments: { prod: { hosts: ['w'] }, canary: { extends: 'prod' }, dev: { connect: 'local' }, dev2: { extends: 'dev' } } })).toEqual([]);
  });

  it('checks hostKeyFingerprints look like what ssh-keygen prints', () => {
    expect(problems({ ...minimal, ssh: { hostKeyFingerprints: ['SHA256:' + 'A'.repeat(43) + '='] } })).toEqual([
      `ssh.hostKeyFingerprints[0]: expected 'SHA256:' and 43 base64 characters as ssh-keygen -lf prints them, got "SHA256:${'A'.repeat(43)}="`,
    ]);
  });

  it('rejects environment names with spaces (they are typed on the command line)', () => {
    expect(problems({ app: 'a', environments: { 'my prod': { hosts: ['w'] } } })).toEqual([
      "environments[\"my prod\"]: environment names cannot be empty or contain spaces; use e.g. 'prod-eu'",
    ]);
  });

  it('a plugin object may be a class instance with its apply on the prototype', () => {
    class Slack {
      name = 'slack';
      apply(): void {}
    }
    expect(problems({ ...minimal, plugins: [new Slack()] })).toEqual([]);
  });

  it('a composition is accepted as a task and as a task run', () => {
    expect(problems({ ...minimal, tasks: { a: series('x'), b: { run: parallel('x', 'y'), once: true } } })).toEqual([]);
  });

  it('a misspelt hosts key is reported once, not also as "no hosts"', () => {
    expect(problems({ app: 'a', environments: { prod: { hots: ['w'] } } })).toEqual(["environments.prod.hots: unknown key — did you mean 'hosts'?"]);
  });

  it('duplicate host names are per environment; inherited hosts are checked where written', () => {
    expect(problems({ app: 'a', environments: { a: { hosts: ['w', 'x@w'] }, b: { extends: 'a' } } })).toEqual([
      "environments.a.hosts[1]: duplicate host name 'w' (also hosts[0]); give one of them a different name",
    ]);
  });

  it('warns (without failing) about task roles that no host has', () => {
    const { warnings } = validateConfig({
      app: 'a',
      environments: { prod: { hosts: [{ address: 'w', roles: ['web'] }] } },
      tasks: { migrate: { run: 'x', roles: ['db', 'web'] }, 'db:seed': { run: 'x', roles: ['dbs'] } },
    });
    expect(warnings).toEqual([
      "tasks.migrate.roles: no host in any environment has the role 'db', so this task runs nowhere",
      "tasks.db:seed.roles: no host in any environment has the role 'dbs', so this task runs nowhere",
    ]);
  });
});
