/**
 * Turns chunked command output into whole lines. Chunks end anywhere, so the
 * unfinished tail of each stream is kept (by key, e.g. host + command id +
 * stream) until its newline arrives or the command ends.
 */
export class LineSplitter {
  private readonly partial = new Map<string, string>();

  /**
   * @param maxPartial a tail longer than this is emitted as a line anyway:
   *   output without newlines (a progress bar, a minified file) must not grow
   *   memory without bound.
   */
  constructor(private readonly maxPartial = 64 * 1024) {}

  /** The complete lines `text` finishes, without their line endings. */
  push(key: string, text: string): string[] {
    const pending = this.partial.get(key);
    const all = pending === undefined ? text : pending + text;
    const lines = all.split('\n');
    const rest = lines.pop() ?? '';
    if (rest === '') this.partial.delete(key);
    else if (rest.length > this.maxPartial) {
      this.partial.delete(key);
      lines.push(rest);
    } else this.partial.set(key, rest);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1); // CRLF output
    }
    return lines;
  }

  /** The unfinished tail for `key`, if any, which is forgotten. */
  flush(key: string): string | undefined {
    const rest = this.partial.get(key);
    this.partial.delete(key);
    return rest === undefined ? undefined : rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  }

  /** Every unfinished tail whose key starts with `prefix` (all when omitted), forgotten. */
  flushAll(prefix = ''): Array<[key: string, rest: string]> {
    const out: Array<[string, string]> = [];
    for (const key of [...this.partial.keys()]) {
      if (!key.startsWith(prefix)) continue;
      out.push([key, this.flush(key)!]);
    }
    return out;
  }
}

/**
 * What a terminal would show for a line with carriage returns: the text after
 * the last one. Progress bars (`10%\r20%\r…`) then read as their final state
 * in CI logs instead of one unreadable line.
 */
export function afterLastCarriageReturn(line: string): string {
  const cr = line.lastIndexOf('\r');
  return cr === -1 ? line : line.slice(cr + 1);
}
