// syncFile, ensurePackages and detectOs on a real fleet host (h1; the file
// lives in its own /etc overlay), and --dry-run's predicting connection:
// reads run, writes are only recorded.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, detectOs, ensurePackages, Host, syncFile, type Logger } from '../../core/index.js';
import { PredictingConnection } from '../../core/connection/predicting.js';
import { hostShell, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts, fleetTarget } from '../integration/fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const file = `/etc/deployr-sync-${tag}.conf`;

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let host: Host;

interface Logged {
  message: string;
  data?: Record<string, unknown>;
}

function context(h: Host, dryRun = false) {
  const logged: Logged[] = [];
  const log: Logger = {
    info: (message, data) => void logged.push({ message, ...(data ? { data } : {}) }),
    debug: () => undefined,
    warn: (message) => void logged.push({ message: `warn: ${message}` }),
  };
  return { ctx: { host: h, log, dryRun, signal: new AbortController().signal }, logged };
}

const onHost = async (script: string) => (await hostShell(fleet, 'h1', script)).stdout;

beforeAll(() => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  host = targets.host('h1');
});
afterAll(async () => {
  await hostShell(fleet, 'h1', `rm -f ${file} ${file}.deployr-*`);
  await targets.close();
});

describe('syncFile', () => {
  it('creates, then reports unchanged without writing, then updates with a diff', async () => {
    const first = context(host);
    expect(await syncFile(first.ctx, { path: file, content: 'a = 1\nb = 2\n', sudo: true, mode: 0o640, owner: 'root', group: fleet.user })).toEqual({
      status: 'created',
      diff: expect.stringContaining('+a = 1'),
      previous: null,
    });
    expect(first.logged[0]?.message).toMatch(new RegExp(`^${file}: created\\n--- /dev/null\\n\\+\\+\\+ ${file}\\n@@ -0,0 \\+1,2 @@\\n\\+a = 1\\n\\+b = 2$`));
    expect((await onHost(`stat -c '%a %U %G' ${file}; cat ${file}`))).toBe(`640 root ${fleet.user}\na = 1\nb = 2\n`);
    const inode = await onHost(`stat -c %i ${file}`);

    const second = context(host);
    expect((await syncFile(second.ctx, { path: file, content: 'a = 1\nb = 2\n', sudo: true, mode: 0o640, owner: 'root', group: fleet.user })).status).toBe('unchanged');
    expect(second.logged.map((l) => l.message)).toEqual([`${file}: unchanged`]);
    expect(second.logged[0]?.data).toEqual({ change: { what: file, status: 'unchanged', predicted: false } });
    expect(await onHost(`stat -c %i ${file}`)).toBe(inode);

    const third = context(host);
    const result = await syncFile(third.ctx, { path: file, content: 'a = 1\nb = 3\n', sudo: true, mode: 0o640, owner: 'root', group: fleet.user });
    expect(result.status).toBe('updated');
    expect(result.previous).toBe('a = 1\nb = 2\n');
    expect(result.diff).toBe(`--- ${file}\n+++ ${file}\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3\n`);
    expect(await onHost(`cat ${file}`)).toBe('a = 1\nb = 3\n');
  });

  it('a mode-only change is an update that names the attribute', async () => {
    const { ctx, logged } = context(host);
    expect((await syncFile(ctx, { path: file, content: 'a = 1\nb = 3\n', sudo: true, mode: 0o600 })).status).toBe('updated');
    expect(logged[0]?.message).toBe(`${file} (mode 640 → 600): updated`);
    expect(await onHost(`stat -c %a ${file}`)).toBe('600\n');
  });

  it('a failing check keeps the old file and says why', async () => {
    const { ctx } = context(host);
    const error = await syncFile(ctx, {
      path: file,
      content: 'broken\n',
      sudo: true,
      validate: (temp) => cmd`grep -q ${'='} ${temp}`,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`${file} was not changed: the new content failed its check`);
    expect(await onHost(`cat ${file}; ls ${file}.deployr-* 2>/dev/null | wc -l`)).toBe('a = 1\nb = 3\n0\n');
  });

  it('secret content is never shown, not even as a diff', async () => {
    const { ctx, logged } = context(host);
    const result = await syncFile(ctx, { path: file, content: 'token = s3cr3t-value\n', sudo: true, secret: true });
    expect(result).toEqual({ status: 'updated', previous: 'a = 1\nb = 3\n' });
    expect(JSON.stringify(logged)).not.toContain('s3cr3t');
  });

  it('without sudo, a file the login user cannot write fails naming the file and what to do', async () => {
    const { ctx } = context(host);
    await expect(syncFile(ctx, { path: `/etc/deployr-nope-${tag}`, content: 'x\n' })).rejects.toThrow(`cannot write /etc/deployr-nope-${tag}`);
    await expect(syncFile(ctx, { path: `/etc/deployr-nope-${tag}`, content: 'x\n' })).rejects.toMatchObject({ host: 'h1' });
  });
});

describe('--dry-run (PredictingConnection over the real host)', () => {
  it('reads the host, shows the diff it would apply, and writes nothing', async () => {
    const predicting = new Host(new PredictingConnection(targets.connector.connection(fleetTarget(fleet, 'h1'))));
    const { ctx, logged } = context(predicting, true);
    const result = await syncFile(ctx, { path: file, content: 'token = s3cr3t-value\nmore = 1\n', sudo: true });
    expect(result.status).toBe('updated');
    expect(logged[0]?.message).toBe(`would update ${file}\n--- ${file}\n+++ ${file}\n@@ -1 +1,2 @@\n token = s3cr3t-value\n+more = 1`);
    expect(await onHost(`cat ${file}`)).toBe('token = s3cr3t-value\n');
    // A file that is already right is reported the same way as in a real run.
    const again = context(predicting, true);
    expect((await syncFile(again.ctx, { path: file, content: 'token = s3cr3t-value\n', sudo: true })).status).toBe('unchanged');
    expect(again.logged[0]?.message).toBe(`${file}: unchanged`);
  });
});

describe('detectOs and ensurePackages', () => {
  it('detect the host\'s Debian and report installed packages as unchanged', async () => {
    const os = await detectOs(host);
    expect(os.packageManager).toBe('apt');
    const { ctx, logged } = context(host);
    expect(await ensurePackages(ctx, ['bash', 'coreutils'], { os })).toEqual([]);
    expect(logged.map((l) => l.message)).toEqual(['package bash: unchanged', 'package coreutils: unchanged']);
  });

  it('under --dry-run name what would be installed and install nothing', async () => {
    const predicting = new Host(new PredictingConnection(targets.connector.connection(fleetTarget(fleet, 'h1'))));
    const { ctx, logged } = context(predicting, true);
    expect(await ensurePackages(ctx, ['bash', 'deployr-not-a-package'])).toEqual(['deployr-not-a-package']);
    expect(logged.map((l) => l.message)).toEqual(['package bash: unchanged', 'would install package deployr-not-a-package']);
  });
});
