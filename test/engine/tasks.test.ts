// Task composition over hosts on the local transport: series barriers,
// parallel, roles/once/local, overrides, concurrency, timeouts, interrupts.
import { describe, expect, it } from 'vitest';
import { ConfigError, TaskTimeoutError } from '../../core/errors.js';
import type { TaskContext } from '../../core/engine/context.js';
import { parallel, series } from '../../core/engine/task.js';
import { harness, localConfig, sleep } from './helpers.js';

describe('series', () => {
  it('runs each step on every host before the next step starts', async () => {
    const log: string[] = [];
    const step = (name: string, delayFor: Record<string, number>) => async (ctx: TaskContext) => {
      log.push(`start ${name} ${ctx.target.name}`);
      await sleep(delayFor[ctx.target.name] ?? 0);
      log.push(`end ${name} ${ctx.target.name}`);
    };
    const { deployr } = await harness(
      localConfig({ tasks: { one: step('one', { a: 60, b: 5, c: 30 }), two: step('two', {}), both: series('one', 'two') } }),
    );
    const result = await deployr.run('both');
    expect(result.ok).toBe(true);
    const lastOneEnd = Math.max(...['a', 'b', 'c'].map((h) => log.indexOf(`end one ${h}`)));
    const firstTwoStart = Math.min(...['a', 'b', 'c'].map((h) => log.indexOf(`start two ${h}`)));
    expect(lastOneEnd).toBeLessThan(firstTwoStart);
    expect(log.filter((l) => l.startsWith('end two'))).toHaveLength(3);
  });

  it('stops everywhere after a step fails on one host, and reports the rest as skipped', async () => {
    const ran: string[] = [];
    const { deployr, ends } = await harness(
      localConfig({
        tasks: {
          check: async (ctx) => {
            if (ctx.target.name === 'b') throw new Error('disk full');
            ran.push(`check ${ctx.target.name}`);
          },
          switch: async (ctx) => void ran.push(`switch ${ctx.target.name}`),
          release: series('check', 'switch'),
        },
      }),
    );
    const result = await deployr.run('release');
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(ran.sort()).toEqual(['check a', 'check c']);
    expect(result.failures).toEqual([{ host: 'b', task: 'check', error: expect.objectContaining({ message: 'disk full' }) }]);
    expect(ends().filter((e) => e.includes(':switch:'))).toEqual(['a:switch:skipped', 'b:switch:skipped', 'c:switch:skipped']);
  });

  it('names inline functions after their place in the composition', async () => {
    const { deployr, ends } = await harness(localConfig({ tasks: { pair: series(async () => {}, async function named() {}) } }));
    await deployr.run('pair', { hosts: ['a'] });
    expect(ends()).toEqual(['a:pair#1:ok', 'a:named:ok']);
  });
});

