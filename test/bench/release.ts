// Release benchmark: `deployr deploy` as a user runs it, against a bare-ssh2
// script doing the same release work, on the real sshd test fleet.
//
//   npm run bench:release                 # starts its own 10-host fleet (prefix dbench, 10.213.61.x)
//   BENCH_PAIRS=11 npm run bench:release  # more pairs (default 7)
//   DEPLOYR_FLEET_STATE=/tmp/…/state.json npm run bench:release   # reuse a running fleet (≥ 10 hosts)
//   DEPLOYR_BIN=/elsewhere/dist/core/cli/bin.js npm run bench:release  # measure another build (not rebuilt)
// An interrupted run may leave its fleet up:
//   DEPLOYR_FLEET_PREFIX=dbench DEPLOYR_FLEET_SUBNET=10.213.61 npm run -s fleet -- down
//
// Method. A generated app (500 files of random bytes, 10 MiB, a few subdirs)
// is deployed to 10 hosts with keepReleases 3 and `release: { source: 'app' }`
// (no build, no shared paths). Both sides are whole processes spawned the same
// way, so node start-up, module loading and exit are counted on both:
//   deployr   `node dist/core/cli/bin.js deploy bench --json` — the built CLI,
//             what users run (dist is rebuilt first when a source is newer);
//             ssh settings are the defaults apart from the fleet's key and
//             known_hosts, ~/.ssh/config lookup included, as in transport.ts.
//   baseline  a node process running bareRelease() from bare-ssh2.ts (compiled
//             to plain JS once, so it pays no TypeScript loader): ssh2
//             connections to the 10 hosts; on each, `mkdir -p releases/<id>`
//             and a node-tar stream into `tar -x`; once every host has it,
//             `ln -s` + `mv -T` over `current` and removal of the releases
//             beyond 3. No lock, no hashing, no manifest, no undo.
// Both get only PATH, HOME and NO_COLOR in their environment (no ssh agent).
// Each pair deploys into fresh deployTo directories (nothing there before),
// so every full deploy is a first one; an untimed warm-up pair goes first,
// and after each pair both sides' `current` is checked to hold every file
// of the app before the directories are removed. Pairs alternate which side goes first;
// the ratio is the median of the per-pair ratios, which cancels most of the
// drift of a shared 2-core machine that also runs the 10 sshds.
// (b) In each pair, right after deployr's full deploy, deployr deploys again
// with nothing changed: the no-op redeploy, compared with that full deploy.
// The per-step rows come from the --json events of deployr's own runs
// (a step's wall time: its first task:start to its last task:end).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { fleetDown, fleetUp, readFleetState, type FleetState } from '../fleet/fleet.js';
import { bareConnect, bareExec, type BareReleaseSpec } from './bare-ssh2.js';

process.env.DEPLOYR_FLEET_PREFIX ??= 'dbench';
process.env.DEPLOYR_FLEET_SUBNET ??= '10.213.61';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 7);
const HOSTS = 10;
const FILES = 500;
const TOTAL_BYTES = 10 * 1024 * 1024;
const KEEP = 3;
const TARGET_RATIO = 1.3;
const TARGET_NOOP = 0.5;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const distBin = process.env.DEPLOYR_BIN ? path.resolve(process.env.DEPLOYR_BIN) : path.join(repo, 'dist/core/cli/bin.js');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

interface ProcessResult {
  ms: number;
  /** Date.now() at spawn, to place the child's event times. */
  spawnedAt: number;
  stdout: string;
}

/** Runs a node process to its end; the time is spawn to exit, as a shell would see it. */
function timeNode(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'], NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) reject(Object.assign(new Error(`${path.basename(args[0] ?? '')} exited ${code}:\n${stderr.slice(-2000)}`), { stdout }));
      else resolve({ ms, spawnedAt, stdout });
    });
  });
}

