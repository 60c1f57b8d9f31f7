import { appendFile } from 'node:fs/promises';

export interface AppenderOptions {
  /** Settles before the first write (e.g. the directory being created). */
  ready?: Promise<unknown>;
  /** Longest time text waits in memory. Default 200 ms. */
  flushMs?: number;
  /** Flush early once this many characters are waiting. Default 1 MiB. */
  highWater?: number;
  /** Files written at once. Default 16. */
  parallel?: number;
  /** Mode of files this creates. Default 0o600: logs hold command output. */
  fileMode?: number;
  /** A failed write. The text is dropped; later writes still try. */
  onError?: (error: unknown, path: string) => void;
}

/**
 * Appends text to many files without a write per line. Text collects in
 * memory per file and goes out as one appendFile per file per flush: a
 * 150-host run with chatty commands costs a few hundred syscalls a second, not
 * one per output line, the event loop never waits on the disk, and no
 * descriptor stays open between flushes (1000 hosts must not mean 1000 fds
 * next to 1000 SSH sockets). Flushes run one after another, so each file
 * receives its text in order.
 */
export class BufferedAppender {
  private pending = new Map<string, string[]>();
  private waiting = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void>;
  private readonly flushMs: number;
  private readonly highWater: number;
  private readonly parallel: number;
  private readonly fileMode: number;
  private readonly onError: (error: unknown, path: string) => void;

  constructor(options: AppenderOptions = {}) {
    this.flushMs = options.flushMs ?? 200;
    this.highWater = options.highWater ?? 1024 * 1024;
    this.parallel = options.parallel ?? 16;
    this.fileMode = options.fileMode ?? 0o600;
    this.onError = options.onError ?? (() => {});
    this.chain = Promise.resolve(options.ready).then(
      () => {},
      () => {}, // whoever made `ready` reports its failure; the writes will fail and say so too
    );
  }

  append(path: string, text: string): void {
    let chunks = this.pending.get(path);
    if (chunks === undefined) this.pending.set(path, (chunks = []));
    chunks.push(text);
    this.waiting += text.length;
    if (this.waiting >= this.highWater) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes everything appended so far; resolves when it is on disk (or failed). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      const batch = [...this.pending];
      this.pending = new Map();
      this.waiting = 0;
      this.chain = this.chain.then(() => this.write(batch));
    }
    return this.chain;
  }

  private async write(batch: Array<[string, string[]]>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const [path, chunks] = batch[next++]!;
        try {
          await appendFile(path, chunks.join(''), { mode: this.fileMode });
        } catch (error) {
          this.onError(error, path);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.parallel, batch.length) }, worker));
  }
}
