// deployr:virtualenv with scope 'release' on fleet hosts h1 and h2: each
// release links `.venv` to a venv named by its fingerprint under
// shared/venvs/venv/, built once and reused by later releases with the same
// requirements; rollback keeps the old venv; cleanup removes venvs no release
// links to; a changed Python recreates; --dry-run predicts and changes
// nothing; a requirement pip cannot find fails the deploy before any host
// switches.
import { beforeAll, describe, expect, it } from 'vitest';
import { useFleet } from '../../fleet/use-fleet.js';
import { events } from '../../release/release-project.js';
import { changes, commands, logs, venvProject, type VenvProject } from './venv-project.js';

let project: VenvProject;
let names: readonly string[];
const deploy = (...extra: string[]) => project.cli(['deploy', 'fleet', '--json', ...extra]);
const VENVS = 'shared/venvs/venv';
const KEY = /^venv shared\/venvs\/venv\/([0-9a-f]{16})$/;

/** The key of the venv each host reported, and its status. */
function reported(stdout: string, name: string): { key: string; status: string; predicted: boolean; diff?: string } {
  const list = changes(stdout).get(name) ?? [];
  expect(list, `${name}: ${JSON.stringify(list)}`).toHaveLength(1);
  const [change] = list as [{ what: string; status: string; predicted: boolean; diff?: string }];
  const key = KEY.exec(change.what)?.[1];
  expect(key, change.what).toBeDefined();
  return { key: key as string, status: change.status, predicted: change.predicted, ...(change.diff ? { diff: change.diff } : {}) };
}

/** Which venv the current release links to, what its build and the helper saw, and the venv's identity (inode, marker mtime). */
async function look(name: string): Promise<{ link: string; built: string; helper: string; identity: string; venvs: string[] }> {
  const out = await project.sh(
    name,
    `readlink current/.venv; cat current/BUILT_WITH; cat current/HELPER_SAYS; stat -L -c '%i %Y' current/.venv current/.venv/.deployr-venv.json | tr '\\n' ' '; echo; ls ${VENVS} | tr '\\n' ' '`,
  );
  const [link = '', built = '', helper = '', identity = '', venvs = ''] = out.split('\n');
  return { link, built, helper, identity, venvs: venvs.split(' ').filter(Boolean) };
}

beforeAll(() => {
  project = venvProject(useFleet(), 'release');
  project.configure(`{ requirements: ['requirements.txt'], noIndex: true, findLinks: ['wheels'], roles: ['app'] }`);
  names = project.hosts;
});

