// A temp project that uses the bootstrap plugin on fleet hosts: environment
// `admin` logs in as the fleet's sudo user (what you would do as root or an
// admin on a fresh host), `app` extends it and logs in as the deploy user the
// plugin creates. Names carry a random tag, so runs never meet older users.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, tempProject, type CliResult } from '../../cli/run-cli.js';
import { hostShell, type FleetHost, type FleetState } from '../../fleet/fleet.js';
import { fleetSsh } from '../../fleet/ssh-settings.js';

export interface BootstrapProject {
  dir: string;
  tag: string;
  deployTo: string;
  /** Rewrites deploy.config.ts with these bootstrap() options (TypeScript source of an object). */
  configure(options: string): void;
  cli(args: string[]): Promise<CliResult>;
  /** A root shell on a fleet host. */
  sh(host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function bootstrapProject(fleet: FleetState, hosts: readonly FleetHost[], deployUser: string, deployTo: string): BootstrapProject {
  const tag = randomBytes(3).toString('hex');
  const dir = tempProject({ 'package.json': '{ "name": "bootstrap-test", "private": true }\n' });
  mkdirSync(path.join(dir, 'app'));
  writeFileSync(path.join(dir, 'app', 'index.html'), '<h1>bootstrapped</h1>\n');
  const ssh = fleetSsh(fleet);
  const hostList = JSON.stringify(hosts.map((h) => ({ name: h.name, address: h.address, port: h.port })));
  const configure = (options: string): void =>
    writeFileSync(
      path.join(dir, 'deploy.config.ts'),
      `import { defineConfig } from 'deployr';
import { bootstrap } from 'deployr/plugins/bootstrap';

export default defineConfig({
  app: 'bst-app',
  deployTo: ${JSON.stringify(deployTo)},
  release: { source: 'app' },
  ssh: ${JSON.stringify(ssh)},
  plugins: [bootstrap(${options})],
  environments: {
    admin: { hosts: ${hostList}, ssh: { user: ${JSON.stringify(fleet.user)} } },
    app: { extends: 'admin', ssh: { user: ${JSON.stringify(deployUser)} } },
  },
});
`,
    );
  configure('{}');
  return {
    dir,
    tag,
    deployTo,
    configure,
    cli: (args) => cli(args, dir),
    sh: (host, script) => hostShell(fleet, host, script, { timeoutMs: 30_000 }),
  };
}

/** The NDJSON events of a --json run. */
export function events(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface Change {
  host: string;
  what: string;
  status: string;
  predicted: boolean;
}

/** Every change report (reportChange) of a --json run, in order. */
export function changes(stdout: string): Change[] {
  return events(stdout).flatMap((event) => {
    const change = (event['data'] as { change?: Omit<Change, 'host'> } | undefined)?.change;
    return change ? [{ host: String(event['host']), ...change }] : [];
  });
}
