// A TCP relay on 127.0.0.1:<random port> to a fleet sshd: reaches a host on a
// port other than 22, and counts every TCP connection made to it.
import net from 'node:net';

export interface TcpRelay {
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Cuts every open connection (a dropped link). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(host: string, port: number): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect({ host, port });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listening = (server.address() as net.AddressInfo).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: listening,
    get connections() {
      return connections;
    },
    dropAll,
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
