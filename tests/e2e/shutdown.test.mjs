// Graceful shutdown (PROTOCOL part 3 §3.6): SIGTERM with clients connected. Mode `reconnect` sends the
// configured message, closes every connection with allowReconnect:true spread over the window, exits 0,
// and a new gateway on the same port takes the automatically reconnecting clients back. Mode `wait` stays
// up while clients are connected and exits when the last leaves, or closes them at the timeout.

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { READY, functionEvents, startProgram, startStack, until } from './lib/processes.mjs';
import { Clients, HubConnectionState, nextMessages, withTimeout } from './lib/client.mjs';

// Retry quickly and for a while: the successor starts while the old gateway drains.
const quickRetry = { nextRetryDelayInMilliseconds: (ctx) => (ctx.elapsedMilliseconds < 30_000 ? 100 : null) };

async function disconnectedOnce(stack, connectionId) {
  return until(async () => {
    const events = await functionEvents(stack, connectionId);
    return events.some((e) => e.event === 'disconnected') ? events : undefined;
  }, { what: `the disconnected event of ${connectionId}` });
}

/** Resolves once the gateway logged that it started draining (it can't be asked: it stopped accepting). */
function shutdownStarted(stack) {
  return until(() => stack.gateway.stderr().includes('shutdown_started'), { what: 'shutdown_started in the gateway log' });
}

describe('graceful shutdown', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  let successor;
  afterEach(async (t) => {
    await clients?.cleanUp(t);
    await successor?.stop();
    await stack?.stop();
    stack = clients = successor = undefined;
  });

  test('reconnect mode: message to all, spread closes, exit 0, clients return to a new gateway on the port', async () => {
    const spreadMs = 2_000;
    stack = await startStack({
      gatewayArgs: ['--threads', '2', '--shutdown-spread', `${spreadMs}ms`, '--shutdown-timeout', '10s',
        '--shutdown-target', 'serverLeaving', '--shutdown-arguments', '["maintenance", 30]'],
    });
    clients = new Clients(stack);
    const transports = ['WebSockets', 'WebSockets', 'ServerSentEvents', 'LongPolling'];
    const conns = [];
    for (let i = 0; i < 8; i++) {
      conns.push(await clients.connect({ user: `herd${i}`, transport: transports[i % transports.length], reconnect: quickRetry }));
    }
    const oldIds = conns.map((c) => c.connectionId);
    const leaving = conns.map((c) => nextMessages(c, 'serverLeaving', 1, { timeoutMs: 15_000 }));
    const closedAt = conns.map((c) => new Promise((resolve) => c.onreconnecting(() => resolve(Date.now()))));
    const reconnected = conns.map((c) => new Promise((resolve) => c.onreconnected((id) => resolve(id))));

    const port = new URL(stack.gatewayUrl).port;
    const stopping = stack.gateway.stop({ graceMs: 20_000 });
    await shutdownStarted(stack);
    // The old gateway still holds established connections on this port: binding needs SO_REUSEADDR.
    successor = await startProgram('switchboard', ['--listen', `127.0.0.1:${port}`, '--access-key', stack.key,
      '--upstream', `${stack.functionsUrl}/upstream`], { ready: READY.gateway, name: 'successor' });

    const end = await stopping;
    assert.equal(end.killed, false, 'the old gateway exited on its own');
    assert.equal(end.code, 0, `exit code ${end.code} (signal ${end.signal})`);

    for (const got of await Promise.all(leaving)) assert.deepEqual(got, [['maintenance', 30]]);

    const times = await withTimeout(Promise.all(closedAt), 15_000, 'every client saw its connection close');
    const span = Math.max(...times) - Math.min(...times);
    // 8 closes over 2 s on 2 threads: 4 per thread at 0, 0.5, 1 and 1.5 s. All at once would span ~0.
    assert.ok(span >= spreadMs * 0.4, `closes spanned ${span} ms; expected them spread over ~${spreadMs} ms`);
    assert.ok(span <= spreadMs + 3_000, `closes spanned ${span} ms, longer than the ${spreadMs} ms window`);

    const newIds = await withTimeout(Promise.all(reconnected), 30_000, 'every client reconnected');
    for (const [i, c] of conns.entries()) {
      assert.equal(c.state, HubConnectionState.Connected);
      assert.notEqual(newIds[i], oldIds[i], 'a reconnect is a new connection');
    }
    assert.equal(await conns[0].invoke('echo', 'back'), 'back', 'the successor serves the returning client');

    for (const id of oldIds) {
      const events = await disconnectedOnce(stack, id);
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 1, JSON.stringify(events));
    }
    assert.match(stack.gateway.stderr(), /shutdown_drained/);
  });

  test('wait mode: stays up while a client is connected and exits 0 when the last one leaves', async () => {
    stack = await startStack({ gatewayArgs: ['--shutdown-mode', 'wait', '--shutdown-timeout', '60s'] });
    clients = new Clients(stack);
    const a = await clients.connect({ user: 'stayer-a' });
    const b = await clients.connect({ user: 'stayer-b' });
    const ids = [a.connectionId, b.connectionId];

    const stopping = stack.gateway.stop({ graceMs: 60_000 });
    await shutdownStarted(stack);
    assert.equal(await a.invoke('echo', 'still here'), 'still here');
    await a.stop();
    await disconnectedOnce(stack, ids[0]);
    // One client left and one remains: the gateway keeps serving it.
    assert.equal(await b.invoke('echo', 'me too'), 'me too');
    assert.equal(stack.gateway.child.exitCode, null, 'the gateway is still running');
    await b.stop();

    const end = await stopping;
    assert.equal(end.killed, false);
    assert.equal(end.code, 0);
    for (const id of ids) {
      const events = await functionEvents(stack, id);
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 1, JSON.stringify(events));
    }
  });

  test('wait mode: at the timeout the rest are closed with allowReconnect, then it exits 0', async () => {
    const timeoutMs = 1_500;
    stack = await startStack({ gatewayArgs: ['--shutdown-mode', 'wait', '--shutdown-timeout', `${timeoutMs}ms`] });
    clients = new Clients(stack);
    const c = await clients.connect({ user: 'lingerer' });
    const id = c.connectionId;

    const signalledAt = Date.now();
    const end = await stack.gateway.stop({ graceMs: 20_000 });
    const closeError = await withTimeout(c.closed, 5_000, 'the client saw the close');
    assert.equal(end.killed, false);
    assert.equal(end.code, 0);
    assert.ok(Date.now() - signalledAt >= timeoutMs - 100, 'it waited for the timeout');
    assert.match(String(closeError), /Server is shutting down/);
    const events = await disconnectedOnce(stack, id);
    assert.equal(events.filter((e) => e.event === 'disconnected').length, 1);
  });
});
