// A temp project that deploys a generated app to the test fleet, and helpers
// to look at what each host has. Every project gets its own deployTo (under
// the deploy user's home on each host), so test files can deploy side by side.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostShell, startHost, stopHost, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { fleetSsh } from '../fleet/ssh-settings.js';
import { cli, startCli, tempProject, type CliProcess, type CliResult } from '../cli/run-cli.js';

export interface ReleaseProjectOptions {
  /** Extra text inside defineConfig({ … }) at the top level, e.g. `hooks: { … },` */
  extra?: string;
  /** Extra environment entries, e.g. `solo: { hosts: [...] },` — HOSTS(names) expands to host objects. */
  environments?: string;
  /** `release` settings as TypeScript source (default: shared logs/ and .env, a build that records the release). */
  release?: string;
  keepReleases?: number;
  /** Hosts of the `fleet` environment (default h1..h3). */
  hosts?: readonly FleetHost[];
}

export interface ReleaseProject {
  /** The project dir (holds deploy.config.ts). */
  dir: string;
  /** The app dir that is shipped (release.source). */
  app: string;
  /** deployTo, relative to the deploy user's home on each host. */
  deployTo: string;
  hosts: readonly FleetHost[];
  /** Runs the CLI in the project. */
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  start(args: string[], env?: NodeJS.ProcessEnv): CliProcess;
  /** Writes a file of the app (relative to the app dir). */
  write(file: string, content: string | Buffer, mode?: number): void;
  remove(file: string): void;
  /** Runs a script as the deploy user's home-relative root on a host: `cd ~deploy/<deployTo>` first (it may not exist). */
  sh(host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The release id `current` points at on a host, or '' when none. */
  current(host: string): Promise<string>;
  /** Release directories on a host, sorted. */
  releases(host: string): Promise<string[]>;
  /** The lock file's content on a host, or '' when there is none. */
  lock(host: string): Promise<string>;
}

export function releaseProject(fleet: FleetState, options: ReleaseProjectOptions = {}): ReleaseProject {
  const hosts = options.hosts ?? fleet.hosts.slice(0, 3);
  const tag = randomBytes(4).toString('hex');
  const deployTo = `rel-${tag}/app`;
  const dir = tempProject({ 'package.json': '{ "name": "release-test", "private": true }\n' });
  const app = path.join(dir, 'app');
  mkdirSync(path.join(app, 'public'), { recursive: true });
  writeFileSync(path.join(app, 'server.js'), 'console.log("v1");\n');
  writeFileSync(path.join(app, 'public', 'index.html'), '<h1>v1</h1>\n');
  writeFileSync(path.join(app, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(path.join(app, 'run.sh'), 0o755);
  writeFileSync(path.join(app, '.gitignore'), 'logs/\n*.tmp\n');
  writeFileSync(path.join(app, 'scratch.tmp'), 'never shipped\n');

  const ssh = fleetSsh(fleet, 5000);
  const hostObjects = (list: readonly FleetHost[]) =>
    JSON.stringify(list.map((h, index) => ({ name: h.name, address: h.address, port: h.port, user: fleet.user, roles: index === list.length - 1 ? ['db'] : ['web'] })));
  const environments = (options.environments ?? '').replace(/HOSTS\(([^)]*)\)/g, (_, names: string) =>
    hostObjects(names.split(',').map((n) => fleet.hosts.find((h) => h.name === n.trim().replace(/['"]/g, '')) as FleetHost)),
  );
  const release =
    options.release ?? `{ source: 'app', shared: ['logs/', '.env'], build: 'echo "$DEPLOYR_RELEASE" > BUILT' }`;
  writeFileSync(
    path.join(dir, 'deploy.config.ts'),
    `import { defineConfig, cmd, releaseOf, useReleaseSource } from 'deployr';
import { writeFileSync, appendFileSync } from 'node:fs';

export default defineConfig({
  app: 'release-test',
  deployTo: ${JSON.stringify(deployTo)},
  keepReleases: ${options.keepReleases ?? 3},
  ssh: ${JSON.stringify(ssh)},
  release: ${release},
  environments: {
    fleet: { hosts: ${hostObjects(hosts)} },
    ${environments}
  },
  ${options.extra ?? ''}
});
`,
  );

  const home = `/home/${fleet.user}`;
  const sh = (host: string, script: string) => hostShell(fleet, host, `cd ${home} && { cd ${deployTo} 2>/dev/null || true; } && ${script}`);
  return {
    dir,
    app,
    deployTo,
    hosts,
    cli: (args, env) => cli(args, dir, env),
    start: (args, env) => startCli(args, dir, env, 120_000),
    write(file, content, mode) {
      const full = path.join(app, file);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
      if (mode !== undefined) chmodSync(full, mode);
    },
    remove: (file) => rmSync(path.join(app, file), { recursive: true, force: true }),
    sh,
    current: async (host) => (await sh(host, 'readlink current 2>/dev/null | sed "s#^releases/##" || true')).stdout.trim(),
    releases: async (host) => (await sh(host, 'ls releases 2>/dev/null || true')).stdout.split('\n').filter(Boolean).sort(),
    lock: async (host) => (await sh(host, 'cat .deployr/lock.json 2>/dev/null || true')).stdout.trim(),
  };
}

/** The NDJSON events of a --json run. */
export function events(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The upload report of each host from a --json deploy: host → { sentFiles, sentBytes, unchangedFiles, removedPaths, base? }. */
export function uploads(stdout: string): Map<string, { sentFiles: number; sentBytes: number; unchangedFiles: number; removedPaths: number; base?: string; release: string }> {
  const found = new Map();
  for (const event of events(stdout)) {
    const data = event['data'] as { upload?: unknown } | undefined;
    if (event['type'] === 'log' && data?.upload) found.set(event['host'], data.upload);
  }
  return found;
}

/**
 * Kills a host's sshd as a crash would: the listener and every established
 * session, so the running deploy loses its connection. startHost() brings it back.
 */
export async function killSshd(fleet: FleetState, name: string): Promise<void> {
  const host = fleet.hosts.find((h) => h.name === name) as FleetHost;
  await stopHost(fleet, name);
  await hostShell(
    fleet,
    name,
    `pids=$(ss -Htnp state established '( sport = :${host.port} )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); [ -n "$pids" ] && kill -9 $pids; echo "$pids"`,
  );
}

export { startHost };
