// A private sshd inside a fleet host's namespaces (same host keys, users and
// sshd_config as the fleet's, edited as a test needs) on a spare port, as
// connect-errors.test.ts starts its own: other test files can neither stop it
// nor change it, and stopping it is the test's alone. `fleet down` would sweep
// it too (it lives in the host's mount namespace).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshOptions, SshTarget } from '../../core/index.js';
import { hostShell, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { fleetTarget } from './fleet-targets.js';

export interface PrivateSshd {
  host: FleetHost;
  port: number;
  pid: number;
  knownHosts: string;
  logFile: string;
  /** An SshTarget for this sshd, named `name`. */
  target(name: string, ssh?: SshOptions): SshTarget;
  stop(): Promise<void>;
}

/** Starts sshd on `port` inside `host`, with the fleet's sshd_config passed through `edit`. */
export async function startPrivateSshd(
  fleet: FleetState,
  host: FleetHost,
  port: number,
  edit: (config: string) => string = (config) => config,
): Promise<PrivateSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'deployr-private-sshd-'));
  const pidFile = path.join(dir, 'sshd.pid');
  const logFile = path.join(dir, 'sshd.log');
  const configFile = path.join(dir, 'sshd_config');
  const config = readFileSync(path.join(host.root, 'sshd_config'), 'utf8')
    .replace(/^Port .*$/m, `Port ${port}`)
    .replace(/^PidFile .*$/m, `PidFile ${pidFile}`);
  writeFileSync(configFile, edit(config));
  const pub = readFileSync(path.join(host.root, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[${host.address}]:${port} ${pub}\n`);
  const r = await hostShell(fleet, host.name, `/usr/sbin/sshd -f '${configFile}' -E '${logFile}'`);
  if (r.code !== 0) throw new Error(`private sshd on ${host.name}:${port} did not start: ${r.stderr}`);
  // The file can exist before the pid is in it: wait for the number (a pid of 0 would match nothing, or everything).
  const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0);
  let pid = readPid();
  for (let i = 0; !(pid > 1); i += 1) {
    if (i > 200) throw new Error(`private sshd on ${host.name}:${port} wrote no pid file`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    pid = readPid();
  }
  return {
    host,
    port,
    pid,
    knownHosts,
    logFile,
    target: (name, ssh = {}) => ({ ...fleetTarget(fleet, host, { knownHostsFiles: [knownHosts], ...ssh }), port, name }),
    async stop() {
      try {
        // Only the listener we started (its command line names our config file).
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(configFile)) process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const running = () => {
        try {
          return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 200 && running(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
