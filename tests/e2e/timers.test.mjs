// Keep-alive, client timeout and handshake timeout on a raw WebSocket, with short timers so the test is
// quick; and the upstream guarantees beyond Azure: retried `connected` with one event id, and the
// circuit that answers invocations at once while a function is down.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients } from './lib/client.mjs';
import { RS, RawWebSocket, hubMessages } from './lib/rawws.mjs';
import { clientToken } from './lib/tokens.mjs';

async function rawConnection(stack, user = 'raw') {
  const token = clientToken(stack.gatewayUrl, stack.key, { user });
  const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const { connectionToken } = await res.json();
  const ws = await RawWebSocket.open(stack.gatewayUrl, `/client/?hub=e2e&id=${connectionToken}`,
    { authorization: `Bearer ${token}` });
  assert.equal(ws.status, 101);
  return ws;
}

/** A port on which nothing listens: connections to it are refused. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('timers', { timeout: 60_000 }, () => {
  let stack;
  before(async () => {
    stack = await startStack({
      gatewayArgs: ['--keepalive-interval', '1s', '--client-timeout', '3s', '--handshake-timeout', '1s'],
    });
  });
  after(() => stack?.stop());

  test('an idle connection receives keep-alive Pings', async () => {
    const ws = await rawConnection(stack);
    try {
      ws.sendText(`{"protocol":"json","version":1}${RS}`);
      assert.equal((await ws.next()).text, `{}${RS}`);
      // Nothing else is sent to this connection, so the next frame can only be a keep-alive Ping.
      const frame = await ws.next(5_000);
      assert.deepEqual(hubMessages([frame.text]), [{ type: 6 }]);
    } finally {
      ws.destroy();
    }
  });

  test('a client silent past the client timeout is closed with allowReconnect', async () => {
    const ws = await rawConnection(stack);
    try {
      ws.sendText(`{"protocol":"json","version":1}${RS}{"type":6}${RS}`);  // the first Ping arms the timeout
      const { texts } = await ws.readUntilClosed(10_000);
      const close = hubMessages(texts).find((m) => m.type === 7);
      assert.ok(close, `a Close message among ${JSON.stringify(texts)}`);
      assert.match(close.error, /ClientTimeoutInterval/);
      assert.equal(close.allowReconnect, true);
    } finally {
      ws.destroy();
    }
  });

  test('a socket that never completes the handshake is answered and freed', async () => {
    const ws = await rawConnection(stack);
    try {
      const { texts, close } = await ws.readUntilClosed(10_000);
      assert.deepEqual(texts, [`{"error":"Handshake was canceled."}${RS}`]);
      assert.ok(close.end || close.opcode === 8);
    } finally {
      ws.destroy();
    }
  });
});

describe('reliable upstream', { timeout: 60_000 }, () => {
  let stack;
  let clients;
  let deadPort;
  before(async () => {
    deadPort = await closedPort();
    // Hub "dead" goes to a port where nothing listens; everything else to the function.
    stack = await startStack({
      upstreamsFirst: [`hub=dead;url=http://127.0.0.1:${deadPort}/upstream`],
      gatewayArgs: ['--upstream-circuit-failures', '3'],
    });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  test('a connected the function fails twice is retried with the same event id and delivered', async () => {
    const c = await clients.connect({ user: 'retry', query: 'failConnected=2' });
    const id = c.connectionId;
    assert.equal(await c.invoke('echo', 'after retries'), 'after retries');
    const connected = (await functionEvents(stack, id)).filter((e) => e.event === 'connected');
    assert.equal(connected.length, 3, 'two failures, then success');
    assert.ok(connected[0].eventId, 'an event id');
    assert.ok(connected.every((e) => e.eventId === connected[0].eventId), 'the same id on every attempt');
    const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_upstream_retries_total [2-9]/m);
  });

  test('invocations to a dead function fail, then fail at once while its circuit is open', async () => {
    const c = await clients.connect({ user: 'dead', hub: 'dead' });
    const errors = [];
    for (let i = 0; i < 5 && !errors.some((e) => /unavailable/.test(e)); i++) {
      await assert.rejects(c.invoke('echo', i), (err) => { errors.push(err.message); return true; });
    }
    // The retried `connected` may already have opened the circuit: then even the first call is refused.
    for (const e of errors) assert.match(e, /Invocation failed, (status code 500|the function is unavailable\.)/);
    assert.ok(errors.some((e) => /Invocation failed, the function is unavailable/.test(e)), errors.join(' | '));
    const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_upstream_circuit_opened_total [1-9]/m);
    assert.match(metrics, /^switchboard_upstream_requests_total\{outcome="circuit_open"\} [1-9]/m);
  });
});
