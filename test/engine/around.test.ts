// before/after tasks over local-transport hosts a, b (web) and c (db): order
// around a task on the fleet and inside ctx.runTask, once/roles, failures,
// the config forms and their checks; and what every task context carries
// for the run: runId, params, contextFor.
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../core/engine/context.js';
import { RUN_ID_PATTERN } from '../../core/engine/run-id.js';
import { series } from '../../core/engine/task.js';
import { ConfigError } from '../../core/errors.js';
import { harness, localConfig, sleep } from './helpers.js';

/** A task that records `<label> <host>` when it runs. */
const mark = (log: string[], label: string) => async (ctx: TaskContext) => void log.push(`${label} ${ctx.target.name}`);

/** The labels of `log` in order, for one host. */
const on = (log: readonly string[], host: string): string[] => log.filter((line) => line.endsWith(` ${host}`)).map((line) => line.slice(0, -host.length - 1));

describe('before and after on the fleet', () => {
  it('run around the task on every host: every before on every host, then the task, then every after', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: {
          // The slow host keeps the others waiting at each barrier.
          prep: async (ctx) => {
            await sleep(ctx.target.name === 'a' ? 40 : 0);
            log.push(`prep ${ctx.target.name}`);
          },
          check: mark(log, 'check'),
          work: mark(log, 'work'),
          notify: mark(log, 'notify'),
          report: mark(log, 'report'),
        },
      }),
    );
    deployr.before('work', 'prep');
    deployr.before('work', 'check');
    deployr.after('work', 'notify');
    deployr.after('work', 'report');
    const result = await deployr.run('work');
    expect(result.ok).toBe(true);
    for (const host of ['a', 'b', 'c']) expect(on(log, host)).toEqual(['prep', 'check', 'work', 'notify', 'report']);
    // Each part is a step of a series: it ends on every host before the next starts.
    const labels = log.map((line) => line.split(' ')[0]);
    expect(labels).toEqual(['prep', 'prep', 'prep', 'check', 'check', 'check', 'work', 'work', 'work', 'notify', 'notify', 'notify', 'report', 'report', 'report']);
  });

  it('apply wherever the task runs: as a step of a series, not only when run by name', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({ tasks: { first: mark(log, 'first'), work: mark(log, 'work'), last: mark(log, 'last'), hook: mark(log, 'hook'), all: series('first', 'work', 'last') } }),
    );
    deployr.before('work', 'hook');
    deployr.after('work', 'hook');
    await deployr.run('all', { hosts: ['b'] });
    expect(log).toEqual(['first b', 'hook b', 'work b', 'hook b', 'last b']);
  });

  it('a once + roles task before a target runs once, on the first host of its role, before the target starts anywhere', async () => {
    const log: string[] = [];
    const { deployr, ends } = await harness(
      localConfig({
        tasks: {
          migrate: { run: mark(log, 'migrate'), roles: ['db'], once: true },
          flip: mark(log, 'flip'),
        },
        before: { flip: 'migrate' },
      }),
    );
    const result = await deployr.run('flip');
    expect(result.ok).toBe(true);
    expect(log[0]).toBe('migrate c');
    expect(log.slice(1).sort()).toEqual(['flip a', 'flip b', 'flip c']);
    expect(ends().filter((end) => end.includes(':migrate:'))).toEqual(['c:migrate:ok']);
  });

  it('a failing before-task stops the task and everything after it, on every host; the rest is reported as skipped', async () => {
    const log: string[] = [];
    const { deployr, ends } = await harness(
      localConfig({
        tasks: {
          check: async (ctx) => {
            if (ctx.target.name === 'b') throw new Error('disk full');
            log.push(`check ${ctx.target.name}`);
          },
          work: mark(log, 'work'),
          notify: mark(log, 'notify'),
          later: mark(log, 'later'),
          all: series('work', 'later'),
        },
        before: { work: 'check' },
      }),
    );
    deployr.after('work', 'notify');
    deployr.after('work', async (ctx) => void log.push(`inline ${ctx.target.name}`));
    const result = await deployr.run('all');
    expect(result.ok).toBe(false);
    expect(result.failures).toEqual([{ host: 'b', task: 'check', error: expect.objectContaining({ message: 'disk full' }) }]);
    expect(log.sort()).toEqual(['check a', 'check c']);
    // The inline after-task is named by its place around "work" (check, work, notify, it): work#4, the name it runs under.
    expect(ends().filter((end) => !end.includes(':check:'))).toEqual(
      ['work', 'notify', 'work#4', 'later'].flatMap((task) => ['a', 'b', 'c'].map((host) => `${host}:${task}:skipped`)),
    );
  });

  it('an inline after-task runs under the name it is reported under when skipped', async () => {
    const { deployr, ends } = await harness(localConfig({ tasks: { check: async () => {}, work: async () => {}, notify: async () => {} } }));
    deployr.before('work', 'check');
    deployr.after('work', 'notify');
    deployr.after('work', async () => {});
    await deployr.run('work', { hosts: ['a'] });
    expect(ends()).toEqual(['a:check:ok', 'a:work:ok', 'a:notify:ok', 'a:work#4:ok']);
  });

  it('in a plain series too, a skipped inline step is reported under the name it runs under', async () => {
    const fail = async () => {
      throw new Error('no');
    };
    const steps = series(async () => {}, fail, async () => {});
    const { deployr, ends } = await harness(localConfig({ tasks: { pair: steps } }));
    await deployr.run('pair', { hosts: ['a'] });
    expect(ends()).toEqual(['a:pair#1:ok', 'a:fail:failed', 'a:pair#3:skipped']);
  });

  it('after-tasks do not run when the task failed on any host', async () => {
    const log: string[] = [];
    const { deployr, ends } = await harness(
      localConfig({
        tasks: {
          work: async (ctx) => {
            if (ctx.target.name === 'c') throw new Error('no');
            log.push(`work ${ctx.target.name}`);
          },
          notify: mark(log, 'notify'),
        },
        after: { work: 'notify' },
      }),
    );
    const result = await deployr.run('work');
    expect(result.ok).toBe(false);
    expect(log.sort()).toEqual(['work a', 'work b']);
    expect(ends().filter((end) => end.includes(':notify:'))).toEqual(['a:notify:skipped', 'b:notify:skipped', 'c:notify:skipped']);
  });
});

