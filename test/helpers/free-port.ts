import net from 'node:net';

// A port the kernel just handed out and released. Another process could take it before
// the caller binds it; the window is milliseconds and ephemeral ports are handed out
// round-robin, so a collision is unlikely. Prefer listening on port 0 where the caller can.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
