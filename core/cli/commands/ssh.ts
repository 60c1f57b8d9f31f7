import { spawn } from 'node:child_process';
import { ConfigError } from '../../errors.js';
import type { ResolvedHost } from '../../config/resolved.js';
import type { HostOptions } from '../options.js';
import { openProject } from '../session.js';

/**
 * `deployr ssh <env> [host] [-- cmd…]`: an interactive shell (or one
 * command) on a host, through OpenSSH's own client, so the terminal, agent
 * and escape keys behave as users expect. Host keys are still checked:
 * StrictHostKeyChecking and the config's known_hosts files are passed on.
 */
export async function sshCommand(environment: string, hostName: string | undefined, words: string[], options: Pick<HostOptions, 'config'>): Promise<number> {
  const { deployr, root } = await openProject(environment, options);
  const env = deployr.environment;
  if (!env) throw new Error('ssh needs an environment');
  const [target] = deployr.selectHosts(hostName === undefined ? {} : { hosts: [hostName] });
  if (!target) throw new ConfigError(`No host to open a shell on in "${environment}"`);
  if (env.connect !== 'local' && target.ssh.hostKeyFingerprints?.length) {
    // OpenSSH's client cannot take a pinned fingerprint; it checks known_hosts, which may not have this host.
    process.stderr.write(`deployr: note: ssh checks ${target.name}'s key against known_hosts, not the hostKeyFingerprints pinned in the config\n`);
  }
  const [program, args] =
    env.connect === 'local'
      ? [process.env['SHELL'] || '/bin/sh', words.length ? ['-c', words.join(' ')] : ['-l']]
      : ['ssh', sshArguments(target, words)];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'inherit', cwd: root });
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new ConfigError(`"${program}" is not installed on this machine`, { hint: 'install the OpenSSH client (apt-get install openssh-client)' })
          : error,
      ),
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
  });
}

/** The ssh(1) arguments that reach `target` with the settings deployr would use. */
export function sshArguments(target: ResolvedHost, words: readonly string[]): string[] {
  const ssh = target.ssh;
  const args: string[] = [];
  const user = target.user ?? ssh.user;
  const port = target.port ?? ssh.port;
  if (user) args.push('-l', user);
  if (port) args.push('-p', String(port));
  if (ssh.sshConfigFile) args.push('-F', ssh.sshConfigFile);
  for (const file of [ssh.identityFile ?? []].flat()) args.push('-i', file, '-o', 'IdentitiesOnly=yes');
  if (ssh.proxyJump) args.push('-J', ssh.proxyJump);
  if (ssh.strictHostKeyChecking) args.push('-o', `StrictHostKeyChecking=${ssh.strictHostKeyChecking}`);
  if (ssh.knownHostsFiles?.length) {
    // Ours first, then the user's usual files, as deployr itself reads them.
    args.push('-o', `UserKnownHostsFile=${[...ssh.knownHostsFiles, '~/.ssh/known_hosts', '~/.ssh/known_hosts2'].join(' ')}`);
  }
  if (ssh.connectTimeout) args.push('-o', `ConnectTimeout=${Math.ceil(ssh.connectTimeout / 1000)}`);
  args.push('--', target.address, ...words);
  return args;
}