describe('virtualenv, scope release', { timeout: 120_000 }, () => {
  const keys: string[] = [];
  const identity = new Map<string, string>();
  let first = '';

  it('first deploy: creates the venv, installs the requirements, links it into the release; release.build and the helper run in it', async () => {
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    first = await project.current('h1');
    for (const name of names) {
      const change = reported(stdout, name);
      expect(change).toMatchObject({ status: 'created', predicted: false });
      keys[0] = change.key;
      const seen = await look(name);
      expect(seen.link).toBe(`../../${VENVS}/${change.key}`);
      expect(seen.built).toBe('1.0');
      expect(seen.helper).toBe(`1.0 /home/deploy/${project.deployTo}/${VENVS}/${change.key}`);
      expect(seen.venvs).toEqual([change.key]);
      identity.set(name, seen.identity);
    }
    // Both hosts have the same Python and requirements: the same venv name.
    expect(new Set(names.map((name) => reported(stdout, name).key)).size).toBe(1);
  });

  it('redeploy with the same requirements: unchanged, no venv made and pip not run; the new release links the same venv', async () => {
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    expect(await project.current('h1')).not.toBe(first);
    const run = commands(stdout).map((c) => c.command);
    expect(run.filter((c) => c.includes(' -m venv ') || c.includes(' -m pip '))).toEqual([]);
    for (const name of names) {
      expect(reported(stdout, name)).toMatchObject({ key: keys[0], status: 'unchanged' });
      expect(logs(stdout)).toContainEqual({ host: name, message: `venv ${VENVS}/${keys[0]}: unchanged` });
      const seen = await look(name);
      expect(seen.link).toBe(`../../${VENVS}/${keys[0]}`);
      expect(seen.identity, 'the venv was not touched').toBe(identity.get(name));
      expect(seen.built).toBe('1.0');
    }
  });

  it('requirements 1.0 → 2.0: a new venv for the new release, with a diff; the previous release keeps its venv', async () => {
    project.write('requirements.txt', 'deployrdemo==2.0\n');
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    for (const name of names) {
      const change = reported(stdout, name);
      expect(change.status).toBe('created');
      expect(change.key).not.toBe(keys[0]);
      keys[1] = change.key;
      expect(change.diff).toMatch(/^-requirements requirements\.txt sha256:[0-9a-f]{12}$/m);
      expect(change.diff).toMatch(/^\+requirements requirements\.txt sha256:[0-9a-f]{12}$/m);
      const seen = await look(name);
      expect(seen.built).toBe('2.0');
      expect(seen.helper).toBe(`2.0 /home/deploy/${project.deployTo}/${VENVS}/${keys[1]}`);
      expect(seen.venvs.sort()).toEqual([keys[0], keys[1]].sort());
    }
  });

  it('rollback: the previous release runs with its own venv (1.0), through the helper too', async () => {
    const back = await project.cli(['rollback', 'fleet', '--json']);
    expect(back.code, back.stderr).toBe(0);
    const task = await project.cli(['demo:version', 'fleet', '--json']);
    expect(task.code, task.stderr).toBe(0);
    for (const name of names) {
      expect(logs(task.stdout)).toContainEqual({ host: name, message: `demo 1.0 /home/deploy/${project.deployTo}/${VENVS}/${keys[0]}` });
      expect((await look(name)).link).toBe(`../../${VENVS}/${keys[0]}`);
    }
  });

  it('deploying 2.0 again reuses its venv; cleanup removes the venv no kept release links to', async () => {
    // keepReleases 2: this release and the 2.0 one before it stay; both 1.0 releases go, and with them their venv.
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    expect(commands(stdout).filter((c) => c.command.includes(' -m venv ') || c.command.includes(' -m pip '))).toEqual([]);
    for (const name of names) {
      const list = changes(stdout).get(name) ?? [];
      expect(list).toEqual([
        { what: `venv ${VENVS}/${keys[1]}`, status: 'unchanged', predicted: false },
        { what: `venv ${VENVS}/${keys[0]} (no release uses it)`, status: 'removed', predicted: false },
      ]);
      const seen = await look(name);
      expect(seen.venvs).toEqual([keys[1]]);
      expect(seen.built).toBe('2.0');
    }
  });

  it('--dry-run predicts the venv a change would create and changes nothing', async () => {
    project.write('requirements.txt', 'deployrdemo==1.0\n');
    const before = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).venvs.join(' ')]));
    const { code, stdout, stderr } = await deploy('--dry-run');
    expect(code, stderr).toBe(0);
    for (const name of names) {
      const change = reported(stdout, name);
      expect(change).toMatchObject({ status: 'created', predicted: true });
      // Same Python, same files as the first deploy's: the very venv cleanup removed.
      expect(change.key).toBe(keys[0]);
      expect(logs(stdout)).toContainEqual({ host: name, message: expect.stringMatching(new RegExp(`^would create venv ${VENVS}/${keys[0]}\\n--- venv of the current release`)) });
    }
    const after = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).venvs.join(' ')]));
    expect(after).toEqual(before);
    project.write('requirements.txt', 'deployrdemo==2.0\n');
  });

  it('another Python in the venv than the chosen one (pyvenv.cfg version): that host recreates it, the other leaves its own alone', async () => {
    await project.sh('h1', `sed -i 's/^version = .*/version = 3.10.99/' ${VENVS}/${keys[1]}/pyvenv.cfg`);
    const untouched = (await look('h2')).identity;
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    const h1 = reported(stdout, 'h1');
    expect(h1).toMatchObject({ key: keys[1], status: 'updated' });
    expect(h1.diff).toMatch(/^-python 3\.10\.99 \(/m);
    expect(h1.diff).toMatch(/^\+python 3\.\d+\.\d+ \(/m);
    expect(reported(stdout, 'h2')).toMatchObject({ key: keys[1], status: 'unchanged' });
    expect(await project.sh('h1', `grep '^version' ${VENVS}/${keys[1]}/pyvenv.cfg`)).toMatch(/^version = 3\.(?!10\.99)/);
    expect((await look('h1')).built).toBe('2.0');
    expect((await look('h2')).identity).toBe(untouched);
  });

  it('a requirement pip cannot find: the deploy fails naming the package, plugin, hook and host; no host switches, no venv is left', async () => {
    const before = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).venvs.join(' ')]));
    project.write('requirements.txt', 'deployrdemo==9.9\n');
    const { code, stdout, stderr } = await deploy();
    expect(code).toBe(1);
    // Each host's failure, stamped with plugin, hook and host; the summary groups the hosts with the same error.
    const failed = events(stdout).filter((e) => e['type'] === 'task:end' && e['status'] === 'failed');
    for (const name of names) {
      const message = String((failed.find((e) => e['host'] === name)?.['error'] as { message?: string } | undefined)?.message);
      expect(message).toMatch(new RegExp(`^\\[deployr:virtualenv\\] failed in "deploy" on ${name}: pip install into ${VENVS}/[0-9a-f]{16} failed \\(exit 1\\): no matching distribution for deployrdemo==9\\.9\\n`));
    }
    expect(stderr).toMatch(/✖ (h1, h2|h2, h1) — task "deploy:update"\n {2}\[deployr:virtualenv\] failed in "deploy" on h[12]: pip install into /);
    expect(stderr).toContain('no matching distribution for deployrdemo==9.9');
    expect(stderr).toMatch(/│ ERROR: Could not find a version that satisfies the requirement deployrdemo==9\.9 \(from versions: 1\.0, 2\.0\)/);
    expect(stderr).toContain('check "deployrdemo==9.9" in your requirements/packages and that findLinks (wheels) offers it');
    expect(events(stdout).filter((e) => e['type'] === 'task:end' && e['task'] === 'deploy:switch').map((e) => e['status'])).toEqual(['skipped', 'skipped']);
    const after = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).venvs.join(' ')]));
    expect(after).toEqual(before);
    project.write('requirements.txt', 'deployrdemo==2.0\n');
  });
});
