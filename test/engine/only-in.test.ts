// onlyIn(): a plugin for some environments only, e.g. git for servers but
// not for the local example deploy.
import { describe, expect, it } from 'vitest';
import { createDeployr, defineConfig, onlyIn, type Plugin } from '../../core/index.js';

const tasking: Plugin = { name: 'test:tasking', apply: (deployr) => deployr.task('from-plugin', async () => undefined) };

function config(plugins: Plugin[]) {
  return defineConfig({
    app: 'x',
    plugins,
    environments: { local: { connect: 'local' }, prod: { hosts: ['deploy@web-1.example.com'] } },
  });
}

describe('onlyIn', () => {
  it('applies in the named environments and without one, and not elsewhere', async () => {
    const plugin = onlyIn(['prod'], tasking);
    expect(plugin.name).toBe('test:tasking');
    expect((await createDeployr({ config: config([plugin]), environment: 'prod' })).getTask('from-plugin')).toBeDefined();
    expect((await createDeployr({ config: config([plugin]) })).getTask('from-plugin')).toBeDefined();
    expect((await createDeployr({ config: config([plugin]), environment: 'local' })).getTask('from-plugin')).toBeUndefined();
  });

  it('refuses a name no environment has, naming the known ones', async () => {
    await expect(createDeployr({ config: config([onlyIn(['prdo'], tasking)]), environment: 'prod' })).rejects.toThrow(
      /onlyIn\(\): no environment named "prdo" \(plugin "test:tasking"\)/,
    );
    expect(() => onlyIn([], tasking)).toThrow('expected a list of environment names');
  });
});
