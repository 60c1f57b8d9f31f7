// The remote strategy. Once per deploy, the ref becomes one commit id (on
// the first host, or on this machine), so every host deploys the same
// commit even if someone pushes meanwhile; then each host updates its own
// mirror and exports that commit into the empty release directory, and
// core hashes what it finds there into the release's manifest.
import { DeployrError, PluginError, useReleaseSource, type Host, type ReleaseInfo, type TaskContext } from 'deployr';
import { exportCommand, gitEnv, hasCommitCommand, lsRemoteCommand } from './commands.js';
import { runLocal } from './local-git.js';
import { gitStep, repositoryError, syncMirror } from './mirror.js';
import { NAME, type RemoteOptions } from './options.js';
import { isFullCommitId, parseLsRemote, resolveRemoteRef, type ResolvedRef } from './remote-refs.js';

export async function remoteSource(ctx: TaskContext, options: RemoteOptions): Promise<void> {
  const resolved = await resolveRef(ctx, options);
  if (resolved.warning) ctx.log.warn(resolved.warning);
  const name = resolved.ref ?? resolved.commit.slice(0, 12);
  ctx.log.info(`${ctx.dryRun ? 'would deploy' : 'deploying'} commit ${resolved.commit}${resolved.ref ? ` (${resolved.ref})` : ''} of ${options.url}`, {
    git: { strategy: 'remote', commit: resolved.commit, ...(resolved.ref ? { ref: resolved.ref } : {}), url: options.url },
  });
  useReleaseSource(ctx, {
    kind: 'host',
    git: { commit: resolved.commit, ...(resolved.ref ? { ref: resolved.ref } : {}), dirty: false },
    label: `git ${name} of ${options.url}`,
    fill: (hostCtx, release) => fillFromMirror(hostCtx, release, options, resolved.commit),
  });
}

async function resolveRef(ctx: TaskContext, options: RemoteOptions): Promise<ResolvedRef> {
  if (isFullCommitId(options.ref)) return { commit: options.ref.toLowerCase() };
  if (options.resolveOn === 'local') {
    // This machine's own git and ssh settings: the host-side key and known_hosts paths do not apply here.
    const listed = await runLocal('git', ['ls-remote', '--symref', options.url], { signal: ctx.signal });
    if (!listed.ok) throw repositoryError(`cannot list the refs of ${options.url} on this machine`, options.url, { stderr: listed.stderr, code: 1 });
    return resolveRemoteRef(parseLsRemote(listed.stdout), options.ref, options.url);
  }
  const listed = await gitStep(ctx, gitHost(ctx.host, options), lsRemoteCommand(options.url), `cannot list the refs of ${options.url}`, options.url, true);
  return resolveRemoteRef(parseLsRemote(listed.stdout), options.ref, options.url);
}

function gitHost(host: Host, options: RemoteOptions): Host {
  return host.env(gitEnv(options));
}

/**
 * One host's release: update its mirror, make sure it has the commit,
 * export the commit into the release directory. Runs inside core's
 * deploy:update, so failures are stamped with the plugin here.
 */
async function fillFromMirror(ctx: TaskContext, release: ReleaseInfo, options: RemoteOptions, commit: string): Promise<void> {
  try {
    const host = gitHost(ctx.host.cd(release.deployTo), options);
    await syncMirror(ctx, host, options.url, options.mirror);
    if (!ctx.dryRun) {
      const has = await host.exec(hasCommitCommand(options.mirror, commit), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
      if (!has.ok) {
        throw new DeployrError(`commit ${commit.slice(0, 12)} is not in ${options.mirror} after fetching ${options.url}: no branch or tag of it leads there (force-pushed away, or never pushed)`, {
          host: ctx.target.name,
          hint: 'deploy a ref the repository has (a branch or a tag), or push the commit first',
        });
      }
    }
    const exported = await host.exec(exportCommand(options.mirror, commit, relativeTo(release.deployTo, release.path), options.subdir), { nothrow: true, signal: ctx.signal });
    if (!exported.ok) {
      const missing = options.subdir && /pathspec .* did not match/.test(exported.stderr);
      throw missing
        ? new DeployrError(`${options.subdir} is not in commit ${commit.slice(0, 12)} of ${options.url}`, { host: ctx.target.name, hint: 'check the subdir option: the directory must be committed' })
        : repositoryError(`cannot export commit ${commit.slice(0, 12)} from ${options.mirror} into the release`, options.url, exported, ctx.target.name);
    }
  } catch (error) {
    if (ctx.signal.aborted || error instanceof PluginError) throw error;
    throw new PluginError(NAME, 'task "deploy:update"', ctx.target.name, error);
  }
}

/** The release directory as seen from deployTo (host commands run there, so `~/app` and relative deployTos work). */
function relativeTo(deployTo: string, releasePath: string): string {
  return releasePath.startsWith(`${deployTo}/`) ? releasePath.slice(deployTo.length + 1) : releasePath;
}
