import { describeAddress } from '../../config/resolved.js';
import { isComposition, type TaskRef } from '../../engine/task.js';
import type { HostOptions } from '../options.js';
import { openProject } from '../session.js';

/**
 * `deployr list [env]`: the tasks with their descriptions, the plugins, and
 * either the environments or, for one environment, its hosts and roles.
 */
export async function listCommand(environment: string | undefined, options: Pick<HostOptions, 'config' | 'json'>): Promise<number> {
  const { deployr, file } = await openProject(environment, options);
  const tasks = deployr.listTasks().map((task) => ({
    name: task.name,
    description: task.description ?? describeRun(task.run),
    ...(task.plugin ? { plugin: task.plugin } : {}),
    ...(task.roles?.length ? { roles: task.roles } : {}),
    ...(task.once ? { once: true } : {}),
    ...(task.local ? { local: true } : {}),
  }));
  const plugins = deployr.plugins.map((plugin) => plugin.name);
  const env = deployr.environment;
  const hosts = env?.hosts.map((host) => ({
    name: host.name,
    address: describeAddress(host, env.connect),
    roles: host.roles,
    ...(host.disabled ? { disabled: true } : {}),
  }));
  const environments = Object.entries(deployr.config.environments).map(([name, config]) => ({
    name,
    description: config.description ?? '',
    ...(config.extends ? { extends: config.extends } : {}),
  }));

  if (options.json) {
    process.stdout.write(`${JSON.stringify({ config: file, tasks, plugins, ...(env ? { environment: env.name, hosts } : { environments }) })}\n`);
    return 0;
  }
  const out: string[] = [];
  const width = Math.max(...tasks.map((task) => task.name.length));
  out.push('Tasks:');
  for (const task of tasks) {
    const notes = [task.plugin && `from ${task.plugin}`, task.roles && `roles: ${task.roles.join(', ')}`, task.once && 'once', task.local && 'local'].filter(Boolean);
    out.push(`  ${task.name.padEnd(width)}  ${task.description}${notes.length ? ` (${notes.join('; ')})` : ''}`.trimEnd());
  }
  out.push('', `Plugins: ${plugins.length ? plugins.join(', ') : 'none'}`, '');
  if (env && hosts) {
    out.push(`Hosts of ${env.name}${env.description ? ` — ${env.description}` : ''}:`);
    const nameWidth = Math.max(...hosts.map((host) => host.name.length));
    for (const host of hosts) {
      const roles = host.roles.length ? `  roles: ${host.roles.join(', ')}` : '';
      out.push(`  ${host.name.padEnd(nameWidth)}  ${host.address}${roles}${host.disabled ? '  (disabled)' : ''}`);
    }
  } else {
    out.push('Environments:');
    const nameWidth = Math.max(...environments.map((e) => e.name.length));
    for (const e of environments) {
      out.push(`  ${e.name.padEnd(nameWidth)}  ${e.description}${e.extends ? ` (extends ${e.extends})` : ''}`.trimEnd());
    }
    out.push('', 'Run `deployr list <env>` for its hosts.');
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** What a task without a description does, from its shape: `build → upload`, `a + b`. */
function describeRun(run: TaskRef): string {
  if (typeof run === 'string') return `runs ${run}`;
  if (typeof run === 'function') return '';
  const parts = run.items.map((item) => (typeof item === 'string' ? item : typeof item === 'function' ? item.name || '(function)' : isComposition(item) ? `(${describeRun(item)})` : ''));
  return parts.join(run.kind === 'series' ? ' → ' : ' + ');
}
