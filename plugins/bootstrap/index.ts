/**
 * deployr:bootstrap — prepares fresh hosts for deploys (collective.hostout's
 * bootstrap_users and bootstrap_python): base packages and Python, a deploy
 * user with your keys and a sudoers drop-in, the app's run user, a group
 * they share, and deployTo owned by them.
 *
 * ```ts
 * plugins: [bootstrap({ deployUser: 'deploy', authorizedKeys: ['~/.ssh/id_ed25519.pub'] })]
 * ```
 * then `deployr bootstrap prod-bootstrap` (connected as root or an admin user).
 */
import { cmd, ConfigError, validateOptions, type Plugin, type TaskContext } from 'deployr';
import { bootstrapHost } from './bootstrap-host.js';
import { keyLoader } from './keys.js';
import { conflicts, optionsSchema, planOf, type BootstrapOptions } from './options.js';

export { optionsSchema, type BootstrapOptions, type BootstrapPlan } from './options.js';

const NAME = 'deployr:bootstrap';

export function bootstrap(options: BootstrapOptions = {}): Plugin {
  const opts = validateOptions(optionsSchema, options, NAME);
  const problems = conflicts(opts.deployUser, opts.runUser, opts.group);
  if (problems.length > 0) throw new ConfigError(`Plugin ${NAME}: ${problems.join('; ')}`, { hint: `fix the options passed to ${NAME} in your deploy config` });
  const roles = opts.roles ? { roles: [...opts.roles] } : {};
  return {
    name: NAME,
    apply(deployr) {
      const plan = planOf(opts, deployr.config.app);
      const keys = keyLoader(opts.authorizedKeys, deployr.root);
      const run = async (ctx: TaskContext): Promise<void> =>
        bootstrapHost(ctx, { plan, keys: await keys(ctx.shared), deployTo: ctx.environment.deployTo });

      deployr.task('bootstrap', run, {
        description: `create users ${plan.deployUser} and ${plan.runUser}, group ${plan.group}, keys, sudo rules, packages and deployTo (as root: connect as root or an admin user)`,
        ...roles,
      });
      if (!opts.beforeFirstDeploy) return;
      deployr.task(
        'bootstrap:first-deploy',
        async (ctx) => {
          const deployTo = ctx.environment.deployTo;
          // Without deployTo there is nothing to look for; deploy:lock says what to set.
          if (!deployTo) return;
          // As deploy:lock will see it: relative to the login user's home, where the session starts.
          const probe = deployTo === '~' ? '.' : deployTo.startsWith('~/') ? deployTo.slice(2) : deployTo;
          const found = await ctx.host.exec(cmd`test -d ${probe}`, { readOnly: true, nothrow: true, signal: ctx.signal });
          if (found.ok) return ctx.log.debug(`${deployTo} exists: bootstrapped already`);
          ctx.log.info(`${deployTo} does not exist yet: bootstrapping before the first deploy`);
          await run(ctx);
          const login = (await ctx.host.exec(cmd`id -un`, { readOnly: true, quiet: true, signal: ctx.signal })).stdout.trim();
          if (login !== plan.deployUser) ctx.log.warn(`deploy runs as ${login}, but deployTo belongs to ${plan.deployUser}: deploy as ${plan.deployUser}`);
        },
        { description: 'before deploy:lock, bootstrap each host where deployTo does not exist yet', ...roles },
      );
      deployr.before('deploy:lock', 'bootstrap:first-deploy');
    },
  };
}