describe('parallel', () => {
  it('runs its branches at the same time', async () => {
    let running = 0;
    let peak = 0;
    const busy = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(40);
      running -= 1;
    };
    const { deployr } = await harness(localConfig({ tasks: { x: busy, y: busy, both: parallel('x', 'y') } }));
    const result = await deployr.run('both', { hosts: ['a'] });
    expect(result.ok).toBe(true);
    expect(peak).toBe(2);
  });

  it('fails the run when one branch fails, after the other branch finished', async () => {
    const finished: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: {
          bad: async () => {
            throw new Error('nope');
          },
          slow: async (ctx) => {
            await sleep(30);
            finished.push(ctx.target.name);
          },
          both: parallel('bad', 'slow'),
        },
      }),
    );
    const result = await deployr.run('both');
    expect(result.ok).toBe(false);
    expect(finished.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('host selection', () => {
  it('runs a task with roles only on hosts that have one of them', async () => {
    const seen: string[] = [];
    const { deployr } = await harness(localConfig({ tasks: { web: { run: async (ctx) => void seen.push(ctx.target.name), roles: ['web'] } } }));
    await deployr.run('web');
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('runs a once task on the first host of its role only', async () => {
    const seen: string[] = [];
    const { deployr } = await harness(
      localConfig({ tasks: { migrate: { run: async (ctx) => void seen.push(ctx.target.name), roles: ['db'], once: true }, any: { run: async (ctx) => void seen.push(`any:${ctx.target.name}`), once: true } } }),
    );
    await deployr.run(series('migrate', 'any'));
    expect(seen).toEqual(['c', 'any:a']);
  });

  it('runs a local task once, on this machine, with the environment vars', async () => {
    const seen: Array<{ name: string; kind: string; color: unknown }> = [];
    const { deployr } = await harness(
      localConfig({ tasks: { build: { run: async (ctx) => void seen.push({ name: ctx.target.name, kind: ctx.host.connection.kind, color: ctx.vars['color'] }), local: true } } }),
    );
    await deployr.run('build');
    expect(seen).toEqual([{ name: 'local', kind: 'local', color: 'blue' }]);
  });

  it('warns once when a task runs nowhere, and not for a step that was only skipped', async () => {
    const { deployr, events } = await harness(
      localConfig({
        tasks: {
          cache: { run: async () => {}, roles: ['cache'] },
          fail: async () => {
            throw new Error('stop');
          },
        },
      }),
    );
    const warnings = () => events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
    await deployr.run('cache');
    expect(warnings()).toEqual(["task \"cache\" runs nowhere: no selected host has role 'cache'"]);
    events.length = 0;
    await deployr.run(series('fail', 'cache'));
    expect(warnings()).toEqual([]);
  });

  it('narrows hosts with --hosts and --roles and explains names that match nothing', async () => {
    const { deployr } = await harness(localConfig());
    expect(deployr.selectHosts({ roles: ['web'] }).map((h) => h.name)).toEqual(['a', 'b']);
    expect(deployr.selectHosts({ hosts: ['c', 'a'] }).map((h) => h.name)).toEqual(['a', 'c']);
    expect(() => deployr.selectHosts({ hosts: ['bb'] })).toThrow(/There is no host "bb" in environment "test" — did you mean 'b'\?/);
    expect(() => deployr.selectHosts({ roles: ['wbe'] })).toThrow(/No host of environment "test" has role "wbe" — did you mean 'web'\?/);
  });

  it('gives each task the merged vars, its roles and the run-wide shared state', async () => {
    const seen: Record<string, unknown> = {};
    const { deployr } = await harness(
      localConfig({
        vars: { color: 'green', region: 'eu' },
        tasks: {
          first: { run: async (ctx) => void (ctx.shared['token'] = 'from-c'), roles: ['db'] },
          second: async (ctx) => void (seen[ctx.target.name] = { ...ctx.vars, roles: ctx.roles, token: ctx.shared['token'] }),
          all: series('first', 'second'),
        },
      }),
    );
    await deployr.run('all');
    expect(seen['a']).toEqual({ color: 'red', size: 3, region: 'eu', roles: ['web'], token: 'from-c' });
    expect(seen['c']).toEqual({ color: 'blue', size: 3, region: 'eu', roles: ['db'], token: 'from-c' });
  });

  it('never starts more than `concurrency` hosts at once', async () => {
    let running = 0;
    let peak = 0;
    const { deployr } = await harness(
      localConfig({
        tasks: {
          busy: async () => {
            running += 1;
            peak = Math.max(peak, running);
            await sleep(30);
            running -= 1;
          },
        },
      }),
    );
    await deployr.run('busy', { concurrency: 2 });
    expect(peak).toBe(2);
    await expect(deployr.run('busy', { concurrency: 0 })).rejects.toThrow(ConfigError);
  });
});

describe('overrides', () => {
  it('lets a task replace a built-in and run the original inside', async () => {
    const order: string[] = [];
    const { deployr } = await harness(
      localConfig({
        plugins: [{ name: 'p', apply: (d) => d.hooks.predeploy.tap('p', (ctx) => void order.push(`hook ${ctx.target.name}`)) }],
        tasks: {
          'deploy:predeploy': async (ctx) => {
            order.push(`before ${ctx.target.name}`);
            await ctx.original();
            order.push(`after ${ctx.target.name}`);
          },
        },
      }),
    );
    const result = await deployr.run('deploy', { hosts: ['a'] });
    expect(result.ok).toBe(true);
    expect(order).toEqual(['before a', 'hook a', 'after a']);
    expect(deployr.getTask('deploy:predeploy')?.description).toBe('fire the "predeploy" hook: checks before anything changes');
  });

  it('fails clearly when ctx.original() has nothing to run', async () => {
    const { deployr } = await harness(localConfig({ tasks: { fresh: async (ctx) => ctx.original() } }));
    const result = await deployr.run('fresh', { hosts: ['a'] });
    expect(result.failures[0]?.error.message).toBe('Task "fresh" overrides nothing, so ctx.original() has nothing to run');
  });

  it('runs another task on the same host through ctx.runTask', async () => {
    const seen: string[] = [];
    const { deployr } = await harness(
      localConfig({ tasks: { inner: async (ctx) => void seen.push(`${ctx.task}@${ctx.target.name}`), outer: async (ctx) => ctx.runTask('inner') } }),
    );
    await deployr.run('outer', { hosts: ['b'] });
    expect(seen).toEqual(['inner@b']);
  });
});

describe('checks before running', () => {
  it('refuses an unknown task name with a suggestion, before anything runs', async () => {
    let ran = false;
    const { deployr, events } = await harness(localConfig({ tasks: { build: async () => void (ran = true), release: series('build', 'uplaod') } }));
    await expect(deployr.run('release')).rejects.toThrow('There is no task "uplaod" (used by "release")');
    await expect(deployr.run('deplyo')).rejects.toThrow(/did you mean 'deploy'\?/);
    expect(ran).toBe(false);
    expect(events).toEqual([]);
  });

  it('refuses a task that contains itself', async () => {
    const { deployr } = await harness(localConfig({ tasks: { a1: series('b1'), b1: series('a1') } }));
    await expect(deployr.run('a1')).rejects.toThrow('Task "a1" contains itself: a1 → b1 → a1');
  });
});

describe('stopping', () => {
  it('fails a task that outlives its timeout and kills its command', async () => {
    const { deployr } = await harness(localConfig({ tasks: { hang: { run: async (ctx) => void (await ctx.host.exec('sleep 30')), timeout: 0.3 } } }));
    const started = Date.now();
    const result = await deployr.run('hang', { hosts: ['a'] });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.exitCode).toBe(1);
    expect(result.errors.get('a')).toBeInstanceOf(TaskTimeoutError);
    expect(result.failures[0]?.error.message).toBe('Task "hang" timed out after 0.3s on a');
  });

  it('on abort: stops commands, runs the failure hook, exits 130', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const { deployr } = await harness(
      localConfig({
        hooks: {
          failure: async (run) => void calls.push(`failure interrupted=${run.interrupted} signal=${run.signal.aborted}`),
          done: async (run) => void calls.push(`done ok=${run.ok}`),
        },
        tasks: { hang: async (ctx) => void (await ctx.host.exec('sleep 30')), after: async () => void calls.push('after ran') },
      }),
    );
    setTimeout(() => controller.abort(), 200);
    const result = await deployr.run(series('hang', 'after'), { signal: controller.signal });
    expect(result.exitCode).toBe(130);
    expect(result.interrupted).toBe(true);
    expect(calls).toEqual(['failure interrupted=true signal=false', 'done ok=false']);
  });
});

describe('instances', () => {
  it('share nothing: tasks, hooks and runs of two instances stay apart', async () => {
    const first = await harness(localConfig({ tasks: { only: async () => {} } }));
    const second = await harness(localConfig());
    first.deployr.hooks.done.tap('x', () => {});
    expect(second.deployr.getTask('only')).toBeUndefined();
    expect(second.deployr.hooks.done.taps).toHaveLength(0);
    await Promise.all([first.deployr.run('only'), second.deployr.run('deploy')]);
    expect(new Set(first.events.map((e) => e.runId)).size).toBe(1);
    expect(first.events.some((e) => e.type === 'task:start' && e.task === 'deploy:predeploy')).toBe(false);
    expect(second.events.some((e) => e.type === 'task:start' && e.task === 'only')).toBe(false);
  });
});
