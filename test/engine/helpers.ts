import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployrConfig } from '../../core/config/types.js';
import { createDeployr } from '../../core/engine/create-deployr.js';
import type { Deployr } from '../../core/engine/deployr.js';
import type { DeployrEvent } from '../../core/engine/events.js';

/** A config whose `test` environment has local-transport hosts a, b, c (roles: a,b web; c db), deploying to `deployed/` under a temp root. */
export function localConfig(extra: Partial<DeployrConfig> = {}): DeployrConfig {
  return {
    app: 'engine-test',
    // Under the harness's temp root; the hosts share this machine's disk, so deploy tests use one host at a time.
    deployTo: 'deployed',
    environments: {
      test: {
        connect: 'local',
        hosts: [
          { name: 'a', address: 'localhost', roles: ['web'], vars: { color: 'red' } },
          { name: 'b', address: 'localhost', roles: ['web'] },
          { name: 'c', address: 'localhost', roles: ['db'] },
        ],
        vars: { color: 'blue', size: 3 },
      },
    },
    ...extra,
  };
}

export interface Harness {
  deployr: Deployr;
  events: DeployrEvent[];
  /** `host:task:status` for every task:end, in order. */
  ends(): string[];
}

export async function harness(config: DeployrConfig, environment = 'test'): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), 'deployr-engine-'));
  const deployr = await createDeployr({ config, environment, root });
  const events: DeployrEvent[] = [];
  deployr.on((event) => events.push(event));
  return {
    deployr,
    events,
    ends: () => events.flatMap((e) => (e.type === 'task:end' ? [`${e.host}:${e.task}:${e.status}`] : [])),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
