// "Impossible to knock over": faults from the network, from clients and from functions. After each one
// a bystander connection (hub e2e, served by the real e2e-functions) still invokes and still receives a
// REST send, and the gateway's file descriptors (exactly) and resident memory (within 8 MiB) return to
// where they were before the fault.
//
// Bookkeeping that keeps the descriptor count exact: the bystander connects with skipNegotiation (no
// pooled fetch socket left behind), and the test's own REST calls go through node:http without an agent
// (Connection: close). So whatever the gateway still holds after a fault, the fault left behind.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import signalR from '@microsoft/signalr';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { nextMessages, recordMessages, withTimeout } from './lib/client.mjs';
import { startProxy } from './lib/proxy.mjs';
import { RS, RawWebSocket, hubMessages } from './lib/rawws.mjs';
import { clientToken, restToken } from './lib/tokens.mjs';
import { startFakeUpstream } from './lib/fakeupstream.mjs';
import { describeFds, resources, settles, tcpSockets } from './lib/resources.mjs';

const HANDSHAKE = `{"protocol":"json","version":1}${RS}`;

/** A port on which nothing listens: connections to it are refused. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A WebSocket HubConnection without negotiate (so no HTTP keep-alive socket lingers at the gateway). */
async function connectDirect(stack, { hub = 'e2e', user }) {
  const token = clientToken(stack.gatewayUrl, stack.key, { user, hub });
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${stack.gatewayUrl}/client/?hub=${hub}`, {
      accessTokenFactory: () => token,
      skipNegotiation: true,
      transport: signalR.HttpTransportType.WebSockets,
    })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await withTimeout(connection.start(), 10_000, `start() for ${user}`);
  return connection;
}

/** A REST POST over a fresh socket that the gateway closes after answering. Resolves to the status. */
function restPost(stack, pathAndQuery, json) {
  const url = `${stack.gatewayUrl}${pathAndQuery}`;
  const body = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      timeout: 10_000,
      headers: {
        authorization: `Bearer ${restToken(url, stack.key)}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${pathAndQuery}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a raw TCP socket to the gateway. */
function rawSocket(stack) {
  const { hostname, port } = new URL(stack.gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the milliseconds until `socket` is closed (by the peer: the test never ends it). */
function closedAfter(socket) {
  const start = Date.now();
  return new Promise((resolve) => {
    socket.on('error', () => {});
    socket.resume();  // read (and drop) what the gateway answers, or the end is never seen
    socket.on('close', () => resolve(Date.now() - start));
  });
}

describe('faults', { timeout: 240_000 }, () => {
  let stack;
  let fake;
  let bystander;
  let pid;
  let round = 0;
  const opened = [];  // sockets and connections a test opened, destroyed afterwards whatever happened

  /** The bystander invokes `echo` and receives a REST send to its connection. */
  async function bystanderWorks(label) {
    const n = `${label} ${++round}`;
    assert.equal(await withTimeout(bystander.invoke('echo', n), 5_000, `bystander echo during ${label}`), n);
    const got = nextMessages(bystander, 'fence', 1);
    assert.equal(await restPost(stack, `/api/v1/hubs/e2e/users/bystander`, { target: 'fence', arguments: [n] }), 202);
    assert.deepEqual(await got, [[n]]);
  }

  /**
   * The gateway's resources at rest: taken once it holds no idle upstream socket (the keep-alive pool
   * closes those within about 5 s), so that a fault can be measured against a state it must return to.
   */
  async function baselineAtRest() {
    await until(() => !tcpSockets(pid).some((s) => s.kind === 'outbound'),
      { timeoutMs: 15_000, what: `the gateway's idle upstream sockets to close:\n${describeFds(pid)}` });
    return resources(pid);
  }

  /** Checks the bystander once more, then waits until the gateway is back to `baseline`. */
  async function recovered(baseline, what) {
    await bystanderWorks(`after ${what}`);
    await settles(pid, baseline, { what });
  }

  before(async () => {
    fake = await startFakeUpstream({ slowMs: 10_000 });
    const deadPort = await closedPort();
    stack = await startStack({
      // Hub "faulty" goes to the fake function (its target "down" to a port where nothing listens); the
      // bystander's hub e2e goes to e2e-functions.
      upstreamsFirst: [
        `hub=faulty;category=messages;event=down;url=http://127.0.0.1:${deadPort}/upstream`,
        `hub=faulty;url=${fake.url}/upstream`,
      ],
      // Short enough to keep the test quick, long enough for the bystander's own handshake and echo on
      // a loaded two-core machine under AddressSanitizer (1 s was not).
      gatewayArgs: ['--handshake-timeout', '3s', '--upstream-timeout', '3s'],
    });
    pid = stack.gateway.child.pid;
    bystander = await connectDirect(stack, { user: 'bystander' });
    await bystanderWorks('warm-up');
  });

  afterEach(async (t) => {
    for (const o of opened.splice(0)) {
      if (o.stop) await withTimeout(o.stop(), 10_000, 'stop()').catch(() => {});
      else o.destroy();
    }
    if (t.passed === false && stack) {
      console.log(`--- after failure of "${t.name}" ---\ngateway stderr (tail):\n${stack.gatewayLog().slice(-6000)}\n` +
        `gateway descriptors:\n${describeFds(pid)}`);
    }
  });

  after(async () => {
    await bystander?.stop();
    await fake?.stop();
    await stack?.stop();
  });

  describe('the network', () => {
    test('a WebSocket frame cut in half by a dropped link ends only that connection', async () => {
      const baseline = await baselineAtRest();
      const proxy = await startProxy(Number(new URL(stack.gatewayUrl).port));
      opened.push({ stop: () => proxy.stop() });
      const token = clientToken(stack.gatewayUrl, stack.key, { user: 'cut' });
      const ws = await RawWebSocket.open(proxy.url, '/client/?hub=e2e', { authorization: `Bearer ${token}` });
      opened.push(ws);
      assert.equal(ws.status, 101);
      ws.sendText(HANDSHAKE);
      assert.equal((await ws.next()).text, `{}${RS}`);
      ws.sendText(`{"type":1,"invocationId":"0","target":"whoami","arguments":[]}${RS}`);
      const [{ result: { connectionId } }] = hubMessages([(await ws.next()).text]);

      const frame = ws.frameBytes(1, `{"type":1,"invocationId":"1","target":"echo","arguments":["${'x'.repeat(2000)}"]}${RS}`);
      ws.writeRaw(frame.subarray(0, frame.length >> 1));
      await until(() => proxy.connections === 1 && resources(pid).fds > baseline.fds, { what: 'the proxied socket' });
      proxy.cutAll();

      // The gateway notices the reset, ends the connection, and tells the function once.
      const events = await until(async () => {
        const evs = await functionEvents(stack, connectionId);
        return evs.some((e) => e.event === 'disconnected') && evs;
      }, { what: `disconnected of ${connectionId}` });
      assert.deepEqual(events.map((e) => e.event), ['connected', 'whoami', 'disconnected']);
      await bystanderWorks('a cut frame');
      await proxy.stop();
      await recovered(baseline, 'a WebSocket frame cut in half');
    });

    test('a handshake frame cut in half and then stalled is freed by the handshake timeout', async () => {
      const baseline = await baselineAtRest();
      const proxy = await startProxy(Number(new URL(stack.gatewayUrl).port));
      opened.push({ stop: () => proxy.stop() });
      const token = clientToken(stack.gatewayUrl, stack.key, { user: 'stalled-handshake' });
      const ws = await RawWebSocket.open(proxy.url, '/client/?hub=e2e', { authorization: `Bearer ${token}` });
      opened.push(ws);
      assert.equal(ws.status, 101);
      const frame = ws.frameBytes(1, HANDSHAKE);
      ws.writeRaw(frame.subarray(0, frame.length >> 1));
      await bystanderWorks('a stalled handshake frame');
      // The link stays up (the proxy holds it); only the gateway's timer can end this.
      const { texts, close } = await ws.readUntilClosed(10_000);
      assert.deepEqual(texts, [`{"error":"Handshake was canceled."}${RS}`]);
      assert.ok(close.end || close.opcode === 8);
      ws.destroy();
      await proxy.stop();
      await recovered(baseline, 'a stalled handshake frame');
    });

    for (const how of ['end', 'reset']) {
      test(`a REST POST whose body stops halfway and whose socket then closes (${how}) sends nothing`, async () => {
        const baseline = await baselineAtRest();
        const strays = recordMessages(bystander, 'halfway');
        const path = `/api/v1/hubs/e2e/users/bystander`;
        const body = JSON.stringify({ target: 'halfway', arguments: ['y'.repeat(4000)] });
        const socket = await rawSocket(stack);
        opened.push(socket);
        const closed = closedAfter(socket);
        socket.write(`POST ${path} HTTP/1.1\r\nHost: ${new URL(stack.gatewayUrl).host}\r\n` +
          `Authorization: Bearer ${restToken(`${stack.gatewayUrl}${path}`, stack.key)}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, body.length >> 1)}`);
        await until(() => resources(pid).fds > baseline.fds, { what: 'the gateway to accept the socket' });
        if (how === 'end') socket.end(); else socket.resetAndDestroy();
        await closed;
        await bystanderWorks('a half body');  // the fence: a stray 'halfway' would have arrived before it
        assert.deepEqual(strays, []);
        await recovered(baseline, `a half REST body then ${how}`);
      });
    }
  });

  describe('slow and silent clients', () => {
    test('a stalled REST body is cut by the minimum body rate, a slowloris request line by the header deadline', { timeout: 60_000 }, async () => {
      const baseline = await baselineAtRest();
      const path = `/api/v1/hubs/e2e/users/bystander`;
      const host = new URL(stack.gatewayUrl).host;

      const stalled = await rawSocket(stack);
      opened.push(stalled);
      const stalledClosed = closedAfter(stalled);
      stalled.write(`POST ${path} HTTP/1.1\r\nHost: ${host}\r\n` +
        `Authorization: Bearer ${restToken(`${stack.gatewayUrl}${path}`, stack.key)}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"target":"halfway","argu');

      // One byte every 250 ms: 40 bytes in 10 s, never reaching the end of the request line.
      const slow = await rawSocket(stack);
      opened.push(slow);
      const slowClosed = closedAfter(slow);
      const requestLine = `GET /api/v1/health?${'a'.repeat(400)} HTTP/1.1\r\n`;
      let sent = 0;
      const trickle = setInterval(() => {
        if (!slow.destroyed && sent < requestLine.length) slow.write(requestLine[sent++]);
      }, 250);
      try {
        await bystanderWorks('a stalled body and a slowloris');
        const [stalledMs, slowMs] = await Promise.all([stalledClosed, slowClosed]);
        // A body gets 5 s of grace, then must keep up 240 bytes/s (--min-body-rate): 25 bytes buy ~0.1 s.
        assert.ok(stalledMs >= 4_500 && stalledMs < 15_000, `stalled body closed after ${stalledMs} ms`);
        // An anonymous socket gets --header-timeout (10 s) for its header: trickling does not extend it.
        assert.ok(slowMs >= 9_000 && slowMs < 20_000, `slowloris closed after ${slowMs} ms`);
        assert.ok(sent < requestLine.length, 'the slowloris was still trickling when it was cut');
      } finally {
        clearInterval(trickle);
      }
      await recovered(baseline, 'a stalled body and a slowloris');
    });

    test('a flood of 300 half-open sockets starves nobody and is freed when it leaves', async () => {
      const baseline = await baselineAtRest();
      const flood = [];
      for (let i = 0; i < 300; i++) {
        const s = await rawSocket(stack);
        s.on('error', () => {});
        opened.push(s);
        flood.push(s);
      }
      await until(() => resources(pid).fds >= baseline.fds + 300, { what: 'the gateway to accept all 300 sockets' });
      await bystanderWorks('a half-open flood');
      const newcomer = await connectDirect(stack, { user: 'newcomer' });
      opened.push(newcomer);
      assert.equal(await newcomer.invoke('echo', 'in the flood'), 'in the flood');
      await newcomer.stop();
      for (const s of flood) s.destroy();
      await recovered(baseline, 'a flood of 300 half-open sockets');
    });

    test('50 WebSockets that never send the handshake are all freed by the handshake timeout', async () => {
      const baseline = await baselineAtRest();
      const token = clientToken(stack.gatewayUrl, stack.key, { user: 'silent' });
      const sockets = await Promise.all(Array.from({ length: 50 },
        () => RawWebSocket.open(stack.gatewayUrl, '/client/?hub=e2e', { authorization: `Bearer ${token}` })));
      opened.push(...sockets);
      for (const ws of sockets) assert.equal(ws.status, 101);
      await bystanderWorks('50 silent WebSockets');
      // The test keeps its end open (and never answers the close): the gateway alone must let go.
      const ends = await Promise.all(sockets.map((ws) => ws.readUntilClosed(15_000)));
      for (const { texts } of ends) assert.deepEqual(texts, [`{"error":"Handshake was canceled."}${RS}`]);
      await settles(pid, baseline, { what: '50 silent WebSockets (test side still open)' });
      for (const ws of sockets) ws.destroy();
      await recovered(baseline, '50 silent WebSockets');
    });
  });

  describe('a misbehaving function', () => {
    const FAULTS = [
      ['down', 'connection refused', 'Invocation failed, status code 500'],
      ['slow', 'a reply after the upstream timeout', 'Invocation failed, response cancelled.'],
      ['garbage', 'application/json that is not JSON', 'Invocation failed, invalid reply.'],
      ['notRecords', 'verbatim records that are not hub messages', 'Invocation failed, invalid reply.'],
      ['huge', '20 MB with a Content-Length', 'Invocation failed, response too large.'],
      ['hugeChunked', '20 MB chunked', 'Invocation failed, response too large.'],
      ['kill', 'the socket destroyed after the request was read', 'Invocation failed, status code 500'],
    ];
    for (const [target, what, error] of FAULTS) {
      test(`${what} (${target}): the caller gets "${error}" and keeps its connection`, async () => {
        const baseline = await baselineAtRest();
        const c = await connectDirect(stack, { hub: 'faulty', user: `faulty-${target}` });
        opened.push(c);
        const before = fake.requests.filter((r) => r.event === target).length;
        await assert.rejects(withTimeout(c.invoke(target, 'arg'), 15_000, `invoke ${target}`), (err) => {
          assert.equal(err.message, error);
          return true;
        });
        if (target !== 'down') {
          // A message is delivered at most once: nothing retries it behind the function's back.
          assert.equal(fake.requests.filter((r) => r.event === target).length - before, 1, `${target} requests the function read`);
        }
        assert.equal(c.state, signalR.HubConnectionState.Connected);
        assert.equal(await withTimeout(c.invoke('ok', 'still here'), 5_000, 'invoke ok'), 'still here');
        await bystanderWorks(what);
        await c.stop();
        await recovered(baseline, `${target} (${what})`);
      });
    }
  });
});
