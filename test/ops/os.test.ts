// OS detection and package commands: parsing real-world os-release files,
// exact commands per package manager, and the apt query run for real here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensurePackages, Host, installPackagesCommand, missingPackagesCommand, parseOsRelease, RecordingConnection } from '../../core/index.js';

const SAMPLES = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
  ubuntu: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
  rocky: 'NAME="Rocky Linux"\nVERSION_ID="9.4"\nID="rocky"\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
  arch: 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\n',
};

describe('parseOsRelease', () => {
  it('finds the package manager from ID or ID_LIKE', () => {
    expect(parseOsRelease(SAMPLES.debian)).toEqual({ id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', packageManager: 'apt' });
    expect(parseOsRelease(SAMPLES.ubuntu).packageManager).toBe('apt');
    expect(parseOsRelease(SAMPLES.rocky)).toMatchObject({ id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], packageManager: 'dnf' });
    expect(parseOsRelease(SAMPLES.alpine)).toMatchObject({ id: 'alpine', versionId: '3.20.3', packageManager: 'apk' });
  });

  it('refuses an unknown family, naming the OS and the host', () => {
    expect(() => parseOsRelease(SAMPLES.arch, 'web-1')).toThrow(/unsupported OS "Arch Linux".*ID=arch/);
    try {
      parseOsRelease(SAMPLES.arch, 'web-1');
    } catch (error) {
      expect(error).toMatchObject({ host: 'web-1', hint: expect.stringContaining('by hand') });
    }
  });

  it('reads this machine\'s own /etc/os-release', () => {
    const info = parseOsRelease(execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' }));
    expect(['apt', 'dnf', 'apk']).toContain(info.packageManager);
  });
});

describe('package commands', () => {
  it('are exact per manager, every name quoted', () => {
    expect(missingPackagesCommand('apk', ['supervisor']).toString()).toBe(`for p in supervisor; do apk info -e "$p" >/dev/null 2>&1 || echo "$p"; done`);
    expect(installPackagesCommand('dnf', ['python3', 'git']).toString()).toBe('dnf install -y -q -- python3 git');
    expect(installPackagesCommand('apk', ['python3']).toString()).toBe('apk add --no-cache -q -- python3');
    expect(installPackagesCommand('apt', ['supervisor']).toString()).toBe(
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -- supervisor' +
        ' || { apt-get update -q -o DPkg::Lock::Timeout=300 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -- supervisor ; }',
    );
  });

  it('refuse what is not a package name (no shell gets through)', () => {
    expect(() => installPackagesCommand('apt', ['vim; rm -rf /'])).toThrow('"vim; rm -rf /" is not a package name');
    expect(() => missingPackagesCommand('apt', ['-oAPT::x'])).toThrow('is not a package name');
  });

  it('apt: the query names exactly the packages dpkg does not have installed', () => {
    const info = parseOsRelease(execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' }));
    if (info.packageManager !== 'apt') return expect.fail('this machine is not apt-based: the CI machine is Debian');
    const script = missingPackagesCommand('apt', ['bash', 'deployr-no-such-package', 'coreutils']).toString();
    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' })).toBe('deployr-no-such-package\n');
  });
});

describe('ensurePackages', () => {
  const os = parseOsRelease(SAMPLES.debian);
  const run = async (sudo: boolean | undefined) => {
    const connection = new RecordingConnection('web-1').respond('dpkg-query', { stdout: 'supervisor\n' });
    const ctx = { host: new Host(connection), log: { info: () => undefined, debug: () => undefined, warn: () => undefined }, dryRun: false, signal: new AbortController().signal };
    expect(await ensurePackages(ctx, ['bash', 'supervisor'], { os, ...(sudo === undefined ? {} : { sudo }) })).toEqual(['supervisor']);
    return connection.commands.at(-1) ?? '';
  };

  it('installs only what is missing, through sudo unless told not to (root on a host without sudo)', async () => {
    const install = installPackagesCommand('apt', ['supervisor']).toString();
    expect(await run(undefined)).toMatch(/^sudo -n /);
    expect(await run(undefined)).toContain('apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -- supervisor');
    expect(await run(false)).toMatch(new RegExp(`^(?!sudo).*${install.slice(0, 40).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
