// A function service in node:http that misbehaves on purpose. Each invocation's target (the
// X-ASRS-Event header) picks what it does, so one server gives every fault:
//
//   ok(x)        200 application/json {"result": x}: a healthy answer, for "the connection still works"
//   slow         the same answer, but only after `slowMs` (longer than the gateway's --upstream-timeout)
//   garbage      200 application/json whose body is not JSON
//   notRecords   200 text/plain ending with 0x1E (so read as verbatim records) that are not hub messages
//   huge         200 application/json with Content-Length of `hugeBytes` (20 MB), the body streamed
//   hugeChunked  the same, chunked: no length announced, the gateway must count as it reads
//   kill         reads the whole request, then destroys the socket without a response
//
// `connected` and `disconnected` get 204. Every request is recorded ({event, connectionId}); `stop()`
// closes the listener and every socket, and clears pending timers.

import http from 'node:http';

export async function startFakeUpstream({ slowMs = 2_500, hugeBytes = 20 * 1000 * 1000 } = {}) {
  const requests = [];
  const timers = new Set();
  const sockets = new Set();
  const waiters = [];

  const server = http.createServer((req, res) => {
    res.on('error', () => {});  // the gateway may hang up mid-answer: that is the point
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const event = req.headers['x-asrs-event'];
      const record = { event, connectionId: req.headers['x-asrs-connection-id'], body: Buffer.concat(chunks).toString('utf8') };
      requests.push(record);
      for (const w of waiters.splice(0)) w();
      answer(event, record.body, req, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function json(res, value) {
    const body = JSON.stringify(value);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function streamHuge(res, chunked) {
    const headers = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = hugeBytes;
    res.writeHead(200, headers);
    const piece = Buffer.alloc(64 * 1024, 'x');
    let left = hugeBytes;
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        const n = Math.min(piece.length, left);
        left -= n;
        if (!res.write(n === piece.length ? piece : piece.subarray(0, n))) return res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }

  function answer(event, body, req, res) {
    switch (event) {
      case 'connected':
      case 'disconnected':
        res.writeHead(204);
        return res.end();
      case 'ok': {
        let args = [];
        try { args = JSON.parse(body).arguments ?? []; } catch { /* answered with null */ }
        return json(res, { result: args[0] ?? null });
      }
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) json(res, { result: 'too late' });
        }, slowMs);
        timers.add(timer);
        return undefined;
      }
      case 'garbage': {
        const text = 'this is <not> json at all {';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
        return res.end(text);
      }
      case 'notRecords': {
        const text = 'hello\x1e{"type":99}\x1e';
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': text.length });
        return res.end(text);
      }
      case 'huge': return streamHuge(res, false);
      case 'hugeChunked': return streamHuge(res, true);
      case 'kill': return req.socket.destroy();
      default:
        res.writeHead(404);
        return res.end();
    }
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Resolves once a request for `event` has been read completely (it may not be answered yet). */
    async received(event, { timeoutMs = 10_000 } = {}) {
      const deadline = performance.now() + timeoutMs;
      while (!requests.some((r) => r.event === event)) {
        if (performance.now() > deadline) throw new Error(`the fake upstream got no '${event}' request within ${timeoutMs} ms`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, Math.max(1, deadline - performance.now()));
          waiters.push(() => { clearTimeout(t); resolve(); });
        });
      }
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
