import { and, cmd } from '../command/index.js';
import type { Host } from '../connection/host.js';
import { cdArg, pathArg } from '../connection/paths.js';
import type { LockHolder } from '../errors.js';
import { LOCK_FILE, META_DIR, RELEASES_DIR, SHARED_DIR } from './layout.js';
import { parseLockHolder } from './lock-file.js';

export type LockAttempt = { readonly taken: true } | { readonly taken: false; readonly holder: LockHolder | 'unreadable' | undefined };

/**
 * Takes the lock on one host, atomically: the holder record goes into a
 * file of its own, which is then hard-linked to the lock's name; `ln` fails
 * when the lock exists, so two runs can never both succeed. Makes the
 * layout's directories on the way (a first deploy).
 */
export async function tryLock(host: Host, deployTo: string, holder: LockHolder, signal?: AbortSignal): Promise<LockAttempt> {
  const mine = `${META_DIR}/lock.${holder.runId}`;
  const script = and(
    cmd`mkdir -p -- ${pathArg(deployTo)}`,
    cmd`cd ${cdArg(deployTo)}`,
    cmd`mkdir -p ${META_DIR} ${RELEASES_DIR} ${SHARED_DIR}`,
    cmd`printf '%s\\n' ${JSON.stringify(holder)} > ${mine}`,
    cmd`if ln ${mine} ${LOCK_FILE} 2>/dev/null; then rm -f ${mine}; echo taken; else rm -f ${mine}; printf 'held '; tr -d '\\n' < ${LOCK_FILE}; echo; fi`,
  );
  const { stdout } = await host.exec(script, { quiet: true, ...(signal ? { signal } : {}) });
  const line = stdout.trim();
  if (line === 'taken') return { taken: true };
  const current = parseLockHolder(line.replace(/^held /, ''));
  if (current?.runId === holder.runId) return { taken: true };
  return { taken: false, holder: current ?? (line.startsWith('held ') && line.length > 5 ? 'unreadable' : undefined) };
}

/** Removes the lock if this run holds it; another run's lock is never touched. */
export async function releaseLock(host: Host, deployTo: string, runId: string, signal?: AbortSignal): Promise<boolean> {
  const ours = `"runId":${JSON.stringify(runId)}`;
  const script = cmd`cd ${cdArg(deployTo)} 2>/dev/null || exit 0; if grep -qF ${ours} ${LOCK_FILE} 2>/dev/null; then rm -f ${LOCK_FILE} && echo released; fi`;
  const { stdout } = await host.exec(script, { quiet: true, ...(signal ? { signal } : {}) });
  return stdout.trim() === 'released';
}

/** Removes whatever lock there is (`deployr unlock`) and says whose it was. */
export async function breakLock(host: Host, deployTo: string, signal?: AbortSignal): Promise<{ removed: boolean; holder: LockHolder | 'unreadable' | undefined }> {
  const script = cmd`cd ${cdArg(deployTo)} 2>/dev/null || exit 0; if [ -f ${LOCK_FILE} ]; then printf 'held '; tr -d '\\n' < ${LOCK_FILE}; echo; rm -f ${LOCK_FILE}; fi`;
  const { stdout } = await host.exec(script, { quiet: true, ...(signal ? { signal } : {}) });
  const line = stdout.trim();
  if (!line.startsWith('held')) return { removed: false, holder: undefined };
  return { removed: true, holder: parseLockHolder(line.slice(5)) ?? 'unreadable' };
}
