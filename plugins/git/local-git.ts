import { execFile } from 'node:child_process';
import { DeployrError } from 'deployr';

export interface LocalGitResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs git (or tar) on this machine with an argument array: no shell, so
 * nothing in a ref, a path or a URL is ever interpreted. Output in the C
 * locale (parsed here), no optional index locks (a read must not rewrite
 * the index under an editor), never a credential prompt.
 */
export function runLocal(program: 'git' | 'tar', args: readonly string[], options: { cwd?: string; signal?: AbortSignal } = {}): Promise<LocalGitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      {
        env: { ...process.env, LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0' },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout, stderr) => {
        if (options.signal?.aborted) return reject(options.signal.reason as Error);
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT' || code === 'EACCES') {
          // The program itself could not run (a non-zero exit has a numeric code).
          return reject(
            new DeployrError(`cannot run ${program} on this machine: ${(error as Error).message}`, {
              hint: `install ${program} (the git plugin runs it locally)`,
              cause: error,
            }),
          );
        }
        resolve({ ok: !error, stdout, stderr });
      },
    );
  });
}

/** git's stdout, or a DeployrError with `what` failed, git's last stderr lines and `hint`. */
export async function gitOk(args: readonly string[], what: string, hint: string, signal?: AbortSignal): Promise<string> {
  const result = await runLocal('git', args, signal ? { signal } : {});
  if (!result.ok) throw new DeployrError(`${what}: ${tail(result.stderr)}`, { hint });
  return result.stdout;
}

/** The last few lines of a program's stderr, for a message. */
export function tail(stderr: string, lines = 4): string {
  const kept = stderr.trim().split('\n').slice(-lines).join('\n');
  return kept === '' ? '(no output)' : kept;
}
