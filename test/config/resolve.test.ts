// resolveEnvironment: extends chains, what merges key by key and what is
// taken whole, host normalisation, and the defaults.
import { describe, expect, it } from 'vitest';
import { isSecret, revealSecret, secret } from '../../core/command/secret.js';
import { DEFAULT_CONCURRENCY, DEFAULT_KEEP_RELEASES } from '../../core/config/resolved.js';
import { environmentNames, resolveEnvironment } from '../../core/config/resolve-environment.js';
import type { DeployrConfig } from '../../core/config/types.js';
import { ConfigError } from '../../core/errors.js';

const config: DeployrConfig = {
  app: 'shop',
  deployTo: '/srv/shop',
  vars: { level: 'config', fromConfig: 1 },
  ssh: { user: 'config-user', connectTimeout: 1000, knownHostsFiles: ['./known_hosts'] },
  commandTimeout: 30,
  environments: {
    prod: {
      vars: { level: 'prod', fromProd: 2 },
      ssh: { user: 'prod-user', keepaliveInterval: 500 },
      concurrency: 3,
      confirm: true,
      sudoPassword: 'prod-pw',
      description: 'Production',
      hosts: [
        'deploy@web-1.example.com:2222',
        'web-2',
        '[2001:db8::10]:22',
        {
          name: 'db',
          address: '10.0.0.5',
          port: 2200,
          roles: ['db'],
          vars: { level: 'host', fromHost: 3 },
          ssh: { user: 'ssh-user', connectTimeout: 9 },
          disabled: true,
        },
        { address: '10.0.0.6', user: 'admin', ssh: { user: 'ignored-by-user-field' } },
      ],
    },
    canary: {
      extends: 'prod',
      vars: { level: 'canary' },
      ssh: { proxyJump: 'bastion' },
      keepReleases: 2,
      confirm: 'Ship to canary?',
    },
    // A chain: edge → canary → prod.
    edge: { extends: 'canary', hosts: ['edge-1'], commandTimeout: 5, connect: 'ssh' },
    dev: { connect: 'local', deployTo: './.deployr/dev' },
  },
};

