// What the output views cost on a big run: 150 hosts × (5 tasks, 20 commands
// with 5 output lines each) ≈ 23k events, fed to a no-op listener (baseline),
// the plain view, the log files and the live view (to a fake 100×40 TTY),
// in the same process. Two feeds:
//   burst — every event synchronously, then run:end and the final frame:
//           the per-event cost;
//   paced — the same events spread over ~2 s in 10 ms slices, as a real run
//           spreads them: adds the frames drawn while the run goes on.
// Each (feed, view) is measured ROUNDS times, interleaved, and the median
// kept. CPU is user+system of this process.
//
//   npx tsx test/bench/live-view.ts [hosts] [rounds]
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployrEvent, EventListener } from '../../core/engine/events.js';
import { createLiveView } from '../../core/output/live.js';
import { createLogFiles } from '../../core/output/log-files.js';
import { createPlainView } from '../../core/output/plain.js';
import { Events, FakeTty, Sink } from '../output/helpers.js';

const HOSTS = Number(process.argv[2] ?? 150);
const ROUNDS = Number(process.argv[3] ?? 5);
const TASKS = 5;
const COMMANDS = 20; // per host, spread over the tasks
const LINES = 5;
const PACED_MS = 2000;
const SLICE_MS = 10;

/** Per host: connect, then TASKS tasks of COMMANDS/TASKS commands, one output chunk per line; interleaved round-robin. */
function stream(): { events: DeployrEvent[]; start: DeployrEvent; end: DeployrEvent } {
  const e = new Events();
  const names = Array.from({ length: HOSTS }, (_, i) => `web-${String(i + 1).padStart(3, '0')}`);
  const start = e.runStart(names);
  const perHost = names.map((host) => {
    const out: DeployrEvent[] = [...e.connect(host)];
    for (let t = 0; t < TASKS; t++) {
      out.push(
        ...e.task(host, `task-${t + 1}`, () => {
          const inner: DeployrEvent[] = [];
          for (let c = 0; c < COMMANDS / TASKS; c++) {
            const id = `c${t}-${c}`;
            const chunks = Array.from({ length: LINES }, (_, l) => `output line ${l + 1} of ${id} on ${host}: lorem ipsum dolor sit amet\n`);
            inner.push(...e.command(host, id, `cd /srv/app/releases/current && ./step-${t}-${c}.sh --flag value`, chunks));
          }
          return inner;
        }),
      );
    }
    return out;
  });
  const events: DeployrEvent[] = [];
  for (let i = 0; i < perHost[0]!.length; i++) for (const list of perHost) events.push(list[i]!);
  return { events, start, end: e.runEnd() };
}

interface View {
  listener: EventListener;
  finish(): Promise<void>;
  bytes(): number;
}

type ViewName = 'no-op' | 'plain' | 'log files' | 'live';
let logRoot = '';

function makeView(name: ViewName): View {
  switch (name) {
    case 'no-op':
      return { listener: () => {}, finish: async () => {}, bytes: () => 0 };
    case 'plain': {
      const sink = new Sink();
      const view = createPlainView({ stream: sink });
      return { listener: view.listener, finish: async () => view.close(), bytes: () => sink.bytes };
    }
    case 'log files': {
      const logs = createLogFiles({ logDir: mkdtempSync(join(logRoot, 'run-')) }); // the stream's run id is fixed
      const bytes = () => readdirSync(logs.runDir!).reduce((sum, name) => sum + statSync(join(logs.runDir!, name)).size, 0);
      return { listener: logs.listener, finish: () => logs.close(), bytes };
    }
    case 'live': {
      const tty = new FakeTty();
      const view = createLiveView({ stream: tty, stderr: new Sink() });
      return { listener: view.listener, finish: () => view.done(), bytes: () => tty.bytes };
    }
  }
}

interface Sample {
  wall: number;
  cpu: number;
  bytes: number;
}

async function measure(name: ViewName, paced: boolean, data: ReturnType<typeof stream>): Promise<Sample> {
  const view = makeView(name);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  view.listener(data.start);
  if (paced) {
    const slices = PACED_MS / SLICE_MS;
    const per = Math.ceil(data.events.length / slices);
    for (let i = 0; i < data.events.length; i += per) {
      for (let j = i; j < Math.min(i + per, data.events.length); j++) view.listener(data.events[j]!);
      await sleep(SLICE_MS);
    }
  } else {
    for (const event of data.events) view.listener(event);
  }
  view.listener(data.end);
  await view.finish();
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  return { wall, cpu: (used.user + used.system) / 1000, bytes: view.bytes() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

async function main(): Promise<void> {
  logRoot = mkdtempSync(join(tmpdir(), 'deployr-bench-logs-'));
  try {
    const data = stream();
    const count = data.events.length + 2;
    console.log(`${HOSTS} hosts, ${count} events (${TASKS} tasks, ${COMMANDS} commands × ${LINES} output lines per host), ${ROUNDS} rounds, median`);
    const views: ViewName[] = ['no-op', 'plain', 'log files', 'live'];
    for (const paced of [false, true]) {
      await measure('live', paced, data); // warm-up: module loading, JIT
      await measure('plain', paced, data);
      const samples = new Map<ViewName, Sample[]>(views.map((v) => [v, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const view of views) samples.get(view)!.push(await measure(view, paced, data));
      }
      console.log(`\n${paced ? `paced over ~${PACED_MS / 1000} s` : 'burst'}:`);
      const med = (view: ViewName, key: keyof Sample) => median(samples.get(view)!.map((s) => s[key]));
      for (const view of views) {
        const extra = Math.max(0, med(view, 'cpu') - med('no-op', 'cpu'));
        console.log(
          `  ${view.padEnd(9)} wall ${fmt(med(view, 'wall'))} (×${(med(view, 'wall') / Math.max(1, med('no-op', 'wall'))).toFixed(2)} no-op)` +
            `  cpu ${fmt(med(view, 'cpu'))} (×${(med(view, 'cpu') / med('plain', 'cpu')).toFixed(2)} plain)` +
            `  +${((extra / count) * 10_000).toFixed(1)} ms cpu per 10k events over no-op` +
            `  ${(med(view, 'bytes') / 1024).toFixed(1)} KiB written`,
        );
      }
    }
  } finally {
    rmSync(logRoot, { recursive: true, force: true });
  }
}

await main();