/** Rebuilds dist/ when any source is newer than the built CLI: the bench measures what `npm run build` gives users. */
async function ensureBuilt(): Promise<void> {
  const built = existsSync(distBin) ? statSync(distBin).mtimeMs : 0;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(max, newest(full));
      return entry.name.endsWith('.ts') ? Math.max(max, statSync(full).mtimeMs) : max;
    }, 0);
  if (Math.max(newest(path.join(repo, 'core')), newest(path.join(repo, 'plugins'))) <= built) return;
  console.error('[bench] dist/ is stale: building with tsc -p tsconfig.json');
  // Type errors stop the bench: it would otherwise measure a half-edited tree.
  await timeNode([path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], repo, {}).catch((error: Error & { stdout?: string }) => {
    throw new Error(`the build failed, fix it or point DEPLOYR_BIN at a built CLI:\n${error.stdout ?? error.message}`);
  });
}

/**
 * The baseline as plain JS in a temp dir: bare-ssh2.ts transpiled, an entry
 * that calls bareRelease() with the spec from argv, and node_modules linked
 * to the repo's so that ssh2 and tar resolve.
 */
function writeBaseline(): { dir: string; entry: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'deployr-bench-bare-'));
  const source = readFileSync(path.join(repo, 'test/bench/bare-ssh2.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(path.join(dir, 'bare-ssh2.js'), outputText);
  const entry = path.join(dir, 'release.js');
  writeFileSync(entry, "import { bareRelease } from './bare-ssh2.js';\nawait bareRelease(JSON.parse(process.argv[2]));\n");
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return { dir, entry };
}

/** The project: the app to ship and a deploy.config.ts whose deployTo comes from $BENCH_DEPLOY_TO (a fresh one per pair). */
function writeProject(fleet: FleetState): { dir: string; app: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'deployr-bench-release-'));
  const app = path.join(dir, 'app');
  const subdirs = ['', 'lib', 'lib/vendor', 'public', 'public/assets', 'views'];
  const perFile = Math.floor(TOTAL_BYTES / FILES);
  for (let i = 0; i < FILES; i += 1) {
    const sub = path.join(app, subdirs[i % subdirs.length] as string);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `file-${i}.bin`), randomBytes(perFile), { mode: i % 10 === 0 ? 0o755 : 0o644 });
  }
  const hosts = fleet.hosts.slice(0, HOSTS).map((h) => ({ name: h.name, address: h.address, port: h.port, user: fleet.user }));
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "release-bench", "private": true }\n');
  writeFileSync(
    path.join(dir, 'deploy.config.ts'),
    `import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'release-bench',
  deployTo: process.env.BENCH_DEPLOY_TO as string,
  keepReleases: ${KEEP},
  ssh: ${JSON.stringify({ identityFile: fleet.clientKey, knownHostsFiles: [fleet.knownHosts] })},
  release: { source: 'app' },
  environments: {
    bench: { hosts: ${JSON.stringify(hosts)} },
  },
});
`,
  );
  return { dir, app };
}