describe('resolveEnvironment', () => {
  it('normalises hosts: strings parsed, name defaults to the address, user/port both on the host and in ssh', () => {
    const prod = resolveEnvironment(config, 'prod');
    const baseSsh = { user: 'prod-user', connectTimeout: 1000, knownHostsFiles: ['./known_hosts'], keepaliveInterval: 500 };
    const envVars = { level: 'prod', fromConfig: 1, fromProd: 2 };
    expect(prod.hosts).toEqual([
      { name: 'web-1.example.com', address: 'web-1.example.com', user: 'deploy', port: 2222, roles: [], vars: envVars, ssh: { ...baseSsh, user: 'deploy', port: 2222 }, disabled: false },
      { name: 'web-2', address: 'web-2', roles: [], vars: envVars, ssh: baseSsh, disabled: false },
      { name: '2001:db8::10', address: '2001:db8::10', port: 22, roles: [], vars: envVars, ssh: { ...baseSsh, port: 22 }, disabled: false },
      {
        name: 'db',
        address: '10.0.0.5',
        user: 'ssh-user',
        port: 2200,
        roles: ['db'],
        vars: { ...envVars, level: 'host', fromHost: 3 },
        ssh: { ...baseSsh, user: 'ssh-user', connectTimeout: 9, port: 2200 },
        disabled: true,
      },
      { name: '10.0.0.6', address: '10.0.0.6', user: 'admin', roles: [], vars: envVars, ssh: { ...baseSsh, user: 'admin' }, disabled: false },
    ]);
  });

  it('takes settings from the most specific level and defaults the rest', () => {
    const prod = resolveEnvironment(config, 'prod');
    expect({ ...prod, hosts: undefined, sudoPassword: undefined }).toEqual({
      name: 'prod',
      description: 'Production',
      connect: 'ssh',
      hosts: undefined,
      deployTo: '/srv/shop',
      keepReleases: DEFAULT_KEEP_RELEASES,
      release: {},
      concurrency: 3,
      vars: { level: 'prod', fromConfig: 1, fromProd: 2 },
      commandTimeout: 30,
      sudoPassword: undefined,
      confirm: 'Continue with environment "prod"?',
    });
    expect(isSecret(prod.sudoPassword)).toBe(true);
    expect(revealSecret(prod.sudoPassword!)).toBe('prod-pw');
  });

  it('merges release settings key by key: config < base environment < environment', () => {
    const env = resolveEnvironment(
      {
        app: 'x',
        release: { source: 'dist', shared: ['.env'], build: 'npm ci' },
        environments: {
          base: { release: { shared: ['.env', 'storage/'] } },
          edge: { extends: 'base', release: { build: ['npm ci', 'npm run migrate'] } },
        },
      },
      'edge',
    );
    expect(env.release).toEqual({ source: 'dist', shared: ['.env', 'storage/'], build: ['npm ci', 'npm run migrate'] });
  });

  it('follows extends: vars and ssh merge key by key, hosts and settings are inherited unless set', () => {
    const canary = resolveEnvironment(config, 'canary');
    expect(canary.hosts.map((h) => h.name)).toEqual(['web-1.example.com', 'web-2', '2001:db8::10', 'db', '10.0.0.6']);
    expect(canary.vars).toEqual({ level: 'canary', fromConfig: 1, fromProd: 2 });
    expect(canary.hosts[1]?.ssh).toEqual({ user: 'prod-user', connectTimeout: 1000, knownHostsFiles: ['./known_hosts'], keepaliveInterval: 500, proxyJump: 'bastion' });
    expect(canary.keepReleases).toBe(2);
    expect(canary.concurrency).toBe(3);
    expect(canary.confirm).toBe('Ship to canary?');
    expect(canary.description).toBeUndefined(); // describes prod, not canary
    expect(revealSecret(canary.sudoPassword!)).toBe('prod-pw');

    const edge = resolveEnvironment(config, 'edge');
    expect(edge.hosts).toEqual([
      {
        name: 'edge-1',
        address: 'edge-1',
        roles: [],
        vars: { level: 'canary', fromConfig: 1, fromProd: 2 },
        ssh: { user: 'prod-user', connectTimeout: 1000, knownHostsFiles: ['./known_hosts'], keepaliveInterval: 500, proxyJump: 'bastion' },
        disabled: false,
      },
    ]);
    expect(edge.commandTimeout).toBe(5);
    expect(edge.keepReleases).toBe(2);
    expect(edge.confirm).toBe('Ship to canary?');
  });

  it("connect: 'local' with no hosts is this machine, as one host named 'local'", () => {
    const dev = resolveEnvironment(config, 'dev');
    expect(dev.connect).toBe('local');
    expect(dev.hosts).toEqual([
      { name: 'local', address: 'localhost', roles: [], vars: { level: 'config', fromConfig: 1 }, ssh: config.ssh, disabled: false },
    ]);
    expect(dev.deployTo).toBe('./.deployr/dev');
    expect(dev.confirm).toBe(false);
    expect(dev.concurrency).toBe(DEFAULT_CONCURRENCY);
    expect(dev.sudoPassword).toBeUndefined();
    expect('sudoPassword' in dev).toBe(false);
  });

  it('keeps a secret() sudoPassword as it is', () => {
    const pw = secret('s3cret');
    const env = resolveEnvironment({ app: 'a', sudoPassword: pw, environments: { p: { hosts: ['h'] } } }, 'p');
    expect(env.sudoPassword).toBe(pw);
  });

  it('an unknown environment is a ConfigError with did-you-mean and the list', () => {
    let error: unknown;
    try {
      resolveEnvironment(config, 'prdo');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe("Unknown environment 'prdo' — did you mean 'prod'?");
    expect((error as ConfigError).hint).toBe('use one of: prod, canary, edge, dev');
    expect(() => resolveEnvironment(config, 'qa')).toThrow(/^Unknown environment 'qa'$/);
    // Inherited object keys are not environments.
    expect(() => resolveEnvironment(config, 'toString')).toThrow("Unknown environment 'toString'");
  });

  it('an unvalidated config with an extends cycle still fails clearly', () => {
    expect(() => resolveEnvironment({ app: 'a', environments: { a: { extends: 'b' }, b: { extends: 'a' } } }, 'a')).toThrow('Environment "a": extends cycle a → b → a');
  });

  it('environmentNames lists them in the order written', () => {
    expect(environmentNames(config)).toEqual(['prod', 'canary', 'edge', 'dev']);
  });
});
