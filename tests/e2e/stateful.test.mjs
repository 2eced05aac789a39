// Stateful reconnect (PROTOCOL.md part 1 §4): a client whose socket is cut resumes the same connection
// and gets every missed message once, in order; the function sees no second `connected` and no
// `disconnected`; a connection not resumed within the window ends with exactly one `disconnected`.
// The cuts come from a TCP proxy between client and gateway, so nothing here waits on a timer.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, recordMessages, withTimeout } from './lib/client.mjs';
import { startProxy } from './lib/proxy.mjs';
import { rest, seg } from './lib/rest.mjs';

async function sendNumbers(stack, connectionId, from, to) {
  for (let i = from; i <= to; i++) {
    const res = await rest(stack, 'POST', `/api/v1/hubs/e2e/connections/${seg(connectionId)}`,
      { json: { target: 'num', arguments: [i] } });
    assert.equal(res.status, 202, res.text);
  }
}

function numbersSoFar(received) {
  return received.map((args) => args[0]);
}

describe('stateful reconnect', { timeout: 120_000 }, () => {
  let stack;
  let proxy;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--stateful-reconnect-window', '3s'] });
    proxy = await startProxy(new URL(stack.gatewayUrl).port);
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await proxy?.stop();
    await stack?.stop();
  });

  for (const protocol of ['json', 'messagepack']) {
    test(`100 numbered messages across a cut arrive once, in order, on the same connection (${protocol})`, async () => {
      const c = await clients.connect({ user: `stateful-${protocol}`, stateful: true, protocol, baseUrl: proxy.url });
      const id = c.connectionId;
      let reconnecting = 0;
      c.onreconnecting(() => reconnecting++);
      const received = recordMessages(c, 'num');

      await sendNumbers(stack, id, 1, 30);
      await until(() => received.length >= 30, { what: 'the first 30 messages' });
      proxy.cutAll();
      // Sent while the client has no socket: the gateway keeps them for the resume.
      await sendNumbers(stack, id, 31, 100);
      await until(() => received.length >= 100, { what: 'all 100 messages', timeoutMs: 20_000 });

      assert.deepEqual(numbersSoFar(received), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(c.connectionId, id, 'same connection id after the cut');
      assert.equal(reconnecting, 0, 'a stateful resume is not a reconnect');
      assert.equal(await c.invoke('echo', 'after the cut'), 'after the cut');

      const events = await functionEvents(stack, id);
      assert.equal(events.filter((e) => e.event === 'connected').length, 1, 'one connected');
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 0, 'no disconnected');
      const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
      assert.match(metrics, /^switchboard_stateful_resumes_total [1-9]/m);
    });
  }

  test('client sends cut off mid-flight reach the function once, in order', async () => {
    const c = await clients.connect({ user: 'stateful-sender', stateful: true, baseUrl: proxy.url });
    const id = c.connectionId;
    const sends = Array.from({ length: 50 }, (_, i) => c.send('seq', i));
    proxy.cutAll();
    await withTimeout(Promise.all(sends), 20_000, 'the sends');
    assert.equal(await c.invoke('echo', 'fence'), 'fence');
    const seq = (await functionEvents(stack, id)).filter((e) => e.target === 'seq').map((e) => e.arguments[0]);
    assert.deepEqual(seq, Array.from({ length: 50 }, (_, i) => i));
  });

  test('a connection not resumed within the window ends with exactly one disconnected', async () => {
    const c = await clients.connect({ user: 'stateful-gone', stateful: true, baseUrl: proxy.url });
    const id = c.connectionId;
    proxy.refuse(true);
    try {
      proxy.cutAll();
      const events = await until(async () => {
        const all = await functionEvents(stack, id);
        return all.some((e) => e.event === 'disconnected') ? all : undefined;
      }, { what: 'disconnected after the window', timeoutMs: 15_000 });
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 1);
      assert.equal(events.at(-1).event, 'disconnected');
      const res = await rest(stack, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(id)}`);
      assert.equal(res.status, 404, 'the connection has left the hub');
    } finally {
      proxy.refuse(false);
    }
  });

  test('a client that did not ask for stateful reconnect is not kept after a cut', async () => {
    const c = await clients.connect({ user: 'plain', baseUrl: proxy.url });
    const id = c.connectionId;
    proxy.cutAll();
    await withTimeout(c.closed, 10_000, 'onclose');
    const events = await until(async () => {
      const all = await functionEvents(stack, id);
      return all.some((e) => e.event === 'disconnected') ? all : undefined;
    }, { what: 'disconnected' });
    assert.equal(events.filter((e) => e.event === 'disconnected').length, 1);
  });
});
