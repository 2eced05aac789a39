// A TCP proxy on loopback that the tests control: it forwards every connection to a target port and can
// cut every live connection at once (both sides destroyed, no close handshake: what a Wi-Fi to cellular
// switch looks like to both ends), or refuse new connections for a while.

import net from 'node:net';

export async function startProxy(targetPort, { host = '127.0.0.1' } = {}) {
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(targetPort, host);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://${host}:${port}`,
    /** Live connections through the proxy. */
    get connections() { return pairs.size; },
    /** Destroys every live connection, both sides, without a close handshake. */
    cutAll() {
      // A reset on a socket whose writing side already ended fails (EINVAL) and leaves Node spinning at
      // exit: destroy that one instead.
      const cut = (socket) => (socket.writableEnded || !socket.resetAndDestroy ? socket.destroy() : socket.resetAndDestroy());
      for (const { client, upstream } of [...pairs]) {
        cut(client);
        cut(upstream);
      }
      pairs.clear();
    },
    /** While true, new connections are accepted and closed at once. */
    refuse(value) { refusing = value; },
    async stop() {
      this.cutAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
