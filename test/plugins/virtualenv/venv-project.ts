// A temp project that deploys a small Python app with deployr:virtualenv to
// fleet hosts h1 and h2, with its own deployTo, and the wheels it installs:
// no package index is reachable here, so the test builds `deployrdemo` 1.0
// and 2.0 itself (a pure-Python wheel is a zip with a dist-info directory)
// and ships them in the release (`wheels/`, pip --no-index --find-links).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, tempProject, type CliResult } from '../../cli/run-cli.js';
import { hostShell, type FleetHost, type FleetState } from '../../fleet/fleet.js';
import { fleetSsh } from '../../fleet/ssh-settings.js';
import { events } from '../../release/release-project.js';

// Writes <dir>/deployrdemo-<v>-py3-none-any.whl for each version, RECORD hashes and all, with the zipfile module.
const WHEEL_SCRIPT = String.raw`
import base64, hashlib, sys, zipfile
out = sys.argv[1]
for version in sys.argv[2:]:
    info = f"deployrdemo-{version}.dist-info"
    files = {
        "deployrdemo/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: deployrdemo\nVersion: {version}\nSummary: deployr test package\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: deployr-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(f"{out}/deployrdemo-{version}-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
`;

export function buildWheels(dir: string, versions: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('/usr/bin/python3', ['-c', WHEEL_SCRIPT, dir, ...versions], { stdio: 'pipe' });
}

export interface VenvProject {
  readonly dir: string;
  /** Relative to the deploy user's home on each host. */
  readonly deployTo: string;
  readonly hosts: readonly string[];
  /** Rewrites deploy.config.ts with these plugin options (TypeScript source of the object). */
  configure(pluginOptions: string): void;
  write(file: string, content: string): void;
  cli(args: string[]): Promise<CliResult>;
  /** Runs a script (as root) in the host's deployTo. */
  sh(host: string, script: string): Promise<string>;
  current(host: string): Promise<string>;
}

/** `plugins: [virtualenv(<options>)]`, a release.build and a prepare hook that each report the demo version the venv has, and a task using the helper. */
export function venvProject(fleet: FleetState, label: string): VenvProject {
  const hosts = fleet.hosts.filter((host) => host.name === 'h1' || host.name === 'h2');
  if (hosts.length !== 2) throw new Error('the virtualenv tests need fleet hosts h1 and h2');
  const deployTo = `venv-${randomBytes(4).toString('hex')}/${label}`;
  const dir = tempProject({ 'package.json': '{ "name": "venv-test", "private": true }\n' });
  const app = path.join(dir, 'app');
  buildWheels(path.join(app, 'wheels'), ['1.0', '2.0']);
  writeFileSync(path.join(app, 'requirements.txt'), 'deployrdemo==1.0\n');
  writeFileSync(path.join(app, 'app.py'), 'import deployrdemo\nprint(deployrdemo.__version__)\n');
  const ssh = fleetSsh(fleet);
  const hostList = JSON.stringify(hosts.map((h: FleetHost) => ({ name: h.name, address: h.address, port: h.port, user: fleet.user, roles: ['app'] })));
  const sh = async (host: string, script: string): Promise<string> => {
    const result = await hostShell(fleet, host, `cd /home/${fleet.user} && { cd ${deployTo} 2>/dev/null || true; } && ${script}`);
    return result.stdout;
  };
  const project: VenvProject = {
    dir,
    deployTo,
    hosts: hosts.map((h) => h.name),
    configure(pluginOptions) {
      writeFileSync(
        path.join(dir, 'deploy.config.ts'),
        `import { cmd, defineConfig } from 'deployr';
import { virtualenv, venv } from 'deployr/plugins/virtualenv';

const version = "import deployrdemo, sys; print(deployrdemo.__version__, sys.prefix)";

export default defineConfig({
  app: 'venv-test',
  deployTo: ${JSON.stringify(deployTo)},
  keepReleases: 2,
  ssh: ${JSON.stringify(ssh)},
  // release.build runs after the deploy hook: the venv is there, through the release's .venv link.
  release: { source: 'app', build: '.venv/bin/python app.py > BUILT_WITH' },
  plugins: [virtualenv(${pluginOptions})],
  environments: { fleet: { hosts: ${hostList} } },
  hooks: {
    // The helper during a deploy: the new release, its venv active.
    prepare: async (ctx) => {
      await venv(ctx).exec(cmd\`python -c \${version} > HELPER_SAYS\`);
    },
  },
  tasks: {
    'demo:version': async (ctx) => {
      const { stdout } = await venv(ctx).exec(cmd\`python -c \${version}\`);
      ctx.log.info(\`demo \${stdout.trim()}\`);
    },
  },
});
`,
      );
    },
    write: (file, content) => writeFileSync(path.join(app, file), content),
    cli: (args) => cli(args, dir),
    sh,
    current: async (host) => (await sh(host, 'readlink current 2>/dev/null | sed "s#^releases/##" || true')).trim(),
  };
  return project;
}

/** Log messages of a --json run, by host. */
export function logs(stdout: string): Array<{ host: string; message: string }> {
  return events(stdout)
    .filter((event) => event['type'] === 'log' || event['type'] === 'warning')
    .map((event) => ({ host: typeof event['host'] === 'string' ? event['host'] : '', message: String(event['message']) }));
}

/** The plugin's change reports of a --json run: host → [{ what, status, predicted, diff? }]. */
export function changes(stdout: string): Map<string, Array<{ what: string; status: string; predicted: boolean; diff?: string }>> {
  const found = new Map<string, Array<{ what: string; status: string; predicted: boolean; diff?: string }>>();
  for (const event of events(stdout)) {
    const change = (event['data'] as { change?: { what: string; status: string; predicted: boolean; diff?: string } } | undefined)?.change;
    if (event['type'] !== 'log' || !change || !change.what.startsWith('venv ')) continue;
    const host = String(event['host']);
    found.set(host, [...(found.get(host) ?? []), change]);
  }
  return found;
}

/** Commands a --json run started, by host. */
export function commands(stdout: string): Array<{ host: string; command: string }> {
  return events(stdout)
    .filter((event) => event['type'] === 'command:start')
    .map((event) => ({ host: String(event['host']), command: String(event['command']) }));
}
