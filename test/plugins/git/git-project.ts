// A project that deploys with the git plugin to fleet hosts: its config
// (plugin options read from the environment, so one config serves every
// case), a deployTo of its own, and helpers to read what each host has.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, type CliResult } from '../../cli/run-cli.js';
import { hostShell, type FleetHost, type FleetState } from '../../fleet/fleet.js';
import { fleetSsh } from '../../fleet/ssh-settings.js';
import { events } from '../../release/release-project.js';

export interface GitProject {
  readonly dir: string;
  /** deployTo, relative to the deploy user's home. */
  readonly deployTo: string;
  readonly tag: string;
  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** A script run as root on a host, in `~deploy/<deployTo>` when it exists. */
  sh(host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  current(host: string): Promise<string>;
  releases(host: string): Promise<string[]>;
  /** The current release's manifest on a host. */
  manifest(host: string): Promise<{ id: string; source: { commit?: string; ref?: string; dirty?: boolean }; files: Record<string, string> }>;
  /** Files and symlinks of the current release, sorted, the manifest left out. */
  files(host: string): Promise<string[]>;
  /** current, releases and lock of every host: to check a failed deploy changed nothing. */
  snapshot(): Promise<string>;
}

/**
 * Writes `deploy.config.ts` into `dir` (a git work tree, for the archive
 * strategy: the config is part of the app). `pluginOptions` and `release`
 * are TypeScript source for git({ … }) and the release settings.
 */
export function gitProject(fleet: FleetState, dir: string, hosts: readonly FleetHost[], pluginOptions: string, release = '{}'): GitProject {
  const tag = randomBytes(4).toString('hex');
  const deployTo = `git-${tag}/app`;
  const ssh = fleetSsh(fleet);
  const hostObjects = hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: fleet.user }));
  writeFileSync(
    path.join(dir, 'deploy.config.ts'),
    `import { defineConfig } from 'deployr';
import { git } from 'deployr/plugins/git';

const env = process.env;
export default defineConfig({
  app: 'git-test',
  deployTo: ${JSON.stringify(deployTo)},
  keepReleases: 10,
  ssh: ${JSON.stringify(ssh)},
  release: ${release},
  plugins: [git(${pluginOptions})],
  environments: { fleet: { hosts: ${JSON.stringify(hostObjects)} } },
});
`,
  );
  const home = `/home/${fleet.user}`;
  const sh = (host: string, script: string) => hostShell(fleet, host, `cd ${home} && { cd ${deployTo} 2>/dev/null || true; } && ${script}`);
  return {
    dir,
    deployTo,
    tag,
    cli: (args, env) => cli(args, dir, { ...env }),
    sh,
    current: async (host) => (await sh(host, 'readlink current 2>/dev/null | sed "s#^releases/##" || true')).stdout.trim(),
    releases: async (host) => (await sh(host, 'ls releases 2>/dev/null || true')).stdout.split('\n').filter(Boolean).sort(),
    manifest: async (host) => JSON.parse((await sh(host, 'cat current/.deployr-release.json')).stdout) as Awaited<ReturnType<GitProject['manifest']>>,
    files: async (host) =>
      (await sh(host, 'cd current && find . \\( -type f -o -type l \\) ! -name .deployr-release.json | sed "s#^\\./##" | LC_ALL=C sort')).stdout.split('\n').filter(Boolean),
    async snapshot() {
      const lines = await Promise.all(hosts.map(async (h) => `${h.name}: ${(await sh(h.name, 'readlink current; ls releases; cat .deployr/lock.json 2>/dev/null; true')).stdout}`));
      return lines.join('\n');
    },
  };
}

/** `data.change` of the log events of a --json run, by host: what reportChange said. */
export function changes(stdout: string): Array<{ host: unknown; what: string; status: string; predicted: boolean }> {
  return events(stdout).flatMap((event) => {
    const change = (event['data'] as { change?: { what: string; status: string; predicted: boolean } } | undefined)?.change;
    return event['type'] === 'log' && change ? [{ host: event['host'], ...change }] : [];
  });
}

/** Messages of the log and warning events of a --json run. */
export function messages(stdout: string): string[] {
  return events(stdout).flatMap((event) => ((event['type'] === 'log' || event['type'] === 'warning') && typeof event['message'] === 'string' ? [event['message']] : []));
}
