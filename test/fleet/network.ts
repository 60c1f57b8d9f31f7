// netns mode plumbing: one bridge in the root namespace, one netns per host
// joined to it by a veth pair. Only names built by fleetNames() are ever
// created or deleted, so other users of this machine are left alone.
import { existsSync } from 'node:fs';
import { fleetNames, type FleetConfig } from './config.js';
import { run, runOk } from './exec.js';

/** Create `<prefix>br0` with subnet.1/24. Throws if it cannot (auto mode then falls back to loopback). */
export async function createBridge(cfg: FleetConfig): Promise<void> {
  const { bridge } = fleetNames(cfg);
  await assertSubnetFree(cfg);
  await runOk('ip', ['link', 'add', bridge, 'type', 'bridge']);
  // STP off and no forward delay: ports forward as soon as they are attached.
  await runOk('ip', ['link', 'set', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await runOk('ip', ['addr', 'add', `${cfg.subnet}.1/24`, 'dev', bridge]);
  await runOk('ip', ['link', 'set', bridge, 'up']);
}

/** Netns `<prefix>-h<i>` with `eth0` = address/24 and lo up, plugged into the bridge via `<prefix>v<i>`. */
export async function createHostNetns(cfg: FleetConfig, i: number, address: string): Promise<string> {
  const n = fleetNames(cfg);
  const ns = n.netns(i);
  await runOk('ip', ['netns', 'add', ns]);
  // Create the peer directly inside the netns, so its name can be eth0 without
  // clashing with the root namespace's own eth0.
  await runOk('ip', ['link', 'add', n.veth(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await runOk('ip', ['link', 'set', n.veth(i), 'master', n.bridge, 'up']);
  await runOk('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** Our netns names that exist now (also those left by a killed run). */
export async function listOurNetns(cfg: FleetConfig): Promise<string[]> {
  const { netnsPattern } = fleetNames(cfg);
  const r = await run('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  // Lines look like "dplr-h1 (id: 3)" or just "dplr-h1".
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((name) => netnsPattern.test(name));
}

/** Our links in the root namespace: the bridge and the bridge-side veths. */
export async function listOurLinks(cfg: FleetConfig): Promise<string[]> {
  const n = fleetNames(cfg);
  const r = await run('ip', ['-o', 'link', 'show']);
  if (r.code !== 0) return [];
  const names = r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((x): x is string => !!x);
  return names.filter((name) => name === n.bridge || n.vethPattern.test(name));
}

export async function deleteNetns(ns: string): Promise<void> {
  if (!existsSync(`/run/netns/${ns}`)) return;
  await runOk('ip', ['netns', 'del', ns]);
}

export async function deleteLink(name: string): Promise<void> {
  const r = await run('ip', ['link', 'del', name]);
  // The veth may already have gone with its netns: that is fine.
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) {
    throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
  }
}

/** Refuse to add a bridge on a /24 that some other interface already uses. */
async function assertSubnetFree(cfg: FleetConfig): Promise<void> {
  const n = fleetNames(cfg);
  const r = await runOk('ip', ['-o', '-4', 'addr', 'show']);
  for (const line of r.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d+\.\d+\.\d+)\.\d+\//.exec(line);
    if (m && m[2] === cfg.subnet && m[1] !== n.bridge) {
      throw new Error(
        `subnet ${cfg.subnet}.0/24 is already used by interface ${m[1]}; set DEPLOYR_FLEET_SUBNET to a free one`,
      );
    }
  }
}
