// deployr's own example config, and a working one: `npx deployr deploy local`
// ships the example app in templates/hello to ./.deployr/hello on this
// machine (no servers needed: the `local` environment uses the local
// transport); `npx deployr status local`, `npx deployr rollback local`.
// `prod` and `staging` show a typical SSH setup, one base environment with
// per-target overrides, and the first-party plugins on the servers:
//   npx deployr bootstrap prod-bootstrap   once per new server, as root
//   npx deployr deploy prod                the committed app, run by supervisord
//   npx deployr check prod                 ask each app host which release it serves
import { cmd, defineConfig, onlyIn, series } from 'deployr';
import { bootstrap } from 'deployr/plugins/bootstrap';
import { git } from 'deployr/plugins/git';
import { supervisor } from 'deployr/plugins/supervisor';
import { venv, virtualenv } from 'deployr/plugins/virtualenv';

export default defineConfig({
  app: 'hello',
  deployTo: './.deployr/hello',
  keepReleases: 3,
  release: {
    // What to ship: a directory (its .gitignore and .deployrignore apply).
    source: 'templates/hello',
    // Kept in <deployTo>/shared across releases, linked into each one.
    shared: ['logs/'],
    // Run in each new release on every host before any host switches to it.
    build: 'node scripts/build-info.mjs',
  },
  vars: { port: 8080 },
  plugins: [
    // Users, group, keys, sudo rule, packages and deployTo of a new server (never on `local`).
    bootstrap({ deployUser: 'deploy', runUser: 'hello', group: 'hello', authorizedKeys: ['~/.ssh/id_ed25519.pub'] }),
    // Servers get a commit, not the work tree: main's templates/hello, exported with git archive.
    onlyIn(['prod', 'staging'], git({ ref: 'main', subdir: 'templates/hello' })),
    // The app under supervisord on app hosts, restarted right after each host switches;
    // one that crash-loops switches every host back.
    supervisor({
      program: 'hello',
      command: ['/usr/bin/node', 'server.mjs'],
      user: 'hello',
      environment: (ctx) => ({ PORT: Number(ctx.vars['port']), NODE_ENV: 'production' }),
      roles: ['app'],
    }),
    // A venv per requirements for the Python scripts, linked into each release as .venv.
    virtualenv({ requirements: ['requirements.txt'], roles: ['app'] }),
  ],
  environments: {
    local: {
      description: 'this machine, no servers needed',
      connect: 'local',
    },
    prod: {
      description: 'two web servers and a database',
      deployTo: '/srv/hello',
      hosts: [
        { name: 'web-1', address: 'web-1.example.com', roles: ['app'] },
        { name: 'web-2', address: 'web-2.example.com', roles: ['app'] },
        { name: 'db-1', address: '10.0.0.20', roles: ['db'] },
      ],
      confirm: true,
      ssh: {
        user: 'deploy',
        // Host keys are always verified: pin them or keep them in known_hosts. accept-new records keys on first use.
        knownHostsFiles: ['./known_hosts'],
      },
    },
    'prod-bootstrap': {
      extends: 'prod',
      description: 'prod as root, for `deployr bootstrap prod-bootstrap` on new servers',
      confirm: false,
      ssh: { user: 'root' },
    },
    staging: {
      extends: 'prod',
      description: 'one host that plays every role',
      hosts: [{ name: 'staging', address: 'staging.example.com', roles: ['app', 'db'] }],
      confirm: false,
      vars: { port: 8081 },
    },
  },
  hooks: {
    postdeploy: (ctx) => ctx.log.info(`${ctx.target.name} now serves port ${String(ctx.vars['port'])}`),
  },
  tasks: {
    uptime: {
      description: 'show how long each host has been up',
      run: async (ctx) => {
        await ctx.host.exec('uptime');
      },
    },
    disk: {
      description: 'free space where the app lives',
      run: async (ctx) => {
        await ctx.host.exec(cmd`df -h ${ctx.environment.deployTo?.startsWith('./') ? '.' : (ctx.environment.deployTo ?? '/')}`);
      },
    },
    health: series('uptime', 'disk'),
    check: {
      description: "ask the app which release it serves (a Python script, in the release's venv)",
      roles: ['app'],
      run: async (ctx) => {
        await venv(ctx).env({ PORT: Number(ctx.vars['port']) }).exec('python scripts/check.py');
      },
    },
  },
});
