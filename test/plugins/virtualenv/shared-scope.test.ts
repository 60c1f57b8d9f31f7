// deployr:virtualenv with scope 'shared' on fleet hosts h1 and h2: one venv
// at shared/venv, linked into every release, updated in place when the
// requirements change, recreated when its Python is not the chosen one,
// put back to the release's requirements on rollback; unchanged redeploys
// run neither venv nor pip; --dry-run predicts and changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { useFleet } from '../../fleet/use-fleet.js';
import { changes, commands, logs, venvProject, type VenvProject } from './venv-project.js';

let project: VenvProject;
let names: readonly string[];
const deploy = (...extra: string[]) => project.cli(['deploy', 'fleet', '--json', ...extra]);
const made = (stdout: string, host: string, what: ' -m venv ' | ' -m pip ') => commands(stdout).filter((c) => c.host === host && c.command.includes(what)).length;

/** The one venv report of a host. */
function reported(stdout: string, name: string): { what: string; status: string; predicted: boolean; diff?: string } {
  const list = changes(stdout).get(name) ?? [];
  expect(list, `${name}: ${JSON.stringify(list)}`).toHaveLength(1);
  return list[0] as { what: string; status: string; predicted: boolean; diff?: string };
}

/** The release's link, what build and the helper saw, the venv dir's inode, the marker's content. */
async function look(name: string): Promise<{ link: string; built: string; helper: string; inode: string; marker: string }> {
  const out = await project.sh(name, `readlink current/.venv; cat current/BUILT_WITH current/HELPER_SAYS; stat -c %i shared/venv; cat shared/venv/.deployr-venv.json`);
  const [link = '', built = '', helper = '', inode = '', marker = ''] = out.split('\n');
  return { link, built, helper, inode, marker };
}

beforeAll(() => {
  project = venvProject(useFleet(), 'shared');
  project.configure(`{ scope: 'shared', requirements: ['requirements.txt'], noIndex: true, findLinks: ['wheels'] }`);
  names = project.hosts;
});

describe('virtualenv, scope shared', { timeout: 120_000 }, () => {
  const inodes = new Map<string, string>();

  it('first deploy creates shared/venv and links every release to it', async () => {
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    for (const name of names) {
      expect(reported(stdout, name)).toEqual({ what: 'venv shared/venv', status: 'created', predicted: false });
      const seen = await look(name);
      expect(seen.link).toBe('../../shared/venv');
      expect(seen.built).toBe('1.0');
      expect(seen.helper).toBe(`1.0 /home/deploy/${project.deployTo}/shared/venv`);
      inodes.set(name, seen.inode);
    }
  });

  it('redeploy with the same requirements: unchanged, neither venv nor pip runs, the marker is as it was', async () => {
    const before = await Promise.all(names.map((name) => look(name)));
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    for (const [index, name] of names.entries()) {
      expect(reported(stdout, name)).toEqual({ what: 'venv shared/venv', status: 'unchanged', predicted: false });
      expect(made(stdout, name, ' -m venv ') + made(stdout, name, ' -m pip ')).toBe(0);
      const seen = await look(name);
      expect(seen.inode).toBe(before[index]?.inode);
      expect(seen.marker).toBe(before[index]?.marker);
    }
  });

  it('requirements 1.0 → 2.0: pip updates the venv in place (no new venv), the report has the diff', async () => {
    project.write('requirements.txt', 'deployrdemo==2.0\n');
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    for (const name of names) {
      const change = reported(stdout, name);
      expect(change).toMatchObject({ what: 'venv shared/venv', status: 'updated', predicted: false });
      expect(change.diff).toMatch(/^--- shared\/venv\n\+\+\+ shared\/venv\n/);
      expect(change.diff).toMatch(/^-requirements requirements\.txt sha256:[0-9a-f]{12}\n\+requirements requirements\.txt sha256:[0-9a-f]{12}$/m);
      expect(made(stdout, name, ' -m venv ')).toBe(0);
      expect(made(stdout, name, ' -m pip ')).toBe(1);
      const seen = await look(name);
      expect(seen.inode).toBe(inodes.get(name));
      expect(seen.built).toBe('2.0');
    }
  });

  it('rollback puts the venv back to the requirements of the release rolled back to', async () => {
    const back = await project.cli(['rollback', 'fleet', '--json']);
    expect(back.code, back.stderr).toBe(0);
    for (const name of names) expect(reported(back.stdout, name)).toMatchObject({ what: 'venv shared/venv', status: 'updated' });
    // A task outside a deploy: the helper finds the current release and the shared venv.
    const task = await project.cli(['demo:version', 'fleet', '--json']);
    expect(task.code, task.stderr).toBe(0);
    for (const name of names) expect(logs(task.stdout)).toContainEqual({ host: name, message: `demo 1.0 /home/deploy/${project.deployTo}/shared/venv` });
  });

  it('--dry-run predicts "would update" with the diff and changes nothing', async () => {
    const before = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).marker]));
    const { code, stdout, stderr } = await deploy('--dry-run');
    expect(code, stderr).toBe(0);
    for (const name of names) {
      const change = reported(stdout, name);
      expect(change).toMatchObject({ what: 'venv shared/venv', status: 'updated', predicted: true });
      expect(logs(stdout)).toContainEqual({ host: name, message: expect.stringMatching(/^would update venv shared\/venv\n--- shared\/venv\n\+\+\+ shared\/venv\n/) });
    }
    const after = await Promise.all(names.map(async (name) => [await project.current(name), (await look(name)).marker]));
    expect(after).toEqual(before);
  });

  it('a venv whose Python is not the chosen one (pyvenv.cfg) is made again; the other host only installs', async () => {
    await project.sh('h2', `sed -i 's/^version = .*/version = 3.10.99/' shared/venv/pyvenv.cfg`);
    const { code, stdout, stderr } = await deploy();
    expect(code, stderr).toBe(0);
    expect(reported(stdout, 'h2').diff).toMatch(/^-python 3\.10\.99 \(/m);
    expect(reported(stdout, 'h2').diff).toMatch(/^\+python 3\.(?!10\.99)\d+\.\d+ \(/m);
    expect([made(stdout, 'h1', ' -m venv '), made(stdout, 'h2', ' -m venv ')]).toEqual([0, 1]);
    for (const name of names) {
      expect(reported(stdout, name)).toMatchObject({ status: 'updated' });
      expect(made(stdout, name, ' -m pip ')).toBe(1);
      expect((await look(name)).built).toBe('2.0');
    }
    expect(await project.sh('h2', `grep '^version' shared/venv/pyvenv.cfg`)).toMatch(/^version = 3\.(?!10\.99)/);
    expect((await look('h1')).inode).toBe(inodes.get('h1'));
  });
});
