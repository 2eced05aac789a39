// The same conversation over every transport × hub protocol the JS client supports: invoke results,
// errors, server → client sends from a reply action and from REST, message order, and disconnected.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, TRANSPORT_PROTOCOLS, nextMessages } from './lib/client.mjs';
import { rest } from './lib/rest.mjs';

describe('every transport and protocol', { timeout: 180_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  for (const [transport, protocol] of TRANSPORT_PROTOCOLS) {
    test(`${transport} + ${protocol}`, async () => {
      const c = await clients.connect({ user: `${transport}-${protocol}`, transport, protocol });

      const value = { text: 'grüße 🌍', n: 3.25, i: 7, none: null, list: [1, 'two', [3]], yes: true };
      assert.deepEqual(await c.invoke('echo', value), value);
      assert.equal(await c.invoke('add', 40, 2), 42);
      await assert.rejects(c.invoke('fail'), /boom/);

      // Server → client from a reply action, then from REST (JSON body, delivered in the client's protocol).
      const fromAction = nextMessages(c, 'connectionMessage');
      assert.equal(await c.invoke('sendToConnection', c.connectionId, { via: 'action' }), true);
      assert.deepEqual(await fromAction, [[{ via: 'action' }]]);
      const fromRest = nextMessages(c, 'restMessage');
      const res = await rest(stack, 'POST', `/api/v1/hubs/e2e/connections/${encodeURIComponent(c.connectionId)}`,
        { json: { target: 'restMessage', arguments: ['via rest', 1.5, { k: [null] }] } });
      assert.equal(res.status, 202, res.text);
      assert.deepEqual(await fromRest, [['via rest', 1.5, { k: [null] }]]);

      // Order of fire-and-forget sends as the function sees them.
      await Promise.all(Array.from({ length: 50 }, (_, i) => c.send('seq', i)));
      assert.equal(await c.invoke('echo', 'fence'), 'fence');
      const id = c.connectionId;
      const seq = (await functionEvents(stack, id)).filter((e) => e.target === 'seq').map((e) => e.arguments[0]);
      assert.deepEqual(seq, Array.from({ length: 50 }, (_, i) => i));

      await c.stop();
      const events = await until(async () => {
        const all = await functionEvents(stack, id);
        return all.some((e) => e.event === 'disconnected') ? all : undefined;
      }, { what: 'disconnected' });
      assert.equal(events.at(-1).event, 'disconnected');
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 1);
    });
  }
});
