// Running system commands (ip, ssh-keygen, nsenter, useradd …) without a shell,
// collecting output. `run` never throws on a non-zero exit; `runOk` does, with
// the command line and stderr in the message so failures explain themselves.
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code, or 128 + signal number if killed by a signal (shell convention). */
  code: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n[fleet] ${cmd} timed out after ${opts.timeoutMs} ms, killed`;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout, stderr, code: code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0) });
    });
    // A child that exits without reading stdin makes end() emit EPIPE: ignore it.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`\`${[cmd, ...args].join(' ')}\` exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}
