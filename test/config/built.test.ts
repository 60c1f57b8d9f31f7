// The built loader under plain `node` (no vitest, no tsx): vitest's module
// loader forgives ESM/CJS mistakes and serves our TS sources, so this proves
// dist/core/config/load.js itself finds a user's deploy.config.ts, runs it
// through jiti with 'deployr' mapped to the built package, and validates it.
//
// Built as test/integration/package.test.ts builds: this repo's package.json
// in a private directory, node_modules linked, tsc's outDir inside it, so a
// concurrent run never reads a dist/ being rewritten.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    // A clean environment: no loaders or NODE_OPTIONS inherited from vitest.
    const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let work: string;
let pkg: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'deployr-built-config-'));
  pkg = path.join(work, 'package');
  await mkdir(pkg);
  await writeFile(path.join(pkg, 'package.json'), await readFile(path.join(repo, 'package.json')));
  await symlink(path.join(repo, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const build = await run([tsc, '-p', path.join(repo, 'tsconfig.json'), '--outDir', path.join(pkg, 'dist')], repo, 90_000);
  // tsc emits despite type errors. Errors in other parts of a tree under active work do not
  // stop this test (package.test.ts insists on a clean build); errors in the config code do.
  const configErrors = build.stdout.split('\n').filter((line) => line.startsWith('core/config/') || line.startsWith('core/errors.ts'));
  if (configErrors.length > 0 || !existsSync(path.join(pkg, 'dist/core/config/load.js'))) {
    throw new Error(`tsc failed for the config code (${build.code}):\n${build.stdout}${build.stderr}`);
  }
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function userProject(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(work, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

describe('dist/core/config/load.js under plain node', () => {
  it('loads a TypeScript config importing deployr and a .ts file, in a project with no node_modules', async () => {
    const project = await userProject('shop', {
      'package.json': JSON.stringify({ name: 'shop', private: true }),
      'hosts.ts': `import type { HostEntry } from 'deployr';\nexport const hosts: HostEntry[] = ['deploy@web-1:2222', 'web-2'];\n`,
      'deploy.config.ts': `
import { defineConfig, secret } from 'deployr';
import { fake } from 'deployr/plugins/fake';
import { hosts } from './hosts.ts';
const region: string = 'eu';
export default defineConfig(({ environment }) => ({
  app: 'shop',
  plugins: [fake()],
  vars: { region, environment, defineConfig },
  sudoPassword: secret('pw'),
  environments: { prod: { hosts, confirm: true } },
}));
`,
      'src/.keep': '',
      'broken/package.json': JSON.stringify({ name: 'broken', type: 'module' }),
      'broken/deploy.config.mjs': `export default { app: 'x', environments: { prod: { hots: ['w'] } } };\n`,
    });
    // A stand-in first-party plugin in the private build, importing core the way plugins/* will.
    await mkdir(path.join(pkg, 'dist/plugins/fake'), { recursive: true });
    await writeFile(
      path.join(pkg, 'dist/plugins/fake/index.js'),
      `import { defineConfig } from '../../core/index.js';\nexport const fake = () => ({ name: 'deployr:fake', apply() {}, defineConfig });\n`,
    );
    const load = path.join(pkg, 'dist/core/config/load.js');
    const resolve = path.join(pkg, 'dist/core/config/resolve-environment.js');
    const index = path.join(pkg, 'dist/core/index.js');
    const script = `
const { loadConfig } = await import(${JSON.stringify(load)});
const { resolveEnvironment } = await import(${JSON.stringify(resolve)});
const deployr = await import(${JSON.stringify(index)});
const out = {};
const loaded = await loadConfig({ cwd: ${JSON.stringify(path.join(project, 'src'))}, environment: 'prod' });
out.file = loaded.file;
out.vars = { region: loaded.config.vars.region, environment: loaded.config.vars.environment };
out.sameDefineConfig = loaded.config.vars.defineConfig === deployr.defineConfig;
out.secret = deployr.isSecret(loaded.config.sudoPassword);
out.plugin = loaded.config.plugins.map((p) => [p.name, p.defineConfig === deployr.defineConfig]);
const env = resolveEnvironment(loaded.config, 'prod');
out.hosts = env.hosts.map((h) => [h.name, h.user ?? null, h.port ?? null]);
out.confirm = env.confirm;
try {
  await loadConfig({ cwd: ${JSON.stringify(path.join(project, 'broken'))} });
} catch (error) {
  out.error = error.message;
  out.configError = error instanceof deployr.ConfigError;
}
console.log(JSON.stringify(out));
`;
    const r = await run(['--input-type=module', '-e', script], project);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      file: path.join(project, 'deploy.config.ts'),
      vars: { region: 'eu', environment: 'prod' },
      sameDefineConfig: true,
      secret: true,
      // 'deployr/plugins/<name>' resolves into the same build, sharing its core.
      plugin: [['deployr:fake', true]],
      hosts: [
        ['web-1', 'deploy', 2222],
        ['web-2', null, null],
      ],
      confirm: 'Continue with environment "prod"?',
      error: "deploy.config.mjs has 1 problem:\n  environments.prod.hots: unknown key — did you mean 'hosts'?",
      configError: true,
    });
  });
});
