import { resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { DEFAULT_LOG_DIR } from '../config/resolved.js';
import { createDeployr } from '../engine/create-deployr.js';
import type { Deployr } from '../engine/deployr.js';
import type { TaskRef } from '../engine/task.js';
import { confirm } from './confirm.js';
import { ExitCode } from '../engine/exit-codes.js';
import type { HostOptions } from './options.js';
import { trapSignals } from './signals.js';
import { attachViews } from '../output/index.js';


export interface OpenedProject {
  deployr: Deployr;
  /** The config file's directory: logs go under it. */
  root: string;
  file: string;
}

/** Finds and loads the config, then creates the deployr for `environment`. */
export async function openProject(environment: string | undefined, options: Pick<HostOptions, 'config'>): Promise<OpenedProject> {
  const loaded = await loadConfig({
    cwd: process.cwd(),
    ...(options.config === undefined ? {} : { configFile: options.config }),
    ...(environment === undefined ? {} : { environment }),
  });
  const deployr = await createDeployr({
    config: loaded.config,
    ...(environment === undefined ? {} : { environment }),
    root: loaded.root,
    configFile: loaded.file,
  });
  for (const warning of deployr.warnings) process.stderr.write(`deployr: warning: ${warning}\n`);
  return { deployr, root: loaded.root, file: loaded.file };
}

/**
 * Runs a task the way every CLI command does: hosts selected (and usage
 * errors raised) before anything else, the environment's confirmation,
 * views attached, Ctrl-C handled, the failure summary printed. Returns the
 * exit code.
 */
export async function runTask(
  project: OpenedProject,
  task: TaskRef,
  label: string,
  options: HostOptions,
  args: readonly string[] = [],
  params: Readonly<Record<string, unknown>> = {},
): Promise<number> {
  const { deployr } = project;
  const environment = deployr.environment;
  if (!environment) throw new Error('runTask needs an environment');
  const selection = { ...(options.hosts ? { hosts: options.hosts } : {}), ...(options.roles ? { roles: options.roles } : {}) };
  const hosts = deployr.selectHosts(selection);
  if (environment.confirm !== false && !options.yes && !options.dryRun) {
    const question = `${environment.confirm} (${label} on ${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${hosts.map((h) => h.name).join(', ')})`;
    if (!(await confirm(question, environment.name))) {
      process.stderr.write('deployr: not confirmed; nothing was run\n');
      return ExitCode.usage;
    }
  }
  const views = attachViews(deployr, {
    tty: process.stdout.isTTY === true,
    json: options.json ?? false,
    verbose: options.verbose ?? false,
    dryRun: options.dryRun ?? false,
    logDir: resolve(project.root, deployr.config.logDir ?? DEFAULT_LOG_DIR),
  });
  const trap = trapSignals((line) => views.notice(line));
  try {
    const result = await deployr.run(task, {
      ...selection,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      dryRun: options.dryRun ?? false,
      args,
      params,
      signal: trap.signal,
      cleanupSignal: trap.cleanupSignal,
    });
    return result.exitCode;
  } finally {
    trap.release();
    await views.close();
    await deployr.close();
  }
}
