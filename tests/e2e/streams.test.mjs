// Server-to-client streams (Azure REST 2024-12-01; docs/upstream.md "Streams"): a client's
// connection.stream(target, ...) reaches the function as a StreamInvocation, and the backend streams
// items to it with `POST …/connections/{c}/streams/{id}/:send` (?completed=true ends it) and
// `…/:complete` (?reason= fails it). Items arrive in order, none lost or repeated, keys as written; over
// every transport and protocol, and from another gateway of a fleet.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, TRANSPORT_PROTOCOLS, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { startFleet } from './lib/fleet.mjs';

const V24 = 'api-version=2024-12-01';
const ITEMS = 1_000;

/** Subscribes to connection.stream(target, ...args); resolves {items, error} when it ends. */
function collect(connection, target, ...args) {
  const items = [];
  const ended = new Promise((resolve) => {
    connection.stream(target, ...args).subscribe({
      next: (item) => items.push(item),
      complete: () => resolve({ items }),
      error: (error) => resolve({ items, error }),
    });
  });
  return { items, ended };
}

/** The stream id the function was given for `connection`'s stream call to `target`. */
async function streamIdOf(functions, connection, target) {
  const event = await until(async () => (await functionEvents(functions, connection.connectionId))
    .find((e) => e.isStream && e.target === target), { what: `the function to hear of the ${target} stream` });
  assert.ok(event.invocationId);
  return event.invocationId;
}

function streamPath(connectionId, streamId, action) {
  return `/api/hubs/e2e/connections/${seg(connectionId)}/streams/${seg(streamId)}/${action}?${V24}`;
}

