// A deploy.config.ts for the test fleet, written into a temp project: the
// hosts h1..h3 (the last fleet host is left to tests that stop it), tasks that
// exercise the CLI, and environments for each class of failure.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetState } from '../fleet/fleet.js';
import { fleetSsh } from '../fleet/ssh-settings.js';
import { tempProject } from './run-cli.js';

export interface FleetProject {
  dir: string;
  /** A file the failure hook writes, to prove it ran. */
  failureMark: string;
  /** What the `hang` task sleeps, unique to this run so its processes can be found on the hosts. */
  sleepSeconds: number;
}

export function fleetProject(fleet: FleetState, tag: string): FleetProject {
  const [h1, h2, h3] = fleet.hosts;
  if (!h1 || !h2 || !h3) throw new Error('the CLI tests need a fleet of at least 3 hosts');
  const ssh = fleetSsh(fleet, 5000);
  const host = (h: typeof h1, roles: string[], port = h.port) => ({ name: h.name, address: h.address, port, user: fleet.user, roles });
  const dir = tempProject({ 'package.json': '{ "name": "cli-test", "private": true }\n' });
  const failureMark = path.join(dir, 'failure-hook-ran');
  const sleepSeconds = 20_000 + (parseInt(tag.slice(0, 4), 16) % 10_000);
  const emptyKnownHosts = path.join(dir, 'empty_known_hosts');
  writeFileSync(emptyKnownHosts, '');
  const config = `
import { defineConfig, cmd } from 'deployr';
import { writeFileSync } from 'node:fs';

export default defineConfig({
  app: 'cli-test',
  ssh: ${JSON.stringify(ssh)},
  vars: { greeting: 'hello' },
  environments: {
    fleet: {
      description: 'the test fleet',
      hosts: ${JSON.stringify([host(h1, ['web']), host(h2, ['web']), host(h3, ['db'])])},
    },
    guarded: { extends: 'fleet', confirm: 'Really touch the fleet?' },
    unreachable: { hosts: ${JSON.stringify([host(h1, ['web'], 1)])} },
    untrusted: { hosts: ${JSON.stringify([host(h1, ['web'])])}, ssh: { knownHostsFiles: [${JSON.stringify(emptyKnownHosts)}] } },
  },
  plugins: [{ name: 'test:notes', apply(d) { d.task('notes', async (ctx) => ctx.log.info('note from ' + ctx.target.name), { description: 'a plugin task' }); } }],
  hooks: {
    failure: async (run) => { writeFileSync(${JSON.stringify(failureMark)}, run.failures.map((f) => f.host).sort().join(',')); },
  },
  tasks: {
    hello: {
      description: 'greet from every host',
      run: async (ctx) => { await ctx.host.exec(cmd\`echo \${String(ctx.vars.greeting)} from \${ctx.target.name} \${ctx.args}\`); },
    },
    'fail-on-h2': async (ctx) => { await ctx.host.exec(ctx.target.name === '${h2.name}' ? 'echo boom-${tag} >&2; exit 3' : 'true'); },
    hang: async (ctx) => { await ctx.host.exec('echo started; sleep ${sleepSeconds}'); },
    migrate: { run: async (ctx) => { await ctx.host.exec(cmd\`echo migrating on \${ctx.target.name}\`); }, roles: ['db'], once: true, description: 'once, on the db host' },
  },
});
`;
  writeFileSync(path.join(dir, 'deploy.config.ts'), config);
  return { dir, failureMark, sleepSeconds };
}
