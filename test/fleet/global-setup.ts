// vitest globalSetup: make sure a fleet of DEPLOYR_TEST_HOSTS (default 6) sshd
// hosts is running before any test file, and tell the tests where its state is
// (project.provide('fleetStatePath') and $DEPLOYR_FLEET_STATE).
//
// A healthy fleet with the same prefix and enough hosts (e.g. from
// `npm run fleet -- up 6`) is reused and left running.
//
// Which test files may stop a host's sshd, so that files running side by side
// never pull a host from under each other:
//   h1..h3  shared by everyone; never stopped (release tests deploy into dirs of their own)
//   h2..h4  the jump-host test's targets; never stopped
//   h5      test/release/failures.test.ts alone (kills its sshd mid-upload)
//   last    test/integration/exec.test.ts and test/fleet/fleet.test.ts stop and restart it Otherwise a fresh one is
// started and torn down after the run, unless DEPLOYR_FLEET_KEEP=1.
import type { TestProject } from 'vitest/node';
import { loadFleetConfig, type FleetConfig } from './config.js';
import { fleetDown, fleetHealth, fleetStatePath, fleetUp, readFleetState, type FleetState } from './fleet.js';
import './provided-context.js';

/** The running fleet if it can serve this run, else null (after saying why it will be replaced). */
async function reusable(cfg: FleetConfig, count: number): Promise<FleetState | null> {
  let state: FleetState;
  try {
    state = readFleetState(cfg.dir);
  } catch {
    return null; // none running
  }
  const replace = (why: string) => {
    console.log(`[fleet] replacing the running fleet ${state.prefix}: ${why}`);
    return null;
  };
  if (state.prefix !== cfg.prefix || state.user !== cfg.user) return replace('different prefix or user');
  if (state.hosts.length < count) return replace(`${state.hosts.length} hosts, DEPLOYR_TEST_HOSTS=${count}`);
  if (cfg.mode !== 'auto' && state.mode !== cfg.mode) return replace(`mode ${state.mode}, DEPLOYR_FLEET_MODE=${cfg.mode}`);
  const sick = (await fleetHealth(state)).filter((h) => !h.anchor || !h.banner);
  if (sick.length > 0) return replace(`unhealthy: ${sick.map((h) => `${h.name} (${h.error ?? 'anchor gone'})`).join(', ')}`);
  return state;
}

export default async function setup(project: TestProject) {
  const count = Number(process.env.DEPLOYR_TEST_HOSTS || 6);
  if (!Number.isInteger(count) || count < 1) throw new Error(`DEPLOYR_TEST_HOSTS=${process.env.DEPLOYR_TEST_HOSTS}: expected a positive integer`);
  const cfg = loadFleetConfig();

  let state = await reusable(cfg, count);
  const owned = !state;
  if (!state) {
    const t0 = Date.now();
    state = await fleetUp(count);
    console.log(`[fleet] ${count} hosts up (${state.mode}) in ${Date.now() - t0} ms`);
  } else {
    console.log(`[fleet] reusing running fleet ${state.prefix} (${state.hosts.length} hosts, ${state.mode}); not tearing it down`);
  }

  const file = fleetStatePath(state.dir);
  process.env.DEPLOYR_FLEET_STATE = file;
  project.provide('fleetStatePath', file);

  return async () => {
    if (owned && process.env.DEPLOYR_FLEET_KEEP !== '1') await fleetDown();
  };
}
