import { DeployrError } from 'deployr';
import { suggest } from './close-matches.js';

/** What `git ls-remote --symref <url>` says a repository has. */
export interface RemoteRefs {
  /** Full ref name → commit id; annotated tags under their own name map to the commit they point at. */
  readonly refs: ReadonlyMap<string, string>;
  /** Every ref as advertised (an annotated tag as its tag object), HEAD aside: what a mirror's refs are after a fetch. */
  readonly advertised: ReadonlyMap<string, string>;
  /** HEAD's commit, and the branch it names (`refs/heads/main`) when the server says. */
  readonly head?: { readonly commit: string; readonly target?: string };
}

/** A ref turned into the one commit every host deploys. */
export interface ResolvedRef {
  readonly commit: string;
  /** Short name for the manifest and output (`main`, `v1.2`); absent when a commit id was given. */
  readonly ref?: string;
  /** Said when a name was ambiguous (a tag and a branch of the same name). */
  readonly warning?: string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A full commit id (SHA-1 or SHA-256), which needs no resolving. */
export function isFullCommitId(ref: string): boolean {
  return SHA.test(ref);
}

export function parseLsRemote(stdout: string): RemoteRefs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let target: string | undefined;
  for (const line of stdout.split('\n')) {
    const symref = /^ref: (\S+)\tHEAD$/.exec(line);
    if (symref) {
      target = symref[1];
      continue;
    }
    const entry = /^([0-9a-f]{40,64})\t(.+)$/.exec(line);
    if (!entry) continue;
    const [, commit, name] = entry as unknown as [string, string, string];
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), commit);
    else refs.set(name, commit);
  }
  const head = refs.get('HEAD');
  refs.delete('HEAD');
  const advertised = new Map(refs);
  // An annotated tag's own id is the tag object's; the commit is the peeled one.
  for (const [name, commit] of peeled) refs.set(name, commit);
  return { refs, advertised, ...(head ? { head: { commit: head, ...(target ? { target } : {}) } } : {}) };
}

/** refs/heads/main → main, refs/tags/v1 → v1; other names as they are. */
export function shortRef(name: string): string {
  return name.replace(/^refs\/(?:heads|tags|remotes)\//, '');
}

/**
 * Finds `ref` as git would (a full ref name, then a tag, then a branch) in
 * what the remote has. Unknown → an error listing the close names.
 */
export function resolveRemoteRef(remote: RemoteRefs, ref: string, url: string): ResolvedRef {
  if (isFullCommitId(ref)) return { commit: ref.toLowerCase() };
  if (ref === 'HEAD') {
    if (!remote.head) {
      throw new DeployrError(`${url} has no HEAD: the repository is empty, or its default branch is missing`, {
        hint: "push a commit to it, or set ref: '<branch>' in the git plugin's options",
      });
    }
    return { commit: remote.head.commit, ...(remote.head.target ? { ref: shortRef(remote.head.target) } : {}) };
  }
  const candidates = ref.startsWith('refs/') ? [ref] : [`refs/tags/${ref}`, `refs/heads/${ref}`];
  const found = candidates.filter((name) => remote.refs.has(name));
  const chosen = found[0];
  if (chosen !== undefined) {
    const warning = found.length > 1 ? `"${ref}" is both a tag and a branch of ${url}: deploying the tag, as git would (write refs/heads/${ref} for the branch)` : undefined;
    return { commit: remote.refs.get(chosen) as string, ref: shortRef(chosen), ...(warning ? { warning } : {}) };
  }
  const names = [...remote.refs.keys()].filter((name) => /^refs\/(heads|tags)\//.test(name)).map(shortRef);
  const abbreviated = /^[0-9a-f]{4,39}$/i.test(ref);
  throw new DeployrError(`${url} has no branch or tag "${ref}"${suggest(ref, names)}`, {
    hint: abbreviated
      ? 'an abbreviated commit id cannot be resolved before fetching: give the full commit id, a branch or a tag'
      : `branches and tags there: ${names.slice(0, 10).join(', ') || '(none)'}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`,
  });
}
