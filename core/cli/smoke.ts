import { mkdtemp, mkdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, secret } from '../command/index.js';
import { Host, LocalConnection } from '../connection/index.js';

/**
 * Exercises the transport on this machine with no servers: commands with
 * hostile arguments, context helpers, a masked secret, and a directory
 * upload through tar. Prints what it did; throws on any mismatch.
 */
export async function smoke(log: (line: string) => void): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'deployr-smoke-'));
  const host = new Host(new LocalConnection({ name: 'local' }), {
    onEvent: (event) => {
      if (event.type === 'command:start') log(`[local] $ ${event.command}`);
    },
  });
  try {
    const hostile = `it's "quoted" $(echo no) \`echo no\` ; rm -rf /nonexistent`;
    const echoed = (await host.exec(cmd`printf '%s' ${hostile}`)).stdout;
    if (echoed !== hostile) throw new Error(`quoting failed: sent ${hostile}, got ${echoed}`);
    log(`[local] hostile string round-tripped unchanged`);

    const token = secret('s3cr3t-token', 'api token');
    const masked = await host.env({ TOKEN: token }).exec('test "${#TOKEN}" -eq 12 && echo token ok');
    log(`[local] ${masked.stdout.trim()} (the command line above shows *** instead of the token)`);

    const source = join(work, 'app');
    await mkdir(join(source, 'bin'), { recursive: true });
    await writeFile(join(source, 'index.html'), '<h1>hello from deployr</h1>\n');
    await writeFile(join(source, 'bin', 'start'), '#!/bin/sh\necho started\n');
    await chmod(join(source, 'bin', 'start'), 0o755);
    const target = join(work, 'release');
    const sent = await host.putDir(source, target);
    const started = await host.cd(target).exec('./bin/start');
    log(`[local] uploaded ${sent.entries} entries (${sent.bytes} bytes of tar); bin/start says "${started.stdout.trim()}"`);
    log('smoke test passed: the local transport works');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
