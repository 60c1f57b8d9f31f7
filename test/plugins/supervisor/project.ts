// A temp project that deploys a tiny Python HTTP app under supervisord to
// fleet hosts h1 and h2 with the supervisor plugin, through the real CLI.
// The app binds its host's own address (netns and loopback fleets alike)
// on one port, and answers GET / with what it runs: release, version, user,
// an environment value.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCli, tempProject, type CliResult } from '../../cli/run-cli.js';
import { hostShell, type FleetHost, type FleetState } from '../../fleet/fleet.js';
import { fleetSsh } from '../../fleet/ssh-settings.js';

export const SERVER_PY = `import http.server, os, pwd, sys

release = os.path.basename(os.path.realpath('.'))
version = open('VERSION').read().strip()
user = pwd.getpwuid(os.getuid()).pw_name
answer = f"{release} {version} {user} {os.environ.get('HOME')} {os.environ.get('MOTTO')}\\n".encode()

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

server = http.server.HTTPServer((os.environ['BIND'], int(os.environ['PORT'])), Handler)
print(f"listening on {os.environ['BIND']}:{os.environ['PORT']} for {release}", flush=True)
server.serve_forever()
`;

export const CRASHING_PY = `import sys
print("boom: this release cannot start", file=sys.stderr, flush=True)
sys.exit(1)
`;

/** Has both quote kinds' neighbours, a comma and a percent sign: what the ini escaping must carry. */
export const MOTTO = 'say "hi", 100% sure';

export interface SupervisorProject {
  dir: string;
  /** supervisord program name, unique per test run. */
  program: string;
  port: number;
  deployTo: string;
  hosts: readonly FleetHost[];
  /** Rewrites deploy.config.ts with these extra supervisor() options and top-level keys (TypeScript source, e.g. `startsecs: 2,`). */
  configure(extraOptions?: string, extraConfig?: string): void;
  write(file: string, content: string): void;
  cli(args: string[]): Promise<CliResult>;
  /** A root shell on a fleet host, in the deploy user's deployTo (when it exists). */
  sh(host: string, script: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  current(host: string): Promise<string>;
  /** GET / of the app on a host: its answer, or the error. */
  get(host: string): Promise<string>;
  confFile: string;
}

export function supervisorProject(fleet: FleetState, names: readonly string[] = ['h1', 'h2']): SupervisorProject {
  const hosts = names.map((name) => fleet.hosts.find((h) => h.name === name) as FleetHost);
  const tag = randomBytes(3).toString('hex');
  const program = `hello_${tag}`;
  const port = randomInt(20_000, 30_000);
  const deployTo = `sup-${tag}/app`;
  const dir = tempProject({ 'package.json': '{ "name": "supervisor-test", "private": true }\n' });
  const app = path.join(dir, 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(path.join(app, 'server.py'), SERVER_PY);
  writeFileSync(path.join(app, 'VERSION'), 'v1\n');

  const ssh = fleetSsh(fleet);
  const hostObjects = (roles: (name: string) => string[]) =>
    JSON.stringify(hosts.map((h) => ({ name: h.name, address: h.address, port: h.port, user: fleet.user, roles: roles(h.name) })));
  const configure = (extraOptions = '', extraConfig = '') =>
    writeFileSync(
      path.join(dir, 'deploy.config.ts'),
      `import { defineConfig } from 'deployr';
import { supervisor } from 'deployr/plugins/supervisor';

export default defineConfig({
  app: 'supervisor-test',
  deployTo: ${JSON.stringify(deployTo)},
  keepReleases: 3,
  ssh: ${JSON.stringify(ssh)},
  release: { source: 'app' },
  environments: {
    fleet: { hosts: ${hostObjects(() => ['app'])} },
    // The same hosts, but only the first plays 'app'.
    mixed: { hosts: ${hostObjects((name) => (name === names[0] ? ['app'] : ['db']))} },
  },
  plugins: [
    supervisor({
      program: ${JSON.stringify(program)},
      command: ['/usr/bin/python3', 'server.py'],
      environment: (ctx) => ({ BIND: ctx.target.address, PORT: ${port}, MOTTO: ${JSON.stringify(MOTTO)}, PYTHONUNBUFFERED: 1 }),
      startsecs: 1,
      roles: ['app'],
      ${extraOptions}
    }),
  ],
  ${extraConfig}
});
`,
    );
  configure();

  const home = `/home/${fleet.user}`;
  const sh = (host: string, script: string) => hostShell(fleet, host, `cd ${home} && { cd ${deployTo} 2>/dev/null || true; } && ${script}`, { timeoutMs: 30_000 });
  return {
    dir,
    program,
    port,
    deployTo,
    hosts,
    confFile: `/etc/supervisor/conf.d/${program}.conf`,
    configure,
    write: (file, content) => writeFileSync(path.join(app, file), content),
    // Generous: two cores shared with other test files, and the first deploy installs a package.
    cli: (args) => startCli(args, dir, {}, 150_000).result,
    sh,
    current: async (host) => (await sh(host, 'readlink current 2>/dev/null | sed "s#^releases/##" || true')).stdout.trim(),
    async get(host) {
      const h = hosts.find((x) => x.name === host) as FleetHost;
      try {
        const response = await fetch(`http://${h.address}:${port}/`, { signal: AbortSignal.timeout(10_000) });
        return await response.text();
      } catch (error) {
        return `no answer: ${(error as Error).message}`;
      }
    },
  };
}
