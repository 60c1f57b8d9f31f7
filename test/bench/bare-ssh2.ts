// The baseline the benchmark compares deployr's transport against: bare ssh2,
// one connection per host, nothing else (no host key check, no queueing, no
// ~/.ssh/config). setNoDelay is on here too, so the comparison measures
// deployr's overhead rather than Nagle's algorithm.
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { create as createTar } from 'tar';

export type BareClient = InstanceType<typeof ssh2.Client>;

export function bareConnect(address: string, port: number, user: string, keyFile: string): Promise<BareClient> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => {
      client.setNoDelay(true);
      resolve(client);
    });
    client.once('error', reject);
    client.connect({ host: address, port, username: user, privateKey: readFileSync(keyFile) });
  });
}

export function bareExec(client: BareClient, command: string, stdin?: NodeJS.ReadableStream): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      let code = -1;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.stderr.on('data', () => undefined);
      stream.on('exit', (exitCode: number) => (code = exitCode));
      stream.on('close', () => {
        if (code !== 0) reject(new Error(`bare exec failed (${code}): ${command}`));
        else resolve({ code, stdout: Buffer.concat(chunks).toString() });
      });
      if (stdin) stdin.pipe(stream);
      else stream.end();
    });
  });
}

/** The same tar-stream-into-`tar -x` a careful ssh2 user would write by hand. */
export function barePutDir(client: BareClient, localDir: string, remoteDir: string): Promise<unknown> {
  const pack = createTar({ cwd: localDir, portable: true }, ['.']);
  const quoted = `'${remoteDir.replace(/'/g, `'\\''`)}'`;
  return bareExec(client, `mkdir -p ${quoted} && tar -x -p --no-same-owner -f - -C ${quoted}`, pack as unknown as NodeJS.ReadableStream);
}

export interface BareReleaseSpec {
  hosts: Array<{ address: string; port: number }>;
  user: string;
  keyFile: string;
  /** Relative to the login directory, like a deployr deployTo. */
  deployTo: string;
  localDir: string;
  /** The release's directory name under releases/ (sortable by time, like deployr's run ids). */
  id: string;
  keep: number;
}

/**
 * The release benchmark's baseline: what `deployr deploy` does to a host,
 * written by hand. Every host gets releases/<id> as one tar stream first;
 * only then does any host switch (the same two phases as deployr), with a
 * symlink renamed over `current` and the oldest releases beyond `keep` removed.
 */
export async function bareRelease(spec: BareReleaseSpec): Promise<void> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const clients = await Promise.all(spec.hosts.map((h) => bareConnect(h.address, h.port, spec.user, spec.keyFile)));
  try {
    await Promise.all(clients.map((client) => barePutDir(client, spec.localDir, `${spec.deployTo}/releases/${spec.id}`)));
    const switchAndPrune =
      `cd ${q(spec.deployTo)} && rm -f current.next && ln -s ${q(`releases/${spec.id}`)} current.next && mv -T -f current.next current` +
      ` && cd releases && ls -1 | sort | head -n -${spec.keep} | xargs -r rm -rf --`;
    await Promise.all(clients.map((client) => bareExec(client, switchAndPrune)));
  } finally {
    clients.forEach((client) => client.end());
  }
}
