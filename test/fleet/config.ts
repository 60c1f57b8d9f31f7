// Settings of the test fleet, read from the environment with defaults.
//
// Everything the fleet creates on the machine (netns, bridge, veths, sudoers
// drop-in, the state dir) is named from `prefix`, so two fleets with different
// prefixes and subnets can coexist, and cleanup can tell ours from anyone else's.
import path from 'node:path';

export type FleetModeSetting = 'auto' | 'netns' | 'loopback';

export interface FleetConfig {
  prefix: string;
  /** First three octets of a /24, e.g. `10.213.7`. */
  subnet: string;
  /** Absolute path of the fleet's state dir (keys, host roots, state.json). */
  dir: string;
  user: string;
  mode: FleetModeSetting;
}

// Linux interface names are at most 15 characters (IFNAMSIZ - 1). The longest
// name we build is `<prefix>v<i>`, so the prefix must leave room for it.
export const IFNAME_MAX = 15;
export const MAX_HOSTS = 244; // host i gets .(10+i), which must stay <= 254

export function loadFleetConfig(env: NodeJS.ProcessEnv = process.env): FleetConfig {
  const prefix = env.DEPLOYR_FLEET_PREFIX || 'dplr';
  // Letters, digits, '_' and '-' only: the prefix ends up in interface names,
  // a sudoers.d file name (sudo ignores names containing '.') and shell-free argv.
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,9}$/.test(prefix)) {
    throw new Error(
      `DEPLOYR_FLEET_PREFIX=${JSON.stringify(prefix)}: use 1-10 characters [A-Za-z0-9_-], starting with a letter ` +
        `(it is used in interface names, which are limited to ${IFNAME_MAX} characters)`,
    );
  }

  const subnet = env.DEPLOYR_FLEET_SUBNET || '10.213.7';
  const octets = subnet.split('.');
  if (octets.length !== 3 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) {
    throw new Error(`DEPLOYR_FLEET_SUBNET=${JSON.stringify(subnet)}: expected the first three octets of a /24, e.g. 10.213.7`);
  }

  const dir = path.resolve(env.DEPLOYR_FLEET_DIR || `/tmp/deployr-fleet-${prefix}`);
  if (dir === '/' || dir.split('/').filter(Boolean).length < 2) {
    // fleetDown removes this dir recursively: refuse anything as broad as /tmp.
    throw new Error(`DEPLOYR_FLEET_DIR=${dir}: choose a dedicated directory at least two levels deep, e.g. /tmp/deployr-fleet`);
  }

  const user = env.DEPLOYR_FLEET_USER || 'deploy';
  // `${user}_pw` must stay a valid user name (max 32 chars).
  if (!/^[a-z_][a-z0-9_-]{0,28}$/.test(user)) {
    throw new Error(`DEPLOYR_FLEET_USER=${JSON.stringify(user)}: expected a lowercase user name of at most 29 characters`);
  }

  const mode = (env.DEPLOYR_FLEET_MODE || 'auto') as FleetModeSetting;
  if (!['auto', 'netns', 'loopback'].includes(mode)) {
    throw new Error(`DEPLOYR_FLEET_MODE=${JSON.stringify(mode)}: expected auto, netns or loopback`);
  }

  return { prefix, subnet, dir, user, mode };
}

/** Names derived from the config; the only names cleanup will ever delete. */
export function fleetNames(cfg: Pick<FleetConfig, 'prefix'>) {
  const p = cfg.prefix;
  return {
    bridge: `${p}br0`,
    veth: (i: number) => `${p}v${i}`,
    netns: (i: number) => `${p}-h${i}`,
    netnsPattern: new RegExp(`^${escapeRe(p)}-h(\\d+)$`),
    vethPattern: new RegExp(`^${escapeRe(p)}v(\\d+)$`),
    // argv[0] of each host's anchor process, so leftovers can be found in /proc
    // even without a state file (loopback mode has no netns to list).
    anchorTag: (hostName: string) => `deployr-fleet:${p}:${hostName}`,
    anchorTagPattern: new RegExp(`^deployr-fleet:${escapeRe(p)}:h(\\d+)$`),
    sudoersFile: `/etc/sudoers.d/${p}-fleet`,
  };
}

/** Address and port of host i (1-based) in each mode. */
export function hostAddress(cfg: Pick<FleetConfig, 'subnet'>, mode: 'netns' | 'loopback', i: number) {
  if (mode === 'netns') return { address: `${cfg.subnet}.${10 + i}`, port: 22 };
  // Loopback: all of 127/8 is local on Linux, so each host still gets its own
  // address without creating anything. Derive it from the subnet's 2nd and 3rd
  // octets (10.213.7 -> 127.213.7.x) so fleets with different subnets don't clash.
  const [, o2, o3] = cfg.subnet.split('.');
  return { address: `127.${o2}.${o3}.${10 + i}`, port: 2222 };
}

function escapeRe(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
