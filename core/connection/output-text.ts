import { StringDecoder } from 'node:string_decoder';
import { maskSecretValues } from '../command/index.js';

/**
 * One output stream of a command: decodes UTF-8 without splitting
 * characters across chunks, keeps the full text for the result, and emits
 * masked text as it arrives. A secret can straddle two chunks, so while
 * secrets are known the last (longest secret − 1) characters are held back
 * until the next chunk shows whether they start a secret.
 */
export class OutputText {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];
  private readonly secrets: string[];
  private readonly holdBack: number;
  private carry = '';

  constructor(secrets: Iterable<string>, private readonly emit: (masked: string) => void) {
    this.secrets = [...secrets].filter((value) => value.length > 0);
    this.holdBack = Math.max(0, ...this.secrets.map((value) => value.length - 1));
  }

  push = (chunk: Buffer): void => {
    this.feed(this.decoder.write(chunk));
  };

  /** Flushes what was held back; returns the whole, unmasked text. */
  end(): string {
    this.feed(this.decoder.end());
    if (this.carry) this.emit(maskSecretValues(this.carry, this.secrets));
    this.carry = '';
    return this.parts.join('');
  }

  private feed(text: string): void {
    if (!text) return;
    this.parts.push(text);
    if (this.secrets.length === 0) {
      this.emit(text);
      return;
    }
    const buffer = this.carry + text;
    const cut = this.safeCut(buffer, Math.max(0, buffer.length - this.holdBack));
    if (cut > 0) this.emit(maskSecretValues(buffer.slice(0, cut), this.secrets));
    this.carry = buffer.slice(cut);
  }

  /** Moves the cut back to the start of any secret that crosses it. */
  private safeCut(buffer: string, initial: number): number {
    let cut = initial;
    for (let moved = true; moved; ) {
      moved = false;
      for (const value of this.secrets) {
        for (let at = buffer.indexOf(value, Math.max(0, cut - value.length + 1)); at >= 0 && at < cut; at = buffer.indexOf(value, at + 1)) {
          if (at + value.length > cut) {
            cut = at;
            moved = true;
          }
        }
      }
    }
    return cut;
  }
}
