// A load balancer on loopback WITHOUT affinity, in front of several gateways (ports on `host`).
//
// mode 'request' (default): HTTP-level round robin. Every HTTP request, also the second and later ones
// on a client's keep-alive connection, goes to the next target in turn, over a fresh upstream TCP
// connection (`agent: false`, `Connection: close` upstream, nothing pooled). Method, path and headers are
// copied (the client's Host header as is; hop-by-hop headers are not forwarded), request and response
// bodies are streamed, never buffered, so Server-Sent Events and long polls flow as they come. An upstream
// that cannot be reached gives 502. A WebSocket upgrade picks the next target too, gets the original
// request head and the bytes read after it, and is then piped both ways.
//
// mode 'connection': TCP-level round robin (like lib/proxy.mjs, over several targets): each client
// connection goes to the next target for all its requests.
//
// hold() parks every new request, upgrade (mode 'request') or connection (mode 'connection') unrouted, its
// client left waiting, until release() routes them all to the targets of that moment: a client whose
// network is down, or a balancer queueing while no backend is healthy, whose request arrives late.
//
// counts[port] is how many requests (mode 'request', upgrades included) or connections (mode 'connection')
// went to that target; routes lists the last ones routed ({n, port, kind, method, path, status}) for
// assertions and failure messages, the `id` and `access_token` values cut out.

import http from 'node:http';
import net from 'node:net';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const ROUTES_KEPT = 2_000;