describe('before and after inside a task', () => {
  it('ctx.runTask runs them on that host, around the task', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: {
          prep: mark(log, 'prep'),
          inner: mark(log, 'inner'),
          notify: mark(log, 'notify'),
          outer: async (ctx) => {
            log.push(`outer ${ctx.target.name}`);
            await ctx.runTask('inner');
          },
        },
        before: { inner: 'prep' },
        after: { inner: 'notify' },
      }),
    );
    const result = await deployr.run('outer', { hosts: ['a', 'c'] });
    expect(result.ok).toBe(true);
    for (const host of ['a', 'c']) expect(on(log, host)).toEqual(['outer', 'prep', 'inner', 'notify']);
  });

  it('a failing before-task fails the task that called ctx.runTask; the inner task and its afters do not run', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: {
          prep: async () => {
            throw new Error('prep failed');
          },
          inner: mark(log, 'inner'),
          notify: mark(log, 'notify'),
          outer: async (ctx) => ctx.runTask('inner'),
        },
        before: { inner: 'prep' },
        after: { inner: 'notify' },
      }),
    );
    const result = await deployr.run('outer', { hosts: ['a'] });
    expect(result.failures).toEqual([{ host: 'a', task: 'outer', error: expect.objectContaining({ message: 'prep failed' }) }]);
    expect(log).toEqual([]);
  });

  it('ctx.original() in an override runs the original only, not the before/after tasks again', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: { prep: mark(log, 'prep'), notify: mark(log, 'notify'), work: mark(log, 'original') },
        before: { work: 'prep' },
        after: { work: 'notify' },
      }),
    );
    deployr.task('work', async (ctx) => {
      log.push(`override ${ctx.target.name}`);
      await ctx.original();
    });
    const result = await deployr.run('work', { hosts: ['b'] });
    expect(result.ok).toBe(true);
    expect(log).toEqual(['prep b', 'override b', 'original b', 'notify b']);
  });
});

