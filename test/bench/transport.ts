// Transport benchmark: deployr's SSH transport against bare ssh2 on the real
// test fleet, in the same run, reported as ratios (no absolute thresholds).
//
//   npm run bench                      # starts its own 10-host fleet (prefix dpbench)
//   BENCH_REPS=11 npm run bench        # more paired repetitions
//   npm run bench -- --json            # machine-readable
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host, SshConnector, cmd } from '../../core/index.js';
import { fleetDown, fleetUp, readFleetState, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { bareConnect, bareExec, barePutDir, type BareClient } from './bare-ssh2.js';

process.env.DEPLOYR_FLEET_PREFIX ??= 'dpbench';
process.env.DEPLOYR_FLEET_SUBNET ??= '10.213.30';

const REPS = Number(process.env.BENCH_REPS ?? 7);
const HOSTS = 10;
const COMMANDS = 20;
const FILES = 500;
const TOTAL_BYTES = 10 * 1024 * 1024;

interface Row {
  scenario: string;
  deployrMs: number;
  baselineMs: number;
  ratio: number;
  target: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function deployrHosts(fleet: FleetState, hosts: FleetHost[]) {
  const connector = new SshConnector();
  const list = hosts.map(
    (h) =>
      new Host(
        connector.connection({
          name: h.name,
          address: h.address,
          port: h.port,
          user: fleet.user,
          // Defaults otherwise, ~/.ssh/config lookup included: this is what users get.
          ssh: { identityFile: fleet.clientKey, knownHostsFiles: [fleet.knownHosts] },
        }),
      ),
  );
  return { list, close: () => connector.closeAll() };
}

async function bareHosts(fleet: FleetState, hosts: FleetHost[]): Promise<BareClient[]> {
  return Promise.all(hosts.map((h) => bareConnect(h.address, h.port, fleet.user, fleet.clientKey)));
}

async function clearBench(fleet: FleetState, hosts: FleetHost[]): Promise<void> {
  const clients = await bareHosts(fleet, hosts);
  await Promise.all(clients.map((client) => bareExec(client, 'rm -rf /srv/bench')));
  clients.forEach((client) => client.end());
}

async function makeTree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'deployr-bench-'));
  const perFile = Math.floor(TOTAL_BYTES / FILES);
  for (let i = 0; i < FILES; i += 1) {
    const dir = join(root, `dir-${i % 25}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `file-${i}.bin`), randomBytes(perFile), { mode: i % 10 === 0 ? 0o755 : 0o644 });
  }
  return root;
}

interface Side {
  /** The timed part. */
  run: (rep: number) => Promise<unknown>;
  /** Untimed clean-up after each run. */
  after?: (rep: number) => Promise<unknown>;
}

/**
 * Runs both sides REPS times, alternating which goes first. The ratio is the
 * median of the per-repetition ratios: pairing each run with its neighbour
 * cancels most of the machine's drift (2 cores shared with 10 sshds).
 */
async function compare(scenario: string, target: number, deployr: Side, baseline: Side): Promise<Row> {
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  const measure = async (side: Side, rep: number): Promise<number> => {
    const ms = await time(() => side.run(rep));
    await side.after?.(rep);
    return ms;
  };
  for (let rep = 0; rep < REPS; rep += 1) {
    let mine: number;
    let bare: number;
    if (rep % 2 === 0) {
      mine = await measure(deployr, rep);
      bare = await measure(baseline, rep);
    } else {
      bare = await measure(baseline, rep);
      mine = await measure(deployr, rep);
    }
    ours.push(mine);
    theirs.push(bare);
    ratios.push(mine / bare);
  }
  return { scenario, deployrMs: median(ours), baselineMs: median(theirs), ratio: median(ratios), target };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const given = process.env.DEPLOYR_FLEET_STATE;
  const fleet = given ? readFleetState(given) : await fleetUp(HOSTS);
  const owned = !given;
  const tree = await makeTree();
  try {
    if (fleet.hosts.length < HOSTS) throw new Error(`the benchmark needs ${HOSTS} fleet hosts, this fleet has ${fleet.hosts.length}`);
    const one = fleet.hosts.slice(0, 1);
    const ten = fleet.hosts.slice(0, HOSTS);
    const rows: Row[] = [];

    rows.push(
      await compare(
        `(a) connect + ${COMMANDS} sequential commands, 1 host`,
        1.2,
        {
          run: async () => {
            const { list, close } = deployrHosts(fleet, one);
            for (let i = 0; i < COMMANDS; i += 1) await list[0]!.exec(cmd`echo ${i}`);
            await close();
          },
        },
        {
          run: async () => {
            const [client] = await bareHosts(fleet, one);
            for (let i = 0; i < COMMANDS; i += 1) await bareExec(client!, `echo ${i}`);
            client!.end();
          },
        },
      ),
    );

    rows.push(
      await compare(
        `(b) connect + ${COMMANDS} commands on each of ${HOSTS} hosts`,
        1.2,
        {
          run: async () => {
            const { list, close } = deployrHosts(fleet, ten);
            await Promise.all(list.map(async (host) => {
              for (let i = 0; i < COMMANDS; i += 1) await host.exec(cmd`echo ${i}`);
            }));
            await close();
          },
        },
        {
          run: async () => {
            const clients = await bareHosts(fleet, ten);
            await Promise.all(clients.map(async (client) => {
              for (let i = 0; i < COMMANDS; i += 1) await bareExec(client, `echo ${i}`);
            }));
            clients.forEach((client) => client.end());
          },
        },
      ),
    );

    rows.push(
      await compare(
        `(c) connect + putDir ${FILES} files / ${TOTAL_BYTES / 1024 / 1024} MiB to ${HOSTS} hosts`,
        1.2,
        {
          run: async (rep) => {
            const { list, close } = deployrHosts(fleet, ten);
            await Promise.all(list.map((host) => host.putDir(tree, `/srv/bench/deployr-${rep}`)));
            await close();
          },
          after: () => clearBench(fleet, ten),
        },
        {
          run: async (rep) => {
            const clients = await bareHosts(fleet, ten);
            await Promise.all(clients.map((client) => barePutDir(client, tree, `/srv/bench/bare-${rep}`)));
            clients.forEach((client) => client.end());
          },
          after: () => clearBench(fleet, ten),
        },
      ),
    );

    if (json) {
      console.log(JSON.stringify({ reps: REPS, hosts: HOSTS, rows }, null, 2));
    } else {
      console.log(`\ndeployr transport vs bare ssh2 — ${REPS} paired runs, same fleet, same run (times: medians; ratio: median of per-pair ratios)\n`);
      console.log('scenario'.padEnd(62) + 'deployr'.padStart(10) + 'bare ssh2'.padStart(12) + 'ratio'.padStart(9) + '  target');
      for (const row of rows) {
        const verdict = row.ratio <= row.target ? 'ok' : 'OVER';
        console.log(
          row.scenario.padEnd(62) +
            `${row.deployrMs.toFixed(0)} ms`.padStart(10) +
            `${row.baselineMs.toFixed(0)} ms`.padStart(12) +
            `${row.ratio.toFixed(2)}×`.padStart(9) +
            `  ≤${row.target}× ${verdict}`,
        );
      }
    }
  } finally {
    await rm(tree, { recursive: true, force: true });
    if (owned && process.env.DEPLOYR_FLEET_KEEP !== '1') await fleetDown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
