// Reply actions a function returns: send to a group (with exclusion), a user, a connection, everyone;
// user-to-group membership; a message from the connected event; closing the caller.
//
// "Did not receive" is checked with a fence: after the expected recipients have their message, the
// same function sends the bystander a later message; messages to one recipient keep their order, so a
// stray message would have arrived before the fence.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, HubConnectionState, nextMessages, recordMessages, withTimeout } from './lib/client.mjs';

describe('reply actions', { timeout: 90_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  /** Sends `target` a connectionMessage 'fence' from `via` and waits for it. */
  async function fence(via, target) {
    const arrived = nextMessages(target, 'connectionMessage');
    assert.equal(await via.invoke('sendToConnection', target.connectionId, 'fence'), true);
    assert.deepEqual(await arrived, [['fence']]);
  }

  test('sendToGroup with excludeSelf reaches the other member only', async () => {
    const a = await clients.connect({ user: 'ga' });
    const b = await clients.connect({ user: 'gb' });
    const c = await clients.connect({ user: 'gc' });
    const seenByA = recordMessages(a, 'groupMessage');
    const seenByC = recordMessages(c, 'groupMessage');
    assert.equal(await a.invoke('joinGroup', 'g1'), true);
    assert.equal(await b.invoke('joinGroup', 'g1'), true);

    const atB = nextMessages(b, 'groupMessage');
    assert.equal(await a.invoke('sendToGroup', 'g1', { text: 'hi group' }, true), true);
    assert.deepEqual(await atB, [[{ text: 'hi group' }]]);

    // Fence for a: a group send without exclusion reaches a; the excluded one would have come first.
    const atA = nextMessages(a, 'groupMessage');
    await a.invoke('sendToGroup', 'g1', 'to all members', false);
    await atA;
    assert.deepEqual(seenByA, [['to all members']], 'the excluded sender got only the later group message');
    await fence(a, c);
    assert.deepEqual(seenByC, [], 'a connection outside the group got no group message');
  });

  test('leaveGroup stops group messages', async () => {
    const a = await clients.connect({ user: 'la' });
    const b = await clients.connect({ user: 'lb' });
    const seenByB = recordMessages(b, 'groupMessage');
    await a.invoke('joinGroup', 'g-leave');
    await b.invoke('joinGroup', 'g-leave');
    const first = nextMessages(b, 'groupMessage');
    await a.invoke('sendToGroup', 'g-leave', 1, false);
    await first;
    assert.equal(await b.invoke('leaveGroup', 'g-leave'), true);
    const atA = nextMessages(a, 'groupMessage');
    await a.invoke('sendToGroup', 'g-leave', 2, false);
    assert.deepEqual(await atA, [[2]]);
    await fence(a, b);
    assert.deepEqual(seenByB, [[1]]);
  });

  test('sendToUser reaches every connection of that user and nobody else', async () => {
    const bob1 = await clients.connect({ user: 'bob' });
    const bob2 = await clients.connect({ user: 'bob' });
    const alice = await clients.connect({ user: 'alice' });
    const seenByAlice = recordMessages(alice, 'userMessage');
    const at1 = nextMessages(bob1, 'userMessage');
    const at2 = nextMessages(bob2, 'userMessage');
    assert.equal(await alice.invoke('sendToUser', 'bob', ['for', 'bob']), true);
    assert.deepEqual(await at1, [[['for', 'bob']]]);
    assert.deepEqual(await at2, [[['for', 'bob']]]);
    await fence(bob1, alice);
    assert.deepEqual(seenByAlice, []);
  });

  test('sendToConnection reaches that connection only', async () => {
    const a = await clients.connect({ user: 'ca' });
    const b = await clients.connect({ user: 'cb' });
    const seenByA = recordMessages(a, 'connectionMessage');
    const atB = nextMessages(b, 'connectionMessage');
    assert.equal(await a.invoke('sendToConnection', b.connectionId, 'just b'), true);
    assert.deepEqual(await atB, [['just b']]);
    await fence(b, a);
    assert.deepEqual(seenByA, [['fence']]);
  });

  test('broadcast reaches every connection of the hub, the sender included', async () => {
    const conns = [];
    for (const user of ['b1', 'b2', 'b3']) conns.push(await clients.connect({ user }));
    const arrivals = conns.map((c) => nextMessages(c, 'broadcast'));
    assert.equal(await conns[0].invoke('broadcast', { n: 7 }), true);
    for (const got of await Promise.all(arrivals)) assert.deepEqual(got, [[{ n: 7 }]]);
  });

  test('addUserToGroup applies to the user\'s current and future connections', async () => {
    const admin = await clients.connect({ user: 'admin' });
    const early = await clients.connect({ user: 'erin' });
    assert.equal(await admin.invoke('addUserToGroup', 'erin', 'g-user'), true);
    const late = await clients.connect({ user: 'erin' });
    const atEarly = nextMessages(early, 'groupMessage');
    const atLate = nextMessages(late, 'groupMessage');
    await admin.invoke('sendToGroup', 'g-user', 'to erin', false);
    assert.deepEqual(await atEarly, [['to erin']]);
    assert.deepEqual(await atLate, [['to erin']]);
  });

  test('an action in the connected reply reaches the new connection (welcome)', async () => {
    const c = clients.build({ user: 'wendy', query: 'welcome=1' });
    const welcome = nextMessages(c, 'welcome', 1, { timeoutMs: 10_000 });
    await c.start();
    assert.deepEqual(await welcome, [[c.connectionId]]);
  });

  test('closeMe closes the caller with the reason, and the function sees it disconnect', async () => {
    const c = await clients.connect({ user: 'quitter' });
    const id = c.connectionId; // the client forgets it once closed
    const other = await clients.connect({ user: 'stayer' });
    const pending = c.invoke('closeMe', 'bye for now').catch((err) => err);
    const error = await withTimeout(c.closed, 10_000, 'onclose after closeMe');
    assert.ok(error instanceof Error, `onclose got an error, got ${error}`);
    assert.match(error.message, /bye for now/);
    assert.equal(c.state, HubConnectionState.Disconnected);
    await pending;
    await until(async () => (await functionEvents(stack, id)).some((e) => e.event === 'disconnected'),
      { what: 'disconnected event for the closed connection' });
    assert.equal(await other.invoke('echo', 'unaffected'), 'unaffected');
  });
});