/** Sends `count` items one after another (each 202 before the next), the last with completed=true. */
async function sendItems(gateway, connectionId, streamId, count) {
  for (let i = 0; i < count; i += 1) {
    const last = i === count - 1;
    const res = await rest(gateway, 'POST', `${streamPath(connectionId, streamId, ':send')}${last ? '&completed=true' : ''}`,
      { body: `{"i":${i},"z":"last","a":"first"}`, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 202, res.text);
  }
}

function assertInOrder(items, count) {
  const numbers = items.map((item) => item.i);
  const duplicated = numbers.length - new Set(numbers).size;
  const lost = count - new Set(numbers).size;
  const reordered = numbers.filter((n, k) => k > 0 && n < numbers[k - 1]).length;
  assert.deepEqual({ received: items.length, lost, duplicated, reordered }, { received: count, lost: 0, duplicated: 0, reordered: 0 });
  assert.equal(JSON.stringify(items[0]), '{"i":0,"z":"last","a":"first"}');
}

describe('server-to-client streams', { timeout: 180_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  const cases = [[10, 'WebSockets', 'json'], [8, 'WebSockets', 'json'],
    ...TRANSPORT_PROTOCOLS.filter(([t, p]) => !(t === 'WebSockets' && p === 'json')).map(([t, p]) => [10, t, p])];
  for (const [version, transport, protocol] of cases) {
    test(`v${version} ${transport} ${protocol}: ${ITEMS} items through REST arrive in order, then complete`, async () => {
      const c = await clients.connect({ user: 'streamer', version, transport, protocol });
      const { ended } = collect(c, 'counter', ITEMS);
      const streamId = await streamIdOf(stack, c, 'counter');
      const [event] = (await functionEvents(stack, c.connectionId)).filter((e) => e.isStream);
      assert.deepEqual(event.arguments, [ITEMS]);
      await sendItems(stack, c.connectionId, streamId, ITEMS);
      const { items, error } = await withTimeout(ended, 20_000, 'the stream to complete');
      assert.equal(error, undefined);
      assertInOrder(items, ITEMS);
    });
  }

  for (const protocol of ['json', 'messagepack']) {
    test(`${protocol}: a function's reply streams the items and ends the stream (stream actions)`, async () => {
      const c = await clients.connect({ user: 'streamer', protocol });
      const { items, error } = await withTimeout(collect(c, 'replyStream', 200).ended, 10_000, 'the replied stream');
      assert.equal(error, undefined);
      assertInOrder(items, 200);
      assert.deepEqual(await withTimeout(collect(c, 'replyStream', 0).ended, 10_000, 'the empty replied stream'), { items: [] });
    });
  }

  test(':complete with a reason fails the stream with it; :complete alone ends it', async () => {
    const c = await clients.connect({ user: 'streamer' });
    const failing = collect(c, 'counter', 1);
    const failingId = await streamIdOf(stack, c, 'counter');
    let res = await rest(stack, 'POST', `${streamPath(c.connectionId, failingId, ':send')}`, { json: 'one' });
    assert.equal(res.status, 202, res.text);
    res = await rest(stack, 'POST', `${streamPath(c.connectionId, failingId, ':complete')}&reason=${encodeURIComponent('ran dry')}`);
    assert.equal(res.status, 202, res.text);
    const failed = await withTimeout(failing.ended, 10_000, 'the failed stream');
    assert.deepEqual(failed.items, ['one']);
    assert.match(String(failed.error), /ran dry/);

    // The Management SDK's spelling: ?error=.
    const sdkFailing = collect(c, 'counter', 2);
    const sdkId = (await until(async () => (await functionEvents(stack, c.connectionId))
      .filter((e) => e.isStream && e.target === 'counter' && e.invocationId !== failingId).pop(), { what: 'the second stream' })).invocationId;
    res = await rest(stack, 'POST', `${streamPath(c.connectionId, sdkId, ':complete')}&error=${encodeURIComponent('An error occurred.')}`);
    assert.equal(res.status, 202, res.text);
    assert.match(String((await withTimeout(sdkFailing.ended, 10_000, 'the SDK-failed stream')).error), /An error occurred\./);

    const c2 = await clients.connect({ user: 'streamer' });
    const empty = collect(c2, 'counter', 0);
    const emptyId = await streamIdOf(stack, c2, 'counter');
    res = await rest(stack, 'POST', streamPath(c2.connectionId, emptyId, ':complete'));
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await withTimeout(empty.ended, 10_000, 'the empty stream'), { items: [] });
  });

  test('a function that refuses the stream, and a target that does not stream', async () => {
    const c = await clients.connect({ user: 'streamer', protocol: 'messagepack' });
    const refused = await withTimeout(collect(c, 'badStream').ended, 10_000, 'the refused stream');
    assert.match(String(refused.error), /no stream for you/);
    const notStreaming = await withTimeout(collect(c, 'echo', 1).ended, 10_000, 'the non-streaming target');
    assert.match(String(notStreaming.error), /attempted to invoke the non-streaming 'echo' method with a streaming invocation/);
    // invoke() of a target that only streams gets ASP.NET's other text.
    await assert.rejects(c.invoke('counter', 1), /attempted to invoke the streaming 'counter' method with a non-streaming invocation/);
  });

  test('bad stream requests: a body that is not JSON, a bad completed, other methods', async () => {
    const c = await clients.connect({ user: 'streamer' });
    const path = streamPath(c.connectionId, 'some-stream', ':send');
    assert.equal((await rest(stack, 'POST', path, { body: '{nope', headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await rest(stack, 'POST', path, { body: '' })).status, 400);
    assert.equal((await rest(stack, 'POST', `${path}&completed=maybe`, { json: 1 })).status, 400);
    assert.equal((await rest(stack, 'GET', path)).status, 405);
    assert.equal((await rest(stack, 'POST', path, { json: 1, auth: false })).status, 401);
  });
});

describe('server-to-client streams over a fleet', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let clientsB;
  before(async () => {
    fleet = await startFleet({ count: 2 });
    [a, b] = fleet.gateways;
    clientsB = new Clients(b);
  });
  afterEach((t) => clientsB.cleanUp(t));
  after(() => fleet?.stop());

  test(`${ITEMS} items sent at A reach a client's stream on B in order`, async () => {
    const c = await clientsB.connect({ user: 'far', protocol: 'messagepack' });
    const { ended } = collect(c, 'counter', ITEMS);
    const streamId = await streamIdOf(b, c, 'counter');
    await sendItems(a, c.connectionId, streamId, ITEMS);
    const { items, error } = await withTimeout(ended, 30_000, 'the stream to complete');
    assert.equal(error, undefined);
    assertInOrder(items, ITEMS);
  });
});
