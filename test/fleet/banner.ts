// Readiness probe: a host is up when a TCP connect to it returns an SSH
// identification line ("SSH-2.0-OpenSSH_9.2p1 ..."). Cheaper and more exact
// than running the ssh client, and it needs no credentials.
import net from 'node:net';
import { sleep } from './procs.js';

/** One attempt: resolve with the banner line, reject on error/timeout/non-SSH reply. */
export function readBanner(address: string, port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    let buf = '';
    const done = (err: Error | null, banner?: string) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(banner ?? '');
    };
    const timer = setTimeout(() => done(new Error(`no SSH banner from ${address}:${port} within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl === -1) return;
      const line = buf.slice(0, nl).replace(/\r$/, '');
      if (line.startsWith('SSH-2.0-')) done(null, line);
      else done(new Error(`unexpected reply from ${address}:${port}: ${JSON.stringify(line.slice(0, 80))}`));
    });
    sock.on('error', (err) => done(err));
    sock.on('end', () => done(new Error(`${address}:${port} closed the connection before sending a banner`)));
  });
}

/** Retry readBanner until it succeeds or `timeoutMs` passes; rejects with the last error. */
export async function waitForBanner(address: string, port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await readBanner(address, port, Math.min(1000, Math.max(100, deadline - Date.now())));
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw last instanceof Error ? last : new Error(String(last));
    await sleep(25);
  }
}
