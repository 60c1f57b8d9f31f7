// deployr's own example config. `local` needs no servers: it runs on this
// machine through the local transport. `prod` shows a typical SSH setup.
import { defineConfig } from './core/index.js';

export default defineConfig({
  app: 'hello',
  deployTo: './.deployr/hello',
  environments: {
    local: {
      connect: 'local',
      hosts: ['localhost'],
    },
    prod: {
      hosts: ['deploy@web-1.example.com', { name: 'web-2', address: '10.0.0.12', user: 'deploy', roles: ['web'] }],
      ssh: {
        // Host keys are always verified; pin or use known_hosts. accept-new records keys on first use.
        knownHostsFiles: ['./known_hosts'],
      },
    },
  },
});
