// The hook table: order by stage, when each lifecycle hook fires, plugin
// error stamping, and plugins registering tasks.
import { describe, expect, it } from 'vitest';
import { cmd } from '../../core/command/index.js';
import { CommandError, PluginError } from '../../core/errors.js';
import type { Plugin } from '../../core/engine/plugin.js';
import type { TaskContext } from '../../core/engine/context.js';
import { series } from '../../core/engine/task.js';
import { harness, localConfig } from './helpers.js';

describe('hook order', () => {
  it('runs taps by numeric stage, then in tap order', async () => {
    const order: string[] = [];
    const plugin: Plugin = {
      name: 'order',
      apply(d) {
        d.hooks.predeploy.tap({ name: 'late', stage: 10 }, () => void order.push('late'));
        d.hooks.predeploy.tapPromise('normal-1', async () => void order.push('normal-1'));
        d.hooks.predeploy.tap({ name: 'early', stage: -10 }, () => void order.push('early'));
        d.hooks.predeploy.tap('normal-2', () => void order.push('normal-2'));
      },
    };
    const { deployr } = await harness(localConfig({ plugins: [plugin] }));
    await deployr.run('deploy:predeploy', { hosts: ['a'] });
    expect(order).toEqual(['early', 'normal-1', 'normal-2', 'late']);
  });

  it('fires the lifecycle in order: start, connect, the deploy steps, done', async () => {
    const calls: string[] = [];
    const per = (hook: string) => (ctx: { target: { name: string } }) => void calls.push(`${hook}:${ctx.target.name}`);
    const { deployr } = await harness(
      localConfig({
        hooks: {
          start: () => void calls.push('start'),
          connect: per('connect'),
          predeploy: per('predeploy'),
          deploy: per('deploy'),
          prepare: per('prepare'),
          switch: per('switch'),
          postdeploy: per('postdeploy'),
          cleanup: per('cleanup'),
          failure: () => void calls.push('failure'),
          done: (run) => void calls.push(`done:${run.ok}`),
        },
      }),
    );
    // One host: the local hosts share this machine's disk, so a deploy to several would share one deployTo.
    // Barriers between hosts are the executor's, tested in tasks.test.ts and on the fleet in test/release.
    const result = await deployr.run('deploy', { hosts: ['a'] });
    expect(result.ok).toBe(true);
    expect(calls).toEqual([
      'start',
      // deploy:lock runs first (once); the host connects for it.
      'connect:a', 'predeploy:a',
      'deploy:a',
      'prepare:a',
      'switch:a',
      'postdeploy:a',
      'cleanup:a',
      'done:true',
    ]);
  });

  it('connects each host once, however many tasks use it', async () => {
    let connects = 0;
    const echo = async (ctx: TaskContext): Promise<void> => void (await ctx.host.exec('true'));
    const { deployr } = await harness(localConfig({ hooks: { connect: () => void (connects += 1) }, tasks: { one: echo, two: echo, both: series('one', 'two', 'one') } }));
    expect((await deployr.run('both')).ok).toBe(true);
    expect(connects).toBe(3);
  });

  it('a start hook that throws stops the run before any host is touched', async () => {
    const { deployr, events } = await harness(
      localConfig({
        hooks: {
          start: () => {
            throw new Error('freeze window');
          },
        },
      }),
    );
    const result = await deployr.run('deploy');
    expect(result.exitCode).toBe(1);
    expect(result.failures[0]).toMatchObject({ host: '', task: 'start', error: { message: '[deploy.config] failed in "start": freeze window' } });
    expect(events.some((e) => e.type === 'host:connect:start')).toBe(false);
  });

  it('a failing failure hook is a warning and never hides the failure', async () => {
    const { deployr, events } = await harness(
      localConfig({
        hooks: {
          switch: () => {
            throw new Error('switch broke');
          },
          failure: () => {
            throw new Error('pager down');
          },
        },
      }),
    );
    const result = await deployr.run('deploy', { hosts: ['a'] });
    expect(result.failures.map((f) => f.error.message)).toEqual(['[deploy.config] failed in "switch" on a: switch broke']);
    expect(events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message)).toEqual([
      'the failure hook failed: [deploy.config] failed in "failure": pager down',
    ]);
  });
});

describe('plugin errors', () => {
  it('are stamped with plugin, hook and host, keeping the original as cause', async () => {
    const original = new Error('remote rejected');
    const git: Plugin = {
      name: 'deployr:git',
      apply(d) {
        d.hooks.predeploy.tapPromise('deployr:git', async (ctx) => {
          if (ctx.target.name === 'b') throw original;
        });
      },
    };
    const { deployr } = await harness(localConfig({ plugins: [git] }));
    const result = await deployr.run('deploy');
    const error = result.errors.get('b');
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).message).toBe('[deployr:git] failed in "predeploy" on b: remote rejected');
    expect((error as PluginError).cause).toBe(original);
    expect(result.failures).toEqual([
      { host: 'b', task: 'deploy:predeploy', error: expect.objectContaining({ plugin: 'deployr:git', hook: 'predeploy', code: 'PLUGIN_ERROR' }) },
    ]);
  });

  it('keep the failed command, exit code and stderr of a command that failed inside a plugin', async () => {
    const plugin: Plugin = {
      name: 'deployr:check',
      apply(d) {
        d.task('check:disk', async (ctx) => void (await ctx.host.exec(cmd`echo ${'no space left'} >&2; exit 7`)), { description: 'check disk' });
      },
    };
    const { deployr } = await harness(localConfig({ plugins: [plugin] }));
    const result = await deployr.run('check:disk', { hosts: ['c'] });
    const error = result.errors.get('c') as PluginError;
    expect(error.message.split('\n')[0]).toBe(`[deployr:check] failed in task "check:disk" on c: Command failed with exit code 7 on c: echo 'no space left' >&2; exit 7`);
    expect(error.cause).toBeInstanceOf(CommandError);
    expect(result.failures[0]?.error).toMatchObject({ plugin: 'deployr:check', hook: 'task "check:disk"', exitCode: 7, stderrTail: 'no space left' });
    expect(deployr.getTask('check:disk')?.plugin).toBe('deployr:check');
  });

  it('a plugin whose apply() throws stops createDeployr with a stamped error', async () => {
    const bad: Plugin = {
      name: 'deployr:bad',
      apply() {
        throw new Error('missing option "program"');
      },
    };
    await expect(harness(localConfig({ plugins: [bad] }))).rejects.toThrow('[deployr:bad] failed in "apply": missing option "program"');
  });
});

describe('dry run', () => {
  it('records every host\'s commands and runs none of them', async () => {
    const { deployr, events } = await harness(
      localConfig({ tasks: { hello: async (ctx) => void (await ctx.host.cd('/srv/app').exec(cmd`touch ${`${ctx.target.name} marker`}`)) } }),
    );
    const result = await deployr.run('hello', { dryRun: true });
    expect(result.ok).toBe(true);
    const commands = events.flatMap((e) => (e.type === 'command:start' ? [`${e.host}: ${e.command}`] : []));
    expect(commands.sort()).toEqual([`a: cd /srv/app && touch 'a marker'`, `b: cd /srv/app && touch 'b marker'`, `c: cd /srv/app && touch 'c marker'`]);
  });
});
