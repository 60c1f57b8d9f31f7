// deployr's own example config, and a working one: `npx deployr deploy local`
// ships the example app in templates/hello to ./.deployr/hello on this
// machine (no servers needed: the `local` environment uses the local
// transport); `npx deployr status local`, `npx deployr rollback local`.
// `prod` and `staging` show a typical SSH setup, one base environment with
// per-target overrides.
import { cmd, defineConfig, series } from 'deployr';

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
  environments: {
    local: {
      description: 'this machine, no servers needed',
      connect: 'local',
    },
    prod: {
      description: 'two web servers and a database',
      hosts: ['deploy@web-1.example.com', 'deploy@web-2.example.com', { name: 'db-1', address: '10.0.0.20', user: 'deploy', roles: ['db'] }],
      confirm: true,
      ssh: {
        // Host keys are always verified: pin them or keep them in known_hosts. accept-new records keys on first use.
        knownHostsFiles: ['./known_hosts'],
      },
    },
    staging: {
      extends: 'prod',
      description: 'one host that plays every role',
      hosts: [{ name: 'staging', address: 'staging.example.com', user: 'deploy', roles: ['web', 'db'] }],
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
  },
});
