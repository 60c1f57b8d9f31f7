import type { FleetState } from './fleet.js';

/**
 * The `ssh` settings that reach the fleet: its client key and known_hosts,
 * nothing from this machine's ~/.ssh (config or agent), so tests behave the
 * same for every user and in CI.
 */
export function fleetSsh(fleet: Pick<FleetState, 'clientKey' | 'knownHosts'>, connectTimeout = 10_000) {
  return { identityFile: fleet.clientKey, knownHostsFiles: [fleet.knownHosts], useSshConfig: false, agent: false as const, connectTimeout };
}
