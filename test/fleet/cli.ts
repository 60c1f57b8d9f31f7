// npm run fleet -- up [N] | down | status | stop <host> | start <host> | sh <host> <script>
//
// Manual control of the test fleet, e.g. to keep one running while iterating
// on integration tests (the vitest global setup reuses a healthy fleet).
import { fleetDown, fleetHealth, fleetUp, hostShell, readFleetState, startHost, stopHost, type FleetState } from './fleet.js';

const USAGE = `usage: npm run fleet -- <command>
  up [N]              start N sshd hosts (default 4), replacing any fleet with the same prefix
  down                stop everything and remove the fleet dir (safe to repeat)
  status              list hosts, health and ready-to-paste ssh command lines
  stop <host>         stop a host's sshd (connections refused)
  start <host>        start it again
  sh <host> <script>  run a sh script as root inside the host's namespaces
env: DEPLOYR_FLEET_PREFIX, DEPLOYR_FLEET_SUBNET, DEPLOYR_FLEET_DIR, DEPLOYR_FLEET_USER, DEPLOYR_FLEET_MODE`;

function sshLine(state: FleetState, address: string, port: number): string {
  const portOpt = port === 22 ? '' : ` -p ${port}`;
  return (
    `ssh -i ${state.clientKey} -o UserKnownHostsFile=${state.knownHosts} -o StrictHostKeyChecking=yes ` +
    `-o IdentitiesOnly=yes${portOpt} ${state.user}@${address}`
  );
}

async function status(): Promise<number> {
  const state = readFleetState();
  const health = await fleetHealth(state);
  const out: string[] = [];
  out.push(`fleet ${state.prefix}: ${state.hosts.length} hosts, mode ${state.mode}, dir ${state.dir}`);
  let ok = true;
  for (const h of state.hosts) {
    const hh = health.find((x) => x.name === h.name);
    const up = !!hh?.anchor && !!hh.banner;
    ok &&= up;
    const where = `${h.address}:${h.port}`.padEnd(20);
    const what = hh?.anchor ? (hh.banner ? `up   sshd ${hh.sshdPid ?? '?'}` : `DOWN (${hh.error ?? 'no banner'})`) : 'ANCHOR GONE';
    out.push(`  ${h.name.padEnd(4)} ${where} ${(h.netns ?? '-').padEnd(12)} anchor ${String(h.anchorPid).padEnd(7)} ${what}`);
  }
  out.push(
    `users: ${state.user} (key, sudo without password), ${state.passwordUser} (key or password, sudo asks password)`,
    `password: ${state.password}    passphrase of ${state.passphraseKey.path}: ${state.passphraseKey.passphrase}`,
    `state: ${state.dir}/state.json`,
    '',
  );
  for (const h of state.hosts) out.push(sshLine(state, h.address, h.port));
  console.log(out.join('\n'));
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  switch (cmd) {
    case 'up': {
      const count = rest[0] === undefined ? 4 : Number(rest[0]);
      const state = await fleetUp(count, { log: (l) => console.error(`[fleet] ${l}`) });
      console.log(`fleet up: ${state.hosts.length} hosts (${state.mode}) in ${took()}\n`);
      return status();
    }
    case 'down':
      await fleetDown();
      console.log(`fleet down in ${took()}`);
      return 0;
    case 'status':
      return status();
    case 'stop':
    case 'start': {
      const name = rest[0];
      if (!name) break;
      const state = readFleetState();
      await (cmd === 'stop' ? stopHost(state, name) : startHost(state, name));
      console.log(`${name} ${cmd === 'stop' ? 'stopped' : 'started'} in ${took()}`);
      return 0;
    }
    case 'sh': {
      const [name, ...script] = rest;
      if (!name || script.length === 0) break;
      const r = await hostShell(readFleetState(), name, script.join(' '));
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.code;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fleet: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
