// The built package under plain `node` (not vitest, whose module loader hides
// ESM/CJS interop mistakes such as `import { utils } from 'ssh2'`): its public
// exports, an SSH session to a fleet host through it, and the CLI smoke test.
//
// The build goes to a private copy of the package (this repo's package.json
// and tsconfig, a private outDir, node_modules linked), so concurrent test
// runs never read a dist/ that another run is rewriting. Resolution is the
// same as from the repo: `import 'deployr'` is the package referencing itself
// through the "exports" of its own package.json.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetStatePath, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const tag = randomBytes(4).toString('hex');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Plain node, no vitest, no tsx loader: a clean environment plus what the child needs. */
function node(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  return run(process.execPath, args, { cwd, env: clean });
}

let fleet: FleetState;
let pkg: string;

beforeAll(async () => {
  fleet = useFleet();
  pkg = await mkdtemp(path.join(tmpdir(), 'deployr-package-test-'));
  await writeFile(path.join(pkg, 'package.json'), await readFile(path.join(repo, 'package.json')));
  await symlink(path.join(repo, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const build = await run(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.json'), '--outDir', path.join(pkg, 'dist')], { cwd: repo, timeoutMs: 60_000 });
  if (build.code !== 0) throw new Error(`tsc failed (${build.code}):\n${build.stdout}${build.stderr}`);
}, 90_000);

afterAll(async () => {
  if (pkg) await rm(pkg, { recursive: true, force: true });
});

describe('built package under plain node', () => {
  it('import("deployr") resolves through package.json exports and has the public API', async () => {
    const r = await node(
      [
        '--input-type=module',
        '-e',
        `import('deployr').then((m) => console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])))))`,
      ],
      pkg,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const exports = JSON.parse(r.stdout) as Record<string, string>;
    // The public API, pinned: adding or removing an export is a deliberate change to this list.
    expect(exports).toEqual({
      DeployrError: 'function',
      ConfigError: 'function',
      ConnectionError: 'function',
      HostKeyError: 'function',
      CommandError: 'function',
      TransferError: 'function',
      PluginError: 'function',
      InterruptedError: 'function',
      TaskTimeoutError: 'function',
      ConfigValidationError: 'function',
      SourceError: 'function',
      ReleaseError: 'function',
      LockError: 'function',
      isDeployrError: 'function',
      cmd: 'function',
      raw: 'function',
      Command: 'function',
      secret: 'function',
      isSecret: 'function',
      Secret: 'function',
      quote: 'function',
      and: 'function',
      or: 'function',
      pipe: 'function',
      inDir: 'function',
      withEnv: 'function',
      shell: 'function',
      Host: 'function',
      LocalConnection: 'function',
      RecordingConnection: 'function',
      SshConnector: 'function',
      parseHostString: 'function',
      fingerprintSha256: 'function',
      defineConfig: 'function',
      loadConfig: 'function',
      validateConfig: 'function',
      resolveEnvironment: 'function',
      s: 'object',
      validateOptions: 'function',
      createDeployr: 'function',
      series: 'function',
      parallel: 'function',
      onlyIn: 'function',
      DEPLOY_STEPS: 'object',
      ROLLBACK_STEPS: 'object',
      releaseOf: 'function',
      useReleaseSource: 'function',
      hostStatus: 'function',
      formatStatus: 'function',
      ExitCode: 'object',
      syncFile: 'function',
      unifiedDiff: 'function',
      reportChange: 'function',
      detectOs: 'function',
      parseOsRelease: 'function',
      ensurePackages: 'function',
      missingPackagesCommand: 'function',
      installPackagesCommand: 'function',
      attachViews: 'function',
    });
    // It really is the private build being loaded, not the repo's sources.
    const where = await node(['--input-type=module', '-e', `console.log(import.meta.resolve('deployr'))`], pkg);
    expect(where.stdout.trim()).toBe(`file://${path.join(pkg, 'dist/core/index.js')}`);
  });

  it('connects to a fleet host over SSH with the built package and runs commands, sudo and transfers', async () => {
    const script = path.join(pkg, `ssh-check-${tag}.mjs`);
    await writeFile(
      script,
      `
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Host, SshConnector, cmd, secret, CommandError, ConnectionError } from 'deployr';

const state = JSON.parse(readFileSync(process.env.DEPLOYR_FLEET_STATE, 'utf8'));
const h = state.hosts[0];
const target = (user, key) => ({
  name: h.name, address: h.address, port: h.port, user,
  ssh: { identityFile: key, knownHostsFiles: [state.knownHosts], useSshConfig: false, agent: false, connectTimeout: 5000 },
});
const connector = new SshConnector();
const out = {};
try {
  const host = new Host(connector.connection(target(state.user, state.clientKey)));
  const hostile = "it's \\"q\\" $(echo no) \`echo no\` ;|&";
  out.echo = (await host.exec(cmd\`printf '%s' \${hostile}\`)).stdout === hostile;
  out.user = (await host.exec('id -un')).stdout.trim();
  out.root = (await host.sudo('id -u')).stdout.trim();
  await host.exec(cmd\`echo \${secret('pkg-secret')}\`, { onStdout: (t) => (out.streamed = t) });
  try { await host.exec('exit 3'); } catch (e) { out.exitCode = e instanceof CommandError ? e.exitCode : String(e); }

  const dir = mkdtempSync(path.join(tmpdir(), 'deployr-pkg-'));
  writeFileSync(path.join(dir, 'file.txt'), 'via sftp');
  const remote = '/srv/package-test-${tag}';
  await host.mkdirp(remote);
  await host.put(path.join(dir, 'file.txt'), remote + '/put.txt');
  await host.putDir(dir, remote + '/tree');
  out.files = (await host.exec(cmd\`cat \${remote}/put.txt \${remote}/tree/file.txt && rm -rf \${remote}\`)).stdout;
  rmSync(dir, { recursive: true, force: true });

  const pw = new Host(connector.connection(target(state.passwordUser, state.clientKey)), { sudoPassword: state.password });
  out.pwSudo = (await pw.sudo('id -u')).stdout.trim();

  try {
    await new Host(connector.connection(target(state.user, state.unauthorizedKey))).exec('true');
  } catch (e) { out.refused = e instanceof ConnectionError ? e.code : String(e); }
} finally {
  await connector.closeAll();
}
console.log(JSON.stringify(out));
`,
    );
    const r = await node([script], pkg, { DEPLOYR_FLEET_STATE: fleetStatePath(fleet.dir) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      echo: true,
      user: fleet.user,
      root: '0',
      streamed: '***\n', // secrets masked in streamed output
      exitCode: 3,
      files: 'via sftpvia sftp',
      pwSudo: '0',
      refused: 'CONNECTION_ERROR',
    });
  });

  it('the CLI runs under plain node: smoke passes, --version and errors behave', async () => {
    const bin = path.join(pkg, 'dist/core/cli/bin.js');
    const smoke = await node([bin, 'smoke'], pkg);
    expect(smoke.stderr).toBe('');
    expect(smoke.code).toBe(0);
    expect(smoke.stdout).toContain('smoke test passed');

    const version = await node([bin, '--version'], pkg);
    const { version: expected } = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(expected);

    const unknown = await node([bin, `no-such-task-${tag}`], pkg);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Which environment should "no-such-task-\w+" run on\?/);
  });

  it('the CLI runs a project outside the package, with no node_modules and no TypeScript (the npx case)', async () => {
    const bin = path.join(pkg, 'dist/core/cli/bin.js');
    const project = await mkdtemp(path.join(tmpdir(), 'deployr-npx-project-'));
    try {
      const h = fleet.hosts[0];
      if (!h) throw new Error('no fleet host');
      await writeFile(path.join(project, 'package.json'), '{ "name": "app", "private": true }\n');
      await writeFile(
        path.join(project, 'hosts.ts'),
        `export const hosts = [{ name: ${JSON.stringify(h.name)}, address: ${JSON.stringify(h.address)}, port: ${h.port}, user: ${JSON.stringify(fleet.user)}, roles: ['web'] as string[] }];\n`,
      );
      await writeFile(
        path.join(project, 'deploy.config.ts'),
        `import { defineConfig, cmd, type TaskContext } from 'deployr';
import { hosts } from './hosts.ts';
const whoami = async (ctx: TaskContext): Promise<void> => { await ctx.host.exec(cmd\`echo \${ctx.target.name} is $(id -un)\`); };
export default defineConfig({
  app: 'npx-app',
  deployTo: 'npx-${tag}/app',
  release: { source: 'site' },
  ssh: { identityFile: ${JSON.stringify(fleet.clientKey)}, knownHostsFiles: [${JSON.stringify(fleet.knownHosts)}], useSshConfig: false, agent: false },
  environments: { prod: { hosts } },
  tasks: { whoami: { run: whoami, description: 'who runs here' } },
});
`,
      );
      const list = await node([bin, 'list', 'prod'], project);
      expect(list.stderr).toBe('');
      expect(list.stdout).toMatch(/^ {2}whoami +who runs here$/m);
      const run = await node([bin, 'whoami', 'prod'], project);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`[${h.name}]   ${h.name} is ${fleet.user}\n`);

      // And the built CLI deploys: the release lands, `current` points at it, status reads it back.
      await mkdir(path.join(project, 'site'));
      await writeFile(path.join(project, 'site', 'index.html'), `<p>${tag}</p>\n`);
      const deploy = await node([bin, 'deploy', 'prod'], project);
      expect(deploy.stderr).toBe('');
      expect(deploy.code).toBe(0);
      const served = await node([bin, 'run', 'prod', '--', 'cat', `npx-${tag}/app/current/index.html`], project);
      expect(served.stdout).toContain(`<p>${tag}</p>`);
      const status = await node([bin, 'status', 'prod', '--json'], project);
      expect(status.code).toBe(0);
      const report = JSON.parse(status.stdout) as { hosts: Array<{ host: string; current?: string; releases: unknown[] }> };
      expect(report.hosts).toHaveLength(1);
      expect(report.hosts[0]?.current).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{4}$/);
      await node([bin, 'run', 'prod', '--', 'rm', '-rf', `npx-${tag}`], project);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
