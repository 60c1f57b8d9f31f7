// Type tests for what users write: defineConfig, task contexts, hook taps and
// the plugin shape. They are checked by `tsc -p test/tsconfig.json` (run by
// typecheck.test.ts); the runtime assertions only keep vitest honest.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createDeployr,
  defineConfig,
  series,
  type ConfigEnv,
  type Deployr,
  type DeployrConfig,
  type FailureContext,
  type Host,
  type LockError,
  type LockHolder,
  type ReleaseSettings,
  type Plugin,
  type RunResult,
  type TaskContext,
  type Vars,
} from 'deployr';

describe('defineConfig', () => {
  it('keeps the object form\'s literal types', () => {
    const config = defineConfig({ app: 'shop', environments: { prod: { hosts: ['web-1'] } } });
    expectTypeOf(config.app).toEqualTypeOf<'shop'>();
    expect(config.app).toBe('shop');
  });

  it('gives the function form the environment name', () => {
    const config = defineConfig(async ({ environment }) => {
      expectTypeOf(environment).toEqualTypeOf<string | undefined>();
      return { app: 'shop', environments: { prod: { hosts: [environment ?? 'web-1'] } } };
    });
    expectTypeOf(config).parameter(0).toEqualTypeOf<ConfigEnv>();
    expectTypeOf(config).returns.resolves.toMatchTypeOf<DeployrConfig>();
  });

  it('rejects what the validator would reject', () => {
    // @ts-expect-error a typo in a key
    defineConfig({ app: 'x', environments: { prod: { hots: ['a'] } } });
    // @ts-expect-error a port must be a number
    defineConfig({ app: 'x', environments: { prod: { hosts: [{ address: 'a', port: '22' }] } } });
    // @ts-expect-error connect is 'ssh' or 'local'
    defineConfig({ app: 'x', environments: { prod: { connect: 'telnet', hosts: ['a'] } } });
    // @ts-expect-error a task is a function, a name, series()/parallel() or { run }
    defineConfig({ app: 'x', environments: {}, tasks: { t: 42 } });
    expect(true).toBe(true);
  });
});

describe('releases', () => {
  it('types release settings, before/after and the run params on contexts', () => {
    const config = defineConfig({
      app: 'shop',
      deployTo: '/srv/shop',
      release: { source: 'dist', buildLocally: 'npm run build', ignore: ['*.map'], shared: ['.env', 'storage/'], build: ['npm ci'] },
      environments: { prod: { hosts: ['web-1'], release: { build: 'npm ci --omit=dev' } } },
      tasks: { migrate: { roles: ['db'], once: true, run: async (ctx) => void (await ctx.host.exec('true')) } },
      before: { 'deploy:switch': 'migrate' },
      after: { 'deploy:postdeploy': ['migrate', async (ctx) => ctx.log.info(ctx.runId)] },
      hooks: {
        prepare: async (ctx) => {
          expectTypeOf(ctx.runId).toEqualTypeOf<string>();
          expectTypeOf(ctx.params).toEqualTypeOf<Readonly<Record<string, unknown>>>();
          expectTypeOf(ctx.contextFor).returns.resolves.toEqualTypeOf<TaskContext>();
        },
      },
    });
    expectTypeOf<ReleaseSettings['shared']>().toEqualTypeOf<string[] | undefined>();
    // @ts-expect-error release settings are checked too
    defineConfig({ app: 'x', environments: {}, release: { sourcee: 'dist' } });
    // @ts-expect-error build is a command or a list of them
    defineConfig({ app: 'x', environments: {}, release: { build: 42 } });
    expectTypeOf<LockError['holder']>().toEqualTypeOf<LockHolder | undefined>();
    expect(config.release?.source).toBe('dist');
  });
});

describe('tasks and hooks', () => {
  it('types the task context', () => {
    defineConfig({
      app: 'x',
      environments: {},
      tasks: {
        check: {
          run: async (ctx) => {
            expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
            expectTypeOf(ctx.host).toEqualTypeOf<Host>();
            expectTypeOf(ctx.vars).toEqualTypeOf<Vars>();
            expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
            expectTypeOf(ctx.roles).toEqualTypeOf<readonly string[]>();
            expectTypeOf(ctx.original).returns.resolves.toBeVoid();
          },
          roles: ['web'],
          once: true,
        },
        release: series('check', async (ctx) => void ctx.log.info('done')),
      },
      hooks: {
        predeploy: (ctx) => expectTypeOf(ctx).toEqualTypeOf<TaskContext>(),
        failure: (run) => {
          expectTypeOf(run).toEqualTypeOf<FailureContext>();
          expectTypeOf(run.failures[0]?.error.message).toEqualTypeOf<string | undefined>();
        },
      },
    });
    expect(true).toBe(true);
  });

  it('types plugins and the instance they get', async () => {
    const plugin = (options: { channel: string }): Plugin => ({
      name: 'notify',
      apply(deployr) {
        expectTypeOf(deployr).toEqualTypeOf<Deployr>();
        deployr.hooks.postdeploy.tapPromise({ name: 'notify', stage: 10 }, async (ctx) => {
          expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
        });
        deployr.hooks.done.tap('notify', (run) => void run.ok);
        deployr.task('notify:test', async (ctx) => ctx.log.info(options.channel), { description: 'send a test message' });
      },
    });
    const deployr = await createDeployr({ config: { app: 'x', environments: { local: { connect: 'local' } }, plugins: [plugin({ channel: '#ops' })] }, environment: 'local' });
    expectTypeOf(deployr.run).returns.resolves.toEqualTypeOf<RunResult>();
    expect(deployr.getTask('notify:test')?.plugin).toBe('notify');
  });
});

describe('the README plugin example', () => {
  it('compiles and validates its options', async () => {
    const { cmd, s, validateOptions } = await import('deployr');
    const optionsSchema = s.object({ url: s.string().describe('health check URL') });
    function healthCheck(options: { url: string }): Plugin {
      const { url } = validateOptions(optionsSchema, options, 'health-check');
      return {
        name: 'health-check',
        apply(deployr) {
          deployr.hooks.postdeploy.tapPromise({ name: 'health-check', stage: 10 }, async (ctx) => {
            await ctx.host.exec(cmd`curl -fsS ${url}`);
          });
          deployr.task('health', (ctx) => ctx.host.exec(cmd`curl -fsS ${url}`), { description: 'check the app answers' });
        },
      };
    }
    expect(healthCheck({ url: 'http://localhost/' }).name).toBe('health-check');
    expect(() => healthCheck({ url: 42 } as never)).toThrow(/options\.url: expected a string/);
  });
});
