// Shared by the integration tests: SSH targets and Hosts for the fleet's sshd hosts.
import { Host, SshConnector, type HostOptions, type SshOptions, type SshTarget } from '../../core/index.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { fleetSsh } from '../fleet/ssh-settings.js';

/** An SshTarget for a fleet host: the fleet's client key and known_hosts, no ~/.ssh/config. */
export function fleetTarget(fleet: FleetState, host: FleetHost | string, ssh: SshOptions = {}, user?: string): SshTarget {
  const h = typeof host === 'string' ? hostNamed(fleet, host) : host;
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: user ?? fleet.user,
    ssh: { ...fleetSsh(fleet, 5_000), ...ssh },
  };
}

export function hostNamed(fleet: FleetState, name: string): FleetHost {
  const host = fleet.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no fleet host named ${name} (have ${fleet.hosts.map((h) => h.name).join(', ')})`);
  return host;
}

/**
 * A connector plus a Host factory; call close() in afterAll. Each test file
 * gets its own connector so files never share connections.
 */
export function fleetHosts(fleet: FleetState) {
  const connector = new SshConnector();
  return {
    connector,
    host(name: string, ssh: SshOptions = {}, options: HostOptions = {}, user?: string): Host {
      return new Host(connector.connection(fleetTarget(fleet, name, ssh, user)), options);
    },
    close: () => connector.closeAll(),
  };
}

/** Connects with a fresh connector and returns the error; fails the test if the connection succeeds. */
export async function connectFailure(target: SshTarget): Promise<Error> {
  const connector = new SshConnector();
  try {
    await connector.connect(target);
  } catch (error) {
    return error as Error;
  } finally {
    await connector.closeAll();
  }
  throw new Error(`connecting to ${target.name} succeeded; expected it to fail`);
}