/** A release id in deployr's run-id format, so `sort` orders both sides' releases alike. */
function releaseId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(2).toString('hex')}`;
}

interface DeployrRun {
  ms: number;
  /** Spawn to run:start: node start, module loading, CLI, config load. */
  startMs: number;
  /** The run as deployr timed it (run:end durationMs). */
  runMs: number;
  /** run:end to exit: closing connections, flushing output. */
  exitMs: number;
  /** Wall time of each step across the hosts. */
  steps: Map<string, number>;
  /** host → files sent, from the upload log events. */
  sent: Map<string, { sentFiles: number; base?: string }>;
}

interface Pair {
  full: DeployrRun;
  noop: DeployrRun;
  bareMs: number;
}

function parseDeployr(result: ProcessResult): DeployrRun {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const sent = new Map<string, { sentFiles: number; base?: string }>();
  let runMs = Number.NaN;
  let startedAt = Number.NaN;
  let endedAt = Number.NaN;
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; time: string; task?: string; host?: string; durationMs?: number; data?: { upload?: { sentFiles: number; base?: string } } };
    const at = Date.parse(event.time);
    if (event.type === 'task:start' && event.task) first.set(event.task, Math.min(first.get(event.task) ?? at, at));
    if (event.type === 'task:end' && event.task) last.set(event.task, Math.max(last.get(event.task) ?? at, at));
    if (event.type === 'run:start') startedAt = at;
    if (event.type === 'run:end') {
      runMs = event.durationMs ?? Number.NaN;
      endedAt = at;
    }
    if (event.type === 'log' && event.host && event.data?.upload) sent.set(event.host, event.data.upload);
  }
  const steps = new Map<string, number>();
  for (const [task, start] of first) if (task !== 'deploy') steps.set(task, (last.get(task) ?? start) - start);
  return { ms: result.ms, startMs: startedAt - result.spawnedAt, runMs, exitMs: result.spawnedAt + result.ms - endedAt, steps, sent };
}

async function onEveryHost(fleet: FleetState, script: string): Promise<string[]> {
  const clients = await Promise.all(fleet.hosts.slice(0, HOSTS).map((h) => bareConnect(h.address, h.port, fleet.user, fleet.clientKey)));
  try {
    return await Promise.all(clients.map(async (client) => (await bareExec(client, script)).stdout.trim()));
  } finally {
    clients.forEach((client) => client.end());
  }
}

/** Untimed: every host has `current` with all the app's files, on both sides; then the pair's directories go. */
async function checkAndClear(fleet: FleetState, root: string): Promise<void> {
  const counts = await onEveryHost(fleet, `cd '${root}' && for side in deployr bare; do find -L $side/current -type f ! -name .deployr-release.json | wc -l; done | tr '\\n' ' '`);
  for (const [i, count] of counts.entries()) {
    if (count !== `${FILES} ${FILES}`) throw new Error(`${fleet.hosts[i]?.name}: files in deployr/current and bare/current: ${count}, expected ${FILES} each`);
  }
  await onEveryHost(fleet, `rm -rf '${root}'`);
}

function check(run: DeployrRun, what: string, sentFiles: number, withBase: boolean): void {
  if (run.sent.size !== HOSTS) throw new Error(`${what}: upload reports from ${run.sent.size} hosts, expected ${HOSTS}`);
  for (const [host, upload] of run.sent) {
    if (upload.sentFiles !== sentFiles || (upload.base !== undefined) !== withBase) {
      throw new Error(`${what} on ${host}: sent ${upload.sentFiles} files${upload.base ? ` from ${upload.base}` : ''}, expected ${sentFiles}${withBase ? ' from the previous release' : ''}`);
    }
  }
}

const ms = (value: number) => `${value.toFixed(0)} ms`;

async function main(): Promise<void> {
  const given = process.env.DEPLOYR_FLEET_STATE;
  if (!process.env.DEPLOYR_BIN) await ensureBuilt();
  const fleet = given ? readFleetState(given) : await fleetUp(HOSTS);
  const owned = !given;
  const temporary: string[] = [];
  try {
    if (fleet.hosts.length < HOSTS) throw new Error(`the benchmark needs ${HOSTS} fleet hosts, this fleet has ${fleet.hosts.length}`);
    const project = writeProject(fleet);
    temporary.push(project.dir);
    const baseline = writeBaseline();
    temporary.push(baseline.dir);
    const tag = randomBytes(3).toString('hex');
    /** One pair, in fresh directories under `root`: deployr's full deploy and its no-op redeploy, and the baseline. */
    const runPair = async (root: string, deployrFirst: boolean): Promise<Pair> => {
      const deployr = async () => {
        const env = { BENCH_DEPLOY_TO: `${root}/deployr` };
        const first = parseDeployr(await timeNode([distBin, 'deploy', 'bench', '--json'], project.dir, env));
        check(first, 'full deploy', FILES, false);
        const again = parseDeployr(await timeNode([distBin, 'deploy', 'bench', '--json'], project.dir, env));
        check(again, 'no-op redeploy', 0, true);
        return { full: first, noop: again };
      };
      const baselineRun = async () => {
        const spec: BareReleaseSpec = {
          hosts: fleet.hosts.slice(0, HOSTS).map((h) => ({ address: h.address, port: h.port })),
          user: fleet.user,
          keyFile: fleet.clientKey,
          deployTo: `${root}/bare`,
          localDir: project.app,
          id: releaseId(),
          keep: KEEP,
        };
        return (await timeNode([baseline.entry, JSON.stringify(spec)], baseline.dir, {})).ms;
      };
      let pair: Pair;
      if (deployrFirst) {
        const mine = await deployr();
        pair = { ...mine, bareMs: await baselineRun() };
      } else {
        const bareMs = await baselineRun();
        pair = { ...(await deployr()), bareMs };
      }
      await checkAndClear(fleet, root);
      return pair;
    };

    // Untimed: the first runs pay for cold caches (page cache, jiti's transpiled config, sshd's first sessions).
    await runPair(`release-bench-${tag}-warm-up`, true);
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i += 1) {
      const pair = await runPair(`release-bench-${tag}-${i}`, i % 2 === 0);
      pairs.push(pair);
      console.error(`[bench] pair ${i + 1}/${PAIRS}: deployr ${ms(pair.full.ms)}, baseline ${ms(pair.bareMs)}, no-op ${ms(pair.noop.ms)}`);
    }
    const full = pairs.map((pair) => pair.full);
    const noop = pairs.map((pair) => pair.noop);

    const summary = {
      bench: 'release',
      runner: `node ${distBin.startsWith(repo) ? path.relative(repo, distBin) : distBin}`,
      pairs: PAIRS,
      hosts: HOSTS,
      files: FILES,
      bytes: TOTAL_BYTES,
      deployrFullMs: Math.round(median(full.map((r) => r.ms))),
      baselineMs: Math.round(median(pairs.map((pair) => pair.bareMs))),
      ratio: Number(median(pairs.map((pair) => pair.full.ms / pair.bareMs)).toFixed(3)),
      ratioTarget: TARGET_RATIO,
      noopMs: Math.round(median(noop.map((r) => r.ms))),
      noopRatio: Number(median(pairs.map((pair) => pair.noop.ms / pair.full.ms)).toFixed(3)),
      noopTarget: TARGET_NOOP,
    };

    console.log(
      `\ndeployr deploy vs bare ssh2 — ${PAIRS} pairs, ${HOSTS} hosts, ${FILES} files / ${TOTAL_BYTES / 1024 / 1024} MiB, whole processes` +
        `\n(deployr: ${summary.runner}; times: medians; ratios: medians of per-pair ratios)\n`,
    );
    console.log('scenario'.padEnd(44) + 'deployr'.padStart(10) + 'compared to'.padStart(22) + 'ratio'.padStart(8) + '  target');
    const row = (name: string, mine: number, other: string, ratio: number, target: number) =>
      console.log(name.padEnd(44) + ms(mine).padStart(10) + other.padStart(22) + `${ratio.toFixed(2)}×`.padStart(8) + `  ≤${target}× ${ratio <= target ? 'ok' : 'OVER'}`);
    row('(a) full deploy (fresh deployTo)', summary.deployrFullMs, `bare ssh2 ${ms(summary.baselineMs)}`, summary.ratio, TARGET_RATIO);
    row('(b) no-op redeploy (nothing changed)', summary.noopMs, `full ${ms(summary.deployrFullMs)}`, summary.noopRatio, TARGET_NOOP);

    console.log('\nwhere deployr spends it (medians; a step: first start to last end over the hosts)');
    console.log('step'.padEnd(44) + 'full'.padStart(10) + 'no-op'.padStart(10));
    const line = (name: string, value: (r: DeployrRun) => number) =>
      console.log(name.padEnd(44) + ms(median(full.map(value))).padStart(10) + ms(median(noop.map(value))).padStart(10));
    line('spawn to run:start (node, modules, config)', (r) => r.startMs);
    const stepMedian = (runs: DeployrRun[], step: string) => median(runs.map((r) => r.steps.get(step) ?? 0));
    for (const step of full[0]?.steps.keys() ?? []) {
      console.log(`  ${step}`.padEnd(44) + ms(stepMedian(full, step)).padStart(10) + ms(stepMedian(noop, step)).padStart(10));
    }
    line('run:start to run:end', (r) => r.runMs);
    line('run:end to exit', (r) => r.exitMs);
    console.log(`\n${JSON.stringify(summary)}`);
  } finally {
    for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
    if (owned && process.env.DEPLOYR_FLEET_KEEP !== '1') await fleetDown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
