import net from 'node:net';

// A TCP proxy that can go away and come back on the same port: refuse() resets every open
// connection and stops listening, so new connections get ECONNREFUSED as from a dead
// server; accept() listens again. Clients keep their configured address throughout.
export interface FlakyProxy {
  port: number;
  url(pathname?: string): string;
  refuse(): Promise<void>;
  accept(): Promise<void>;
  // Connections made since start, for asserting that clients really reconnected.
  connections(): number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: { host: string; port: number }): Promise<FlakyProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;

  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(target);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;

  const resetAll = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };

  return {
    port,
    url: (pathname = '') => `redis://127.0.0.1:${port}${pathname}`,
    async refuse() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      resetAll();
      await closed;
    },
    async accept() {
      if (server.listening) return;
      await listen(port);
    },
    connections: () => accepted,
    async close() {
      resetAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
