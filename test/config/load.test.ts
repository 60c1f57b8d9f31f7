// loadConfig in throwaway projects like a user's: no node_modules, no
// TypeScript, `import { defineConfig } from 'deployr'` and relative .ts
// imports, CommonJS and ES module packages, every config extension.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecret, revealSecret } from '../../core/command/secret.js';
import { loadConfig } from '../../core/config/load.js';
import * as deployr from '../../core/index.js';
import { ConfigError } from '../../core/errors.js';

let tmp: string;
let counter = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'deployr-load-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh project directory with these files (paths relative to it). */
async function project(files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, `p${(counter += 1)}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

const cjsPackage = JSON.stringify({ name: 'shop', private: true });
const esmPackage = JSON.stringify({ name: 'shop', private: true, type: 'module' });

const hostsTs = `
import type { HostEntry } from 'deployr';
export const hosts: HostEntry[] = ['deploy@web-1:2222', { name: 'web-2', address: '10.0.0.2' }];
`;

const configTs = `
import { defineConfig, secret } from 'deployr';
import { hosts } from './hosts.ts';

interface Extra { region: string }
const extra: Extra = { region: 'eu' };

export default defineConfig({
  app: 'shop',
  vars: { ...extra },
  sudoPassword: secret('pw'),
  environments: { prod: { hosts } },
});
`;

const expectedHosts = ['deploy@web-1:2222', { name: 'web-2', address: '10.0.0.2' }];

describe('loadConfig: finding and running deploy.config.*', () => {
  it.each([
    ['CommonJS package', cjsPackage],
    ['ES module package', esmPackage],
  ])('deploy.config.ts importing deployr and ./hosts.ts (%s), found from a nested directory', async (_, pkg) => {
    const dir = await project({ 'package.json': pkg, 'deploy.config.ts': configTs, 'hosts.ts': hostsTs, 'src/app/.keep': '' });
    const loaded = await loadConfig({ cwd: path.join(dir, 'src/app') });
    expect(loaded.file).toBe(path.join(dir, 'deploy.config.ts'));
    expect(loaded.root).toBe(dir);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.app).toBe('shop');
    expect(loaded.config.vars).toEqual({ region: 'eu' });
    expect(loaded.config.environments.prod?.hosts).toEqual(expectedHosts);
    // The config's secret() is our Secret class: one module instance.
    expect(isSecret(loaded.config.sudoPassword)).toBe(true);
    expect(revealSecret(loaded.config.sudoPassword as deployr.Secret)).toBe('pw');
  });

  const esmBody = (what: string) => `
import { defineConfig } from 'deployr';
import { hosts } from './hosts.ts';
export default defineConfig({ app: '${what}', environments: { prod: { hosts } } });
`;
  const cjsBody = (what: string) => `
const { defineConfig } = require('deployr');
module.exports = defineConfig({ app: '${what}', environments: { prod: { hosts: ['web-1'] } } });
`;

  it.each([
    ['deploy.config.mts', cjsPackage, esmBody('mts')],
    ['deploy.config.cts', cjsPackage, esmBody('cts')],
    ['deploy.config.js', esmPackage, esmBody('js-esm')],
    // ES syntax in a .js file of a CommonJS package: Node would refuse it, jiti does not.
    ['deploy.config.js', cjsPackage, esmBody('js-in-cjs')],
    ['deploy.config.js', cjsPackage, cjsBody('js-cjs')],
    ['deploy.config.mjs', cjsPackage, esmBody('mjs')],
    ['deploy.config.cjs', esmPackage, cjsBody('cjs')],
  ])('%s (%s)', async (name, pkg, body) => {
    const dir = await project({ 'package.json': pkg, [name]: body, 'hosts.ts': hostsTs });
    const loaded = await loadConfig({ cwd: dir });
    expect(path.basename(loaded.file)).toBe(name);
    expect(loaded.config.app).toBe(body.match(/app: '([^']+)'/)?.[1]);
  });

  it.each([['./hosts.js'], ['./hosts']])("resolves a relative import written %s to hosts.ts, as tsc and bundlers do", async (specifier) => {
    const dir = await project({ 'package.json': esmPackage, 'deploy.config.ts': configTs.replace("'./hosts.ts'", `'${specifier}'`), 'hosts.ts': hostsTs });
    expect((await loadConfig({ cwd: dir })).config.environments.prod?.hosts).toEqual(expectedHosts);
  });

  it('prefers deploy.config.ts over the other extensions, and the nearest directory over its parents', async () => {
    const dir = await project({
      'package.json': cjsPackage,
      'deploy.config.js': cjsBody('js'),
      'deploy.config.ts': esmBody('ts'),
      'hosts.ts': hostsTs,
      'sub/deploy.config.mjs': esmBody('sub').replace('./hosts.ts', '../hosts.ts'),
    });
    expect((await loadConfig({ cwd: dir })).config.app).toBe('ts');
    expect((await loadConfig({ cwd: path.join(dir, 'sub') })).config.app).toBe('sub');
  });

  it('stops searching at the project root (the nearest package.json)', async () => {
    const outer = await project({ 'deploy.config.ts': esmBody('outer'), 'hosts.ts': hostsTs, 'inner/package.json': cjsPackage, 'inner/src/.keep': '' });
    await expect(loadConfig({ cwd: path.join(outer, 'inner/src') })).rejects.toThrow(
      `No deploy.config.ts found in ${path.join(outer, 'inner/src')} or its parents up to ${path.join(outer, 'inner')} (the project root: it has package.json)`,
    );
    // Without a package.json in between, the search goes on up.
    await rm(path.join(outer, 'inner/package.json'));
    expect((await loadConfig({ cwd: path.join(outer, 'inner/src') })).config.app).toBe('outer');
  });

  it('--config loads exactly that file, relative to cwd, with any base name', async () => {
    const dir = await project({ 'package.json': cjsPackage, 'deploy.config.ts': esmBody('default'), 'hosts.ts': hostsTs, 'deploy/prod.ts': esmBody('prod').replace('./hosts.ts', '../hosts.ts') });
    const loaded = await loadConfig({ cwd: dir, configFile: 'deploy/prod.ts' });
    expect(loaded.config.app).toBe('prod');
    expect(loaded.root).toBe(path.join(dir, 'deploy'));
    await expect(loadConfig({ cwd: dir, configFile: 'deploy' })).rejects.toThrow(`Config path is not a file: ${path.join(dir, 'deploy')}`);
    await writeFile(path.join(dir, 'deploy.json'), '{}');
    await expect(loadConfig({ cwd: dir, configFile: 'deploy.json' })).rejects.toThrow(
      `Cannot load ${path.join(dir, 'deploy.json')}: a config must be a .ts, .mts, .cts, .js, .mjs, .cjs file`,
    );
  });

  it('calls a function export, sync or async, with { environment }', async () => {
    const dir = await project({
      'package.json': cjsPackage,
      'deploy.config.ts': `
import { defineConfig } from 'deployr';
export default defineConfig(async ({ environment }) => ({
  app: 'shop-' + String(environment),
  environments: { [environment ?? 'none']: { hosts: ['web-1'] } },
}));
`,
    });
    expect((await loadConfig({ cwd: dir, environment: 'staging' })).config).toEqual({ app: 'shop-staging', environments: { staging: { hosts: ['web-1'] } } });
    expect((await loadConfig({ cwd: dir })).config.app).toBe('shop-undefined');
    await writeFile(path.join(dir, 'deploy.config.ts'), `export default ({ environment }: { environment?: string }) => ({ app: 'sync-' + environment, environments: { p: { hosts: ['h'] } } });`);
    expect((await loadConfig({ cwd: dir, environment: 'p' })).config.app).toBe('sync-p');
  });

  it('re-reads the config and what it imports when they change between two loads in one process', async () => {
    const dir = await project({ 'package.json': cjsPackage, 'deploy.config.ts': configTs, 'hosts.ts': hostsTs });
    expect((await loadConfig({ cwd: dir })).config.environments.prod?.hosts).toEqual(expectedHosts);
    await writeFile(path.join(dir, 'hosts.ts'), `export const hosts: string[] = ['changed-1'];`);
    await writeFile(path.join(dir, 'deploy.config.ts'), configTs.replace("app: 'shop'", "app: 'changed'"));
    const again = await loadConfig({ cwd: dir });
    expect(again.config.app).toBe('changed');
    expect(again.config.environments.prod?.hosts).toEqual(['changed-1']);
  });

  it("gives the config this package's own module instance for 'deployr' (same functions, same classes)", async () => {
    const dir = await project({
      'package.json': esmPackage,
      'deploy.config.ts': `
import * as deployr from 'deployr';
import { defineConfig, Command } from 'deployr';
export default defineConfig({
  app: 'same',
  environments: { prod: { hosts: ['web-1'] } },
  vars: { defineConfig, Command, namespace: deployr },
});
`,
    });
    const { config } = await loadConfig({ cwd: dir });
    expect(config.vars?.defineConfig).toBe(deployr.defineConfig);
    expect(config.vars?.Command).toBe(deployr.Command);
    expect((config.vars?.namespace as typeof deployr).ConfigError).toBe(ConfigError);
  });

  it("loads this repository's own deploy.config.ts, which imports 'deployr' like a user's, also from a copy elsewhere", async () => {
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const own = await loadConfig({ cwd: repo });
    expect(own.file).toBe(path.join(repo, 'deploy.config.ts'));
    expect(Object.keys(own.config.environments)).toEqual(['local', 'prod', 'prod-bootstrap', 'staging']);
    const source = await readFile(path.join(repo, 'deploy.config.ts'), 'utf8');
    expect(source).toContain("from 'deployr'");
    const dir = await project({ 'package.json': esmPackage, 'deploy.config.ts': source });
    const copy = (await loadConfig({ cwd: dir })).config;
    expect(Object.keys(copy.environments)).toEqual(Object.keys(own.config.environments));
    expect(Object.keys(copy.tasks ?? {})).toEqual(Object.keys(own.config.tasks ?? {}));
    expect(copy.environments['staging']).toEqual(own.config.environments['staging']);
  });

  it('CommonJS module.exports is the config; an ES module without a default export is an error', async () => {
    const dir = await project({ 'package.json': cjsPackage, 'deploy.config.cjs': `module.exports = { app: 'cjs', environments: { p: { hosts: ['h'] } } };` });
    expect((await loadConfig({ cwd: dir })).config.app).toBe('cjs');
    const named = await project({ 'package.json': cjsPackage, 'deploy.config.ts': `export const x = 1;\n// nothing else` });
    await expect(loadConfig({ cwd: named })).rejects.toThrow('deploy.config.ts has no default export (it exports x)');
    const nothing = await project({ 'package.json': cjsPackage, 'deploy.config.ts': `// only a comment\n` });
    await expect(loadConfig({ cwd: nothing })).rejects.toThrow('deploy.config.ts has no default export (it exports nothing)');
  });

  it('a failing load keeps the original error as the cause', async () => {
    const dir = await project({ 'package.json': cjsPackage, 'deploy.config.ts': `throw new RangeError('nope');\nexport default {};` });
    const error = (await loadConfig({ cwd: dir }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe('deploy.config.ts failed to load: RangeError: nope (at deploy.config.ts:1)');
    expect(error.cause).toBeInstanceOf(RangeError);
  });

  it('a plugin factory refusing its options: every problem line and the plugin\'s hint survive the load', async () => {
    const dir = await project({
      'package.json': esmPackage,
      'deploy.config.ts': [
        `import { defineConfig } from 'deployr';`,
        `import { supervisor } from 'deployr/plugins/supervisor';`,
        `export default defineConfig({ app: 'x', plugins: [supervisor({ program: 'bad name', command: '' } as never)], environments: { p: { hosts: ['h'] } } });`,
      ].join('\n'),
    });
    const error = (await loadConfig({ cwd: dir }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^deploy\.config\.ts failed to load \(at deploy\.config\.ts:3\): Plugin deployr:supervisor has \d+ problems?:\n {2}options\.program: /);
    expect(error.message.split('\n').length).toBeGreaterThan(2);
    expect(error.hint).toContain('deployr:supervisor');
  });

  it('names files relative to the directory deployr runs in', async () => {
    const dir = await project({ 'package.json': cjsPackage, 'deploy.config.ts': `export default { app: 1, environments: { p: { hosts: ['h'] } } };`, 'a/b/.keep': '' });
    await expect(loadConfig({ cwd: path.join(dir, 'a/b') })).rejects.toThrow('../../deploy.config.ts has 1 problem:\n  app: expected a non-empty string, got 1');
  });

  it('returns the warnings of validation', async () => {
    const dir = await project({
      'package.json': cjsPackage,
      'deploy.config.ts': `export default { app: 'a', environments: { p: { hosts: ['h'] } }, tasks: { m: { run: 'x', roles: ['db'] } } };`,
    });
    expect((await loadConfig({ cwd: dir })).warnings).toEqual(["tasks.m.roles: no host in any environment has the role 'db', so this task runs nowhere"]);
  });
});
