/**
 * Terminal columns of text, cheaply. A live frame must never wrap (the
 * renderer erases exactly as many lines as it drew), but measuring width
 * with grapheme segmentation per character is what made listr2's renderer
 * slow. So: ASCII is one column per character; wide scripts and emoji count
 * two; everything else one. Overestimating only truncates a little early.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2600 && cp <= 0x27bf) || // symbols and dingbats, often drawn as emoji
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f000 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

export function columns(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const char of text) width += isWide(char.codePointAt(0)!) ? 2 : 1;
  return width;
}

/** At most `width` columns, with `…` when cut. */
export function truncateColumns(text: string, width: number): string {
  if (width <= 0) return '';
  if (PRINTABLE_ASCII.test(text)) return text.length <= width ? text : text.slice(0, width - 1) + '…';
  if (columns(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = isWide(char.codePointAt(0)!) ? 2 : 1;
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return out + '…';
}

/** Removes escape sequences and control characters: command output must not move the cursor inside a frame. */
export function printable(text: string): string {
  return text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]/g, '')
    .replace(/[\x00-\x1f\x7f-\x9f]/g, '');
}
