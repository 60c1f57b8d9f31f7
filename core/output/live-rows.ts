import type { HostState } from './live-model.js';

const worthARow = (host: HostState) => host.phase === 'running' || host.phase === 'connecting' || host.phase === 'failed';

/**
 * Which hosts get a row in the live view. While all fit, all do. Beyond
 * `cap` (the terminal's height, a configured maximum) only running and
 * failed hosts do, and the run row counts the rest: a frame taller than the
 * terminal cannot be erased and would smear down the screen.
 *
 * Rows stay put while they are worth showing, so the display does not
 * reshuffle on every event; freed rows go to the next running hosts in
 * host-list order, then to failed hosts. The cap is re-read every frame: a terminal made smaller
 * mid-run sheds running rows first, then failed ones.
 */
export class RowSelection {
  private readonly shown = new Set<HostState>();
  private cap = Infinity;

  constructor(private readonly hosts: readonly HostState[]) {}

  get collapsed(): boolean {
    return this.hosts.length > this.cap;
  }

  /** Hosts without a row. */
  get hidden(): number {
    return this.collapsed ? this.hosts.length - this.shown.size : 0;
  }

  has(host: HostState): boolean {
    return !this.collapsed || this.shown.has(host);
  }

  /** Recomputes the rows for `cap`; `changed` hears of every host whose row appeared or went. */
  update(cap: number, changed: (host: HostState) => void): void {
    const wasCollapsed = this.collapsed;
    this.cap = cap;
    if (wasCollapsed !== this.collapsed) {
      this.shown.clear();
      this.hosts.forEach(changed);
    }
    if (!this.collapsed) return;
    for (const host of this.shown) {
      if (!worthARow(host)) this.drop(host, changed);
    }
    if (this.shown.size > cap) {
      const newestFirst = [...this.shown].reverse();
      for (const host of [...newestFirst.filter((h) => h.phase !== 'failed'), ...newestFirst]) {
        if (this.shown.size <= cap) break;
        this.drop(host, changed);
      }
    }
    // Free rows go to running hosts, then to failed ones (which keep them: a failure stays in view).
    for (const wanted of [(h: HostState) => h.phase === 'running' || h.phase === 'connecting', (h: HostState) => h.phase === 'failed']) {
      for (const host of this.hosts) {
        if (this.shown.size >= cap) return;
        if (!this.shown.has(host) && wanted(host)) {
          this.shown.add(host);
          changed(host);
        }
      }
    }
  }

  /** A host just failed: it keeps its row, or gets a free one. @returns whether it has a row. */
  admitFailed(host: HostState): boolean {
    if (this.has(host)) return true;
    if (this.shown.size >= this.cap) return false;
    this.shown.add(host);
    return true;
  }

  private drop(host: HostState, changed: (host: HostState) => void): void {
    this.shown.delete(host);
    changed(host);
  }
}
