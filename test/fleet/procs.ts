// Finding and killing the fleet's own processes through /proc.
//
// The machine is shared, so nothing is killed by name: a process is ours if
// its argv[0] is one of our anchor tags, if it lives in one of our network or
// mount namespaces, or if its command line names a config file in our dir.
// Every kill re-checks the process just before signalling it.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** argv of a live process, or null if it is gone, a zombie, or a kernel thread. */
export function readArgv(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!raw) return null;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** True if the process exists and is not a zombie (zombies have already released everything). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ..."; comm may contain spaces and parens, so take the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Namespace identity such as `mnt:[4026532300]`, or null if unreadable. */
export function nsOf(pid: number | 'self', kind: 'mnt' | 'net'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** Pids of live processes whose namespace of `kind` is one of `ids`. */
export function pidsInNamespaces(kind: 'mnt' | 'net', ids: ReadonlySet<string>): number[] {
  if (ids.size === 0) return [];
  return listPids().filter((pid) => {
    const ns = nsOf(pid, kind);
    return ns !== null && ids.has(ns);
  });
}

/** Pids whose argv satisfies `match` (e.g. argv[0] is an anchor tag). */
export function pidsWhere(match: (argv: string[]) => boolean): number[] {
  return listPids().filter((pid) => {
    const argv = readArgv(pid);
    return argv !== null && match(argv);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until none of `pids` is alive; false on timeout. */
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!pids.some(isAlive)) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

/**
 * Send `signal` to each pid for which `stillOurs(pid)` holds at that moment,
 * then wait for them to die (escalating to SIGKILL). Never signals ourselves.
 */
export async function killVerified(
  pids: Iterable<number>,
  stillOurs: (pid: number) => boolean,
  signal: NodeJS.Signals = 'SIGKILL',
  timeoutMs = 5000,
): Promise<number[]> {
  const sent: number[] = [];
  for (const pid of new Set(pids)) {
    if (pid === process.pid || pid <= 1 || !isAlive(pid) || !stillOurs(pid)) continue;
    try {
      process.kill(pid, signal);
      sent.push(pid);
    } catch {
      /* already gone */
    }
  }
  if (!(await waitGone(sent, timeoutMs)) && signal !== 'SIGKILL') {
    for (const pid of sent) {
      try {
        if (isAlive(pid) && stillOurs(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await waitGone(sent, 2000);
  }
  return sent;
}