/** rawHeaders ([name, value, name, value…]) without hop-by-hop headers and those named in Connection. */
function endToEnd(rawHeaders) {
  const named = new Set(HOP_BY_HOP);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'connection') {
      for (const token of rawHeaders[i + 1].split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!named.has(rawHeaders[i].toLowerCase())) out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** The path for the routes log, without secrets. */
function shownPath(url) {
  return url.replace(/([?&](?:id|access_token)=)[^&]*/g, '$1…');
}

/**
 * Starts the balancer in front of `targetPorts`. Resolves to
 * {port, url, mode, targets, counts, routes, setTargets(ports), cutAll(), stop()}.
 */
export async function startBalancer(targetPorts, { host = '127.0.0.1', mode = 'request' } = {}) {
  if (mode !== 'request' && mode !== 'connection') throw new Error(`startBalancer: unknown mode ${mode}`);
  let targets = [...targetPorts];
  let next = 0;
  const counts = {};
  for (const port of targets) counts[port] = 0;
  const routes = [];
  let routed = 0;
  const sockets = new Set();

  const track = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  /** The next target (counted), or undefined when there is none. */
  const pick = () => {
    if (!targets.length) return undefined;
    const port = targets[next % targets.length];
    next = (next + 1) % targets.length;
    counts[port] = (counts[port] ?? 0) + 1;
    return port;
  };
  const route = (entry) => {
    routed += 1;
    entry.n = routed;
    routes.push(entry);
    if (routes.length > ROUTES_KEPT) routes.shift();
    return entry;
  };

  // While held: what to run, in arrival order, at release().
  let held;
  const parked = (route, socketOf) => (...args) => {
    if (!held) return route(...args);
    const socket = socketOf(...args);
    track(socket); // stop() and cutAll() reach it while it waits
    socket.on('error', () => socket.destroy());
    held.push(() => {
      if (!socket.destroyed) route(...args); // a client that gave up meanwhile is not routed
    });
  };

  let server;
  if (mode === 'request') {
    server = http.createServer(parked((req, res) => {
      const port = pick();
      const entry = route({ port, kind: 'http', method: req.method, path: shownPath(req.url), status: undefined });
      if (port === undefined) {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' }).end('no targets');
        return;
      }
      const upstream = http.request({
        host,
        port,
        method: req.method,
        path: req.url,
        headers: [...endToEnd(req.rawHeaders), 'Connection', 'close'],
        setHost: false,
        agent: false,
      });
      upstream.on('socket', track);
      upstream.on('response', (upRes) => {
        entry.status = upRes.statusCode;
        res.writeHead(upRes.statusCode, upRes.statusMessage, endToEnd(upRes.rawHeaders));
        res.flushHeaders(); // an event stream's headers go out before its first event
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
        upRes.on('aborted', () => res.destroy());
      });
      let clientLeft = false;
      upstream.on('error', (err) => {
        if (clientLeft) return; // cut below because the client aborted (a poll it stopped): no status
        if (!res.headersSent) {
          entry.status = 502;
          res.writeHead(502, { 'content-type': 'text/plain' }).end(`balancer: ${err.message}`);
        } else {
          res.destroy();
        }
      });
      // The client went away (or was cut) before the answer ended: so does the upstream request.
      res.on('close', () => {
        if (res.writableFinished) return;
        clientLeft = true;
        upstream.destroy();
      });
      req.on('error', () => upstream.destroy());
      req.pipe(upstream);
    }, (req) => req.socket));
    server.requestTimeout = 0; // a long request body is the client's business
    server.on('connection', track);
    server.on('upgrade', parked((req, socket, head) => {
      const port = pick();
      const entry = route({ port, kind: 'upgrade', method: req.method, path: shownPath(req.url), status: undefined });
      socket.on('error', () => socket.destroy());
      if (port === undefined) {
        entry.status = 502;
        socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = net.connect(port, host);
      track(upstream);
      let connected = false;
      upstream.on('connect', () => {
        connected = true;
        let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
        for (let i = 0; i < req.rawHeaders.length; i += 2) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
        upstream.write(`${text}\r\n`);
        if (head?.length) upstream.write(head);
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
      // The status line, for the routes log.
      upstream.once('data', (chunk) => {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16));
        entry.status = m ? Number(m[1]) : undefined;
      });
      const end = () => {
        socket.destroy();
        upstream.destroy();
      };
      upstream.on('error', () => {
        if (!connected && socket.writable) {
          entry.status = 502;
          socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          upstream.destroy();
          return;
        }
        end();
      });
      upstream.on('close', end);
      socket.on('close', end);
    }, (req, socket) => socket));
  } else {
    server = net.createServer(parked((client) => {
      track(client);
      const port = pick();
      route({ port, kind: 'connection', method: undefined, path: undefined, status: undefined });
      if (port === undefined) return client.destroy();
      const upstream = net.connect(port, host);
      track(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    }, (client) => client));
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address();
  return {
    port,
    url: `http://${host}:${port}`,
    mode,
    /** The current target ports. */
    get targets() { return [...targets]; },
    /** Per target port: requests (mode 'request') or connections (mode 'connection') routed to it. */
    counts,
    /**
     * The last routed requests/connections: {n (1, 2, 3… over the balancer's life), port, kind ('http' |
     * 'upgrade' | 'connection'), method, path, status}.
     */
    routes,
    /** How many requests/connections were routed so far (the last entry's n). */
    get routed() { return routed; },
    /** Replaces the targets (e.g. a successor gateway on a new port); live connections stay where they are. */
    setTargets(ports) {
      targets = [...ports];
      next = 0;
      for (const p of targets) counts[p] ??= 0;
    },
    /** From now on, new requests, upgrades and connections wait unrouted (their clients too) until release(). */
    hold() {
      held ??= [];
    },
    /** Routes everything parked since hold(), in arrival order, to the current targets; stops holding. */
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const route of waiting) route();
    },
    /** How many requests/upgrades/connections are parked now (0 when not holding). */
    get parked() { return held?.length ?? 0; },
    /** Destroys every live socket, client and upstream sides, without a close handshake. */
    cutAll() {
      for (const socket of [...sockets]) {
        // A reset on a socket whose writing side already ended (pipe() ends it after the other side's FIN)
        // fails with EINVAL and leaves Node spinning at exit: destroy that one instead.
        if (socket.resetAndDestroy && !socket.destroyed && socket._handle && !socket.writableEnded) socket.resetAndDestroy();
        else socket.destroy();
      }
      sockets.clear();
    },
    async stop() {
      this.cutAll();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