describe('before and after in the config', () => {
  it('takes a task name or a list; a list runs in its order, later before-tasks closer to the target', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: { one: mark(log, 'one'), two: mark(log, 'two'), three: mark(log, 'three'), work: mark(log, 'work'), a: mark(log, 'a'), b: mark(log, 'b') },
        before: { work: ['one', 'two'] },
        after: { work: ['a', 'b'] },
      }),
    );
    deployr.before('work', 'three');
    await deployr.run('work', { hosts: ['a'] });
    expect(log).toEqual(['one a', 'two a', 'three a', 'work a', 'a a', 'b a']);
  });

  it('takes inline functions and compositions', async () => {
    const log: string[] = [];
    const { deployr } = await harness(
      localConfig({
        tasks: { one: mark(log, 'one'), two: mark(log, 'two'), work: mark(log, 'work') },
        before: { work: series('one', 'two') },
        after: { work: mark(log, 'inline') },
      }),
    );
    await deployr.run('work', { hosts: ['c'] });
    expect(log).toEqual(['one c', 'two c', 'work c', 'inline c']);
  });

  it('an unknown target is a ConfigError with a suggestion, when the deployr is made', async () => {
    const config = localConfig({ tasks: { 'db:migrate': async () => {} }, before: { 'deploy:swtich': 'db:migrate' } });
    await expect(harness(config)).rejects.toThrow(ConfigError);
    await expect(harness(config)).rejects.toThrow(`Cannot run a task before "deploy:swtich": there is no such task — did you mean 'deploy:switch'?`);
    const { deployr } = await harness(localConfig());
    expect(() => deployr.after('deplyo', async () => {})).toThrow(`Cannot run a task after "deplyo": there is no such task — did you mean 'deploy'?`);
  });

  it('an unknown task to run before is a ConfigError before anything runs', async () => {
    let ran = false;
    const { deployr, events } = await harness(localConfig({ tasks: { work: async () => void (ran = true), migrate: async () => {} }, before: { work: 'migarte' } }));
    await expect(deployr.run('work')).rejects.toThrow(ConfigError);
    await expect(deployr.run(series('work'))).rejects.toThrow(`There is no task "migarte" (used by "work") — did you mean 'migrate'?`);
    expect(ran).toBe(false);
    expect(events).toEqual([]);
  });

  it('a task before itself, directly or through another, is refused', async () => {
    const { deployr } = await harness(localConfig({ tasks: { x: async () => {}, y: async () => {} } }));
    expect(() => deployr.before('x', 'x')).toThrow('Task "x" cannot run before itself');
    deployr.before('x', 'y');
    deployr.after('y', 'x');
    await expect(deployr.run('x')).rejects.toThrow('Task "x" contains itself: x → y → x');
  });
});

describe('run-wide context', () => {
  it('ctx.runId is the run id the result reports, the same on every host and new for each run', async () => {
    const seen = new Set<string>();
    const { deployr, events } = await harness(localConfig({ tasks: { work: async (ctx) => void seen.add(ctx.runId) } }));
    const result = await deployr.run('work');
    expect([...seen]).toEqual([result.runId]);
    expect(result.runId).toMatch(RUN_ID_PATTERN);
    expect(new Set(events.map((event) => event.runId))).toEqual(new Set([result.runId]));
    const again = await deployr.run('work');
    expect(again.runId).not.toBe(result.runId);
    expect(seen.has(again.runId)).toBe(true);
  });

  it('ctx.params carries run(…, { params }), frozen; empty without', async () => {
    const seen: Array<Readonly<Record<string, unknown>>> = [];
    const { deployr } = await harness(localConfig({ tasks: { work: async (ctx) => void seen.push(ctx.params) } }));
    await deployr.run('work', { hosts: ['a'], params: { to: 'x', lockWait: 30 } });
    await deployr.run('work', { hosts: ['a'] });
    expect(seen).toEqual([{ to: 'x', lockWait: 30 }, {}]);
    expect(Object.isFrozen(seen[0])).toBe(true);
  });

  it('ctx.contextFor(name) from a task on one host runs commands on another, attributed to it', async () => {
    const seen: string[] = [];
    const { deployr, events } = await harness(
      localConfig({
        tasks: {
          work: {
            once: true,
            run: async (ctx) => {
              const other = await ctx.contextFor('b');
              seen.push(`${ctx.target.name} → ${other.target.name} (${other.task}, ${other.roles.join(',')}, ${other.runId === ctx.runId})`);
              const { stdout } = await other.host.exec('echo from-b');
              seen.push(stdout.trim());
              await expect(ctx.contextFor('nope')).rejects.toThrow(ConfigError);
            },
          },
        },
      }),
    );
    const result = await deployr.run('work');
    expect(result.ok).toBe(true);
    expect(seen).toEqual(['a → b (work, web, true)', 'from-b']);
    const commands = events.flatMap((event) => (event.type === 'command:start' ? [`${event.host} ${event.task} ${event.command}`] : []));
    expect(commands).toEqual(['b work echo from-b']);
    expect(events.filter((event) => event.type === 'task:start').map((event) => ('host' in event ? event.host : ''))).toEqual(['a']);
  });
});
