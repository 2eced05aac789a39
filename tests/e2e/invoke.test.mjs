// Client invocations through the gateway to e2e-functions: results, errors, fire-and-forget, unknown
// targets, and what the function learns about the caller.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack } from './lib/processes.mjs';
import { Clients, HubConnectionState, MessageType } from './lib/client.mjs';

describe('invoke', { timeout: 90_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  test('echo returns its argument unchanged: unicode, floats, nulls, nested objects', async () => {
    const c = await clients.connect({ user: 'alice' });
    const values = [
      'héllo wörld — 你好 🎉 \u0000 "quoted" \\ \n\t',
      3.141592653589793,
      -0.5,
      1e-7,
      1.7976931348623157e308,
      9007199254740991,
      -42,
      0,
      null,
      true,
      false,
      '',
      [],
      {},
      { a: [1, 2.5, { b: null, c: 'ü', d: [[[]]] }], 'k e y': { nested: { deeper: ['x', null, false] } } },
    ];
    for (const value of values) {
      assert.deepEqual(await c.invoke('echo', value), value, `echo(${JSON.stringify(value)})`);
    }
  });

  test('add returns the sum of integers and of floats', async () => {
    const c = await clients.connect({ user: 'alice' });
    assert.equal(await c.invoke('add', 2, 3), 5);
    assert.equal(await c.invoke('add', -7, 7), 0);
    assert.equal(await c.invoke('add', 0.1, 0.2), 0.1 + 0.2);
    assert.equal(await c.invoke('add', 1.5, 2), 3.5);
  });

  test('a reply error rejects the invoke with the error text, and the connection stays usable', async () => {
    const c = await clients.connect({ user: 'alice' });
    await assert.rejects(c.invoke('fail'), (err) => {
      assert.match(err.message, /boom/);
      return true;
    });
    assert.equal(c.state, HubConnectionState.Connected);
    assert.equal(await c.invoke('echo', 'after fail'), 'after fail');
  });

  test('a handler that throws gives an error completion, not a dead connection', async () => {
    const c = await clients.connect({ user: 'alice' });
    // functions-runtime keeps the exception's text in its log and gives the client a fixed one with an
    // error id (AppOptions::detailed_errors is off, as ASP.NET's EnableDetailedErrors).
    await assert.rejects(c.invoke('throw'),
      /^Error: An unexpected error occurred invoking 'throw' on the server\. \(error id [0-9a-f]{16}\)$/);
    assert.equal(c.state, HubConnectionState.Connected);
    assert.equal(await c.invoke('echo', 'after throw'), 'after throw');
  });

  test('send (no invocation id) reaches the function and gets no Completion', async () => {
    const c = await clients.connect({ user: 'alice' });
    await c.send('echo', 'fire and forget');
    // Messages of one connection go upstream one at a time, in order: once this invoke completes, any
    // Completion for the send would already have arrived before it.
    assert.equal(await c.invoke('echo', 'fence'), 'fence');

    const completions = c.received.filter((m) => m.type === MessageType.Completion);
    assert.equal(completions.length, 1, `exactly one Completion (for the invoke), got ${JSON.stringify(completions)}`);
    assert.equal(completions[0].result, 'fence');

    const echoes = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'echo');
    assert.deepEqual(echoes.map((e) => [e.arguments, e.hasInvocationId]), [
      [['fire and forget'], false],
      [['fence'], true],
    ]);
  });

  test('invoking a target with no handler gives an error completion and the connection stays open', async () => {
    const c = await clients.connect({ user: 'alice' });
    await assert.rejects(c.invoke('noSuchTarget', 1, 2), /Unknown method 'noSuchTarget' on hub 'e2e'\./);
    assert.equal(c.state, HubConnectionState.Connected);
    assert.equal(await c.invoke('echo', 'still here'), 'still here');
  });

  test('whoami shows the connection id, the user id, the token claims and the client query', async () => {
    const c = await clients.connect({
      user: 'carol',
      query: 'room=lobby',
      claims: { role: ['admin', 'dev'], email: 'carol@example.test' },
    });
    const me = await c.invoke('whoami');
    assert.equal(me.connectionId, c.connectionId);
    assert.equal(me.userId, 'carol');
    assert.equal(me.claims['asrs.s.uid'], 'carol');
    assert.equal(me.claims.email, 'carol@example.test');
    assert.deepEqual([].concat(me.claims.role).sort(), ['admin', 'dev']);
    assert.equal(me.query.hub, 'e2e');
    assert.equal(me.query.room, 'lobby');
  });

  test('the user id falls back to the sub claim, and a token without one is anonymous', async () => {
    const bySub = await clients.connect({ claims: { sub: 'dave' } });
    assert.equal((await bySub.invoke('whoami')).userId, 'dave');
    const anonymous = await clients.connect({});
    assert.equal((await anonymous.invoke('whoami')).userId, '');
  });
});
