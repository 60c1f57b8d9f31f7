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
import { ConfigError, validateOptions, type Plugin, type TaskContext } from 'deployr';
import { bootstrapHost } from './bootstrap-host.js';
import { firstDeployTask } from './first-deploy.js';
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
      const bootstrapHere = async (ctx: TaskContext): Promise<void> =>
        bootstrapHost(ctx, { plan, keys: await keys(ctx.shared), deployTo: ctx.environment.deployTo });

      deployr.task(
        'bootstrap',
        async (ctx) => {
          // The local transport is this machine: its users and sudo rules are never what a deploy config means.
          if (ctx.environment.connect === 'local') {
            throw new ConfigError(`environment "${ctx.environment.name}" runs on this machine (connect: 'local'): bootstrap would change its users and sudo rules`, {
              hint: 'bootstrap servers over SSH; for this machine, ssh to localhost in an environment of its own',
            });
          }
          await bootstrapHere(ctx);
        },
        {
          description: `create users ${plan.deployUser} and ${plan.runUser}, group ${plan.group}, keys, sudo rules, packages and deployTo (log in as root or an admin user)`,
          ...roles,
        },
      );
      if (opts.beforeFirstDeploy) {
        deployr.task('bootstrap:first-deploy', firstDeployTask(plan, bootstrapHere), {
          description: 'before deploy:lock, bootstrap each host where deployTo does not exist yet',
          ...roles,
        });
        deployr.before('deploy:lock', 'bootstrap:first-deploy');
      }
    },
  };
}
