import type { TaskContext } from '../../engine/context.js';
import { ExitCode } from '../../engine/exit-codes.js';
import { formatStatus, hostStatus, type HostStatus } from '../../release/index.js';
import type { HostOptions } from '../options.js';
import { openProject } from '../session.js';
import { trapSignals } from '../signals.js';

/**
 * `deployr status <env>`: each host's current release, the releases it
 * has, drift between hosts (and files changed on a host since they were
 * deployed), and who holds the lock. Read-only: takes no lock, asks no
 * confirmation.
 */
export async function statusCommand(environment: string, options: HostOptions): Promise<number> {
  const { deployr } = await openProject(environment, options);
  const statuses = new Map<string, HostStatus>();
  const body = async (ctx: TaskContext): Promise<void> => {
    statuses.set(ctx.target.name, await hostStatus(ctx));
  };
  Object.defineProperty(body, 'name', { value: 'status' });
  const trap = trapSignals((line) => process.stderr.write(`${line}\n`));
  try {
    const selection = { ...(options.hosts ? { hosts: options.hosts } : {}), ...(options.roles ? { roles: options.roles } : {}) };
    const hosts = deployr.selectHosts(selection);
    const result = await deployr.run(body, {
      ...selection,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      signal: trap.signal,
      cleanupSignal: trap.cleanupSignal,
    });
    const ordered = hosts.map((host) => statuses.get(host.name)).filter((status): status is HostStatus => status !== undefined);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ environment, hosts: ordered, failures: result.failures })}\n`);
    } else {
      process.stdout.write(formatStatus(environment, ordered));
      for (const failure of result.failures) process.stderr.write(`deployr: ${failure.host || environment}: ${failure.error.message}\n`);
    }
    return result.ok ? ExitCode.ok : result.exitCode;
  } finally {
    trap.release();
    await deployr.close();
  }
}
