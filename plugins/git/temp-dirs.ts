import { rm } from 'node:fs/promises';
import type { SharedState } from 'deployr';

/**
 * Temporary directories on this machine, by run (its shared state), removed
 * by the done hook whether the run succeeded or not. One per plugin
 * instance, so two deployr instances in one process never remove each
 * other's.
 */
export class TempDirs {
  private readonly byRun = new WeakMap<SharedState, string[]>();

  add(run: SharedState, dir: string): void {
    const dirs = this.byRun.get(run) ?? [];
    dirs.push(dir);
    this.byRun.set(run, dirs);
  }

  async removeAll(run: SharedState): Promise<void> {
    const dirs = this.byRun.get(run) ?? [];
    this.byRun.delete(run);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
