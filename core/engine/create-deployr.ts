import { resolveEnvironment } from '../config/resolve-environment.js';
import type { ConfigHooks, TaskEntry } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { SshConnector } from '../connection/ssh/connector.js';
import { ConfigError, PluginError } from '../errors.js';
import { DEFAULT_LOG_DIR } from '../config/resolved.js';
import { registerReleaseTasks } from '../release/index.js';
import type { CreateDeployrOptions, Deployr, RunOptions, RunResult } from './deployr.js';
import { EventBus } from './events.js';
import { createHooks, type DeployrHooks, type HookName } from './hooks.js';
import { TaskRegistry } from './registry.js';
import { createRunId } from './run-id.js';
import { executeRun } from './run.js';
import { selectHosts } from './select-hosts.js';
import { checkTaskTree } from './steps.js';
import { isComposition, type TaskOptions, type TaskRef } from './task.js';

/** The name config-file hook taps run under, in errors: `[deploy.config] failed in "predeploy" on web-1`. */
const CONFIG_TAP_NAME = 'deploy.config';

const NEVER_ABORTED = new AbortController().signal;

/**
 * Creates a deployr from a config: validates it, resolves the environment,
 * registers the built-in tasks, applies the plugins in order, then adds the
 * config's own hooks and tasks (so they can override a plugin's). Nothing is
 * global: instances in one process share no state.
 *
 * ```ts
 * const deployr = await createDeployr({ config, environment: 'staging' });
 * const result = await deployr.run('deploy', { roles: ['web'] });
 * await deployr.close();
 * ```
 */
export async function createDeployr(options: CreateDeployrOptions): Promise<Deployr> {
  const root = options.root ?? process.cwd();
  const loaded = typeof options.config === 'function' ? await options.config({ environment: options.environment }) : options.config;
  const { config, warnings } = validateConfig(loaded, options.configFile);
  const environment = options.environment === undefined ? undefined : resolveEnvironment(config, options.environment);
  const hooks = createHooks();
  const registry = new TaskRegistry();
  const bus = new EventBus();
  let currentRunId = '';
  const connector =
    options.connector ??
    new SshConnector({
      onHostKeyRecorded: ({ host, file }) =>
        bus.emit(currentRunId, { type: 'warning', host, message: `trusted ${host}'s new host key (accept-new) and recorded it in ${file}` }),
    });
  let applying: string | undefined;
  registerReleaseTasks({ registry, hooks, root, app: config.app, logDir: config.logDir ?? DEFAULT_LOG_DIR });

  const deployr: Deployr = {
    hooks,
    config,
    root,
    environment,
    plugins: Object.freeze([...(config.plugins ?? [])]),
    warnings: Object.freeze([...warnings]),
    task(name: string, run: TaskRef, taskOptions?: TaskOptions): void {
      registry.register(name, run, taskOptions, applying);
    },
    getTask: (name) => registry.get(name),
    before: (target, task) => registry.around(target, 'before', task),
    after: (target, task) => registry.around(target, 'after', task),
    listTasks: () => registry.list(),
    on: (listener) => bus.on(listener),
    selectHosts(selection) {
      return selectHosts(requireEnvironment(), selection);
    },
    async run(task: TaskRef, runOptions: RunOptions = {}): Promise<RunResult> {
      const env = requireEnvironment();
      const hosts = selectHosts(env, runOptions);
      checkTaskTree(registry, task);
      const concurrency = runOptions.concurrency ?? env.concurrency;
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new ConfigError(`Concurrency must be a whole number of at least 1, got ${concurrency}`, { hint: 'pass --concurrency 1 or more' });
      }
      const runId = createRunId();
      currentRunId = runId;
      return executeRun({
        runId,
        taskName: nameOf(task),
        task,
        hooks,
        registry,
        environment: env,
        hosts,
        concurrency,
        dryRun: runOptions.dryRun ?? false,
        args: Object.freeze([...(runOptions.args ?? [])]),
        params: Object.freeze({ ...(runOptions.params ?? {}) }),
        root,
        connector,
        signal: runOptions.signal ?? NEVER_ABORTED,
        cleanupSignal: runOptions.cleanupSignal ?? NEVER_ABORTED,
        emit: (body) => bus.emit(runId, body),
      });
    },
    close: () => connector.closeAll(),
  };

  function requireEnvironment() {
    if (environment) return environment;
    throw new ConfigError('This deployr was created without an environment', {
      hint: 'pass `environment` to createDeployr(), e.g. createDeployr({ config, environment: "prod" })',
    });
  }

  const seen = new Set<string>();
  for (const [index, plugin] of deployr.plugins.entries()) {
    if (seen.has(plugin.name)) {
      throw new ConfigError(`Plugin "${plugin.name}" is listed twice (plugins[${index}])`, { hint: 'list each plugin once; give one plugin all its options' });
    }
    seen.add(plugin.name);
    applying = plugin.name;
    try {
      await plugin.apply(deployr);
    } catch (error) {
      throw new PluginError(plugin.name, 'apply', undefined, error);
    } finally {
      applying = undefined;
    }
  }
  tapConfigHooks(hooks, config.hooks);
  for (const [name, entry] of Object.entries(config.tasks ?? {})) registerConfigTask(registry, name, entry);
  for (const when of ['before', 'after'] as const) {
    for (const [target, refs] of Object.entries(config[when] ?? {})) {
      for (const ref of Array.isArray(refs) ? refs : [refs]) registry.around(target, when, ref as TaskRef);
    }
  }
  return deployr;
}

function tapConfigHooks(hooks: DeployrHooks, configHooks: ConfigHooks | undefined): void {
  for (const [name, fn] of Object.entries(configHooks ?? {})) {
    if (typeof fn !== 'function') continue;
    const hook = hooks[name as HookName] as { tapPromise(name: string, fn: (arg: unknown) => Promise<void>): void };
    hook.tapPromise(CONFIG_TAP_NAME, async (arg) => {
      await (fn as (arg: unknown) => unknown)(arg);
    });
  }
}

function registerConfigTask(registry: TaskRegistry, name: string, entry: TaskEntry): void {
  if (typeof entry === 'string' || typeof entry === 'function' || isComposition(entry)) {
    registry.register(name, entry);
    return;
  }
  const { run, ...taskOptions } = entry;
  registry.register(name, run, taskOptions);
}

function nameOf(task: TaskRef): string {
  if (typeof task === 'string') return task;
  if (typeof task === 'function') return task.name || 'task';
  return task.kind;
}
