// Client upload streams (docs/upstream.md "Upload streams", beyond Azure): a client's invoke() or
// send() with a Subject argument reaches the function as the invocation (with its streamIds), then as
// ordered parts carrying the items and the stream's end; the reply to the part that ends the last
// stream answers the caller. 1,000 items arrive in order, none lost or repeated, keys as written; over
// every client version, transport and protocol. An early error answers the caller at once and the rest
// of the upload is not sent.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { metric } from './lib/fleet.mjs';
import { Clients, TRANSPORT_PROTOCOLS, clientModules, withTimeout } from './lib/client.mjs';

const ITEMS = 1_000;
const item = (i) => ({ i, z: 'last', a: 'first' });

function subject(connection) {
  return new (clientModules(Number(connection.clientVersion.split('.')[0])).signalR.Subject)();
}

/** Counts what an upload of `count` items lost, repeated and reordered, from the function's copy of them. */
function assertAllInOrder(stream, count) {
  const numbers = stream.items.map((x) => x.i);
  const distinct = new Set(numbers).size;
  const reordered = numbers.filter((n, k) => k > 0 && n < numbers[k - 1]).length;
  assert.deepEqual({ received: numbers.length, lost: count - distinct, duplicated: numbers.length - distinct, reordered, gaps: stream.gaps },
    { received: count, lost: 0, duplicated: 0, reordered: 0, gaps: 0 });
  if (count > 0) assert.equal(JSON.stringify(stream.items[0]), '{"i":0,"z":"last","a":"first"}');
}

describe('client upload streams', { timeout: 240_000 }, () => {
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
    test(`v${version} ${transport} ${protocol}: ${ITEMS} uploaded items reach the function in order, and its reply answers the invoke`, async () => {
      const c = await clients.connect({ user: 'uploader', version, transport, protocol });
      const s = subject(c);
      const answered = c.invoke('sumUpload', 'numbers', s);
      for (let i = 0; i < ITEMS; i += 1) s.next(item(i));
      s.complete();
      const result = await withTimeout(answered, 30_000, 'the upload to be answered');
      assert.equal(result.label, 'numbers');
      const [stream] = Object.values(result.streams);
      assertAllInOrder(stream, ITEMS);
      assert.equal(stream.error, null);

      // What the function heard: the invocation with its stream id first, then parts that number the
      // items from 0 without a gap, the last one ending the stream.
      const events = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'sumUpload');
      const [opening, ...parts] = events;
      assert.deepEqual(opening.arguments, ['numbers']);
      assert.equal(opening.streamIds.length, 1);
      assert.equal(opening.upload, undefined);
      let next = 0;
      for (const part of parts) {
        assert.equal(part.upload.streamId, opening.streamIds[0]);
        assert.equal(part.upload.firstSequence, next);
        next += part.upload.items;
      }
      assert.equal(next, ITEMS);
      assert.deepEqual(parts.map((p) => p.upload.isComplete), parts.map((_, k) => k === parts.length - 1));
      assert.equal(result.parts, parts.length);
    });
  }

  test('two streams of one invoke: each in its own order, answered when both ended', async () => {
    const c = await clients.connect({ user: 'uploader', protocol: 'messagepack' });
    const [a, b] = [subject(c), subject(c)];
    // Not side by side: the JS client's _replaceStreamingParams skips an observable right after another.
    const answered = c.invoke('sumUpload', 'pair', a, 'between', b);
    for (let i = 0; i < 300; i += 1) {
      a.next(item(i));
      if (i % 3 === 0) b.next(item(i / 3));
    }
    a.complete();
    // The invocation is still open with one stream left: b's items still go to the function.
    for (let i = 100; i < 200; i += 1) b.next(item(i));
    b.error(new Error('the camera stopped'));
    const result = await withTimeout(answered, 20_000, 'the two-stream upload');
    const [opening] = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'sumUpload');
    assert.deepEqual(opening.arguments, ['pair', 'between']);
    assert.equal(opening.streamIds.length, 2);
    const [first, second] = opening.streamIds.map((id) => result.streams[id]);
    assertAllInOrder(first, 300);
    assertAllInOrder(second, 200);
    assert.equal(first.error, null);
    assert.match(second.error, /the camera stopped/);
  });

  test('send() uploads too: no invocation id, every part in order', async () => {
    const c = await clients.connect({ user: 'uploader' });
    const s = subject(c);
    await c.send('sumUpload', 'fire-and-forget', s);
    for (let i = 0; i < 50; i += 1) s.next(item(i));
    s.complete();
    // The client sends the items from a promise queue of their own, so they may follow a later call:
    // wait for the part that ends the stream.
    const parts = await until(async () => {
      const got = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'sumUpload' && e.upload);
      return got.some((p) => p.upload.isComplete) && got;
    }, { what: 'the end of the stream at the function' });
    assert.equal(parts.reduce((n, p) => n + p.upload.items, 0), 50);
    assert.ok(parts.at(-1).upload.isComplete);
    assert.equal((await functionEvents(stack, c.connectionId)).find((e) => e.target === 'sumUpload').hasInvocationId, false);
  });

  test('an error in an early reply answers the invoke at once, and the rest of the upload is not sent', async () => {
    const c = await clients.connect({ user: 'uploader' });
    const s = subject(c);
    const answered = c.invoke('limitedUpload', s);
    for (let i = 0; i < 10; i += 1) s.next(i);
    await assert.rejects(withTimeout(answered, 10_000, 'the refused upload'), /item over the limit/);
    const received = await metric(stack, 'switchboard_messages_received_total');
    for (let i = 10; i < 20; i += 1) s.next(i);
    s.complete();
    // Once the gateway has read the 10 later items (they count as received), any part they made would
    // be queued before a later call: echo's answer then means the function would have had it.
    await until(async () => (await metric(stack, 'switchboard_messages_received_total')) >= received + 10,
      { what: 'the gateway to read the later items' });
    assert.equal(await withTimeout(c.invoke('echo', 'after'), 10_000, 'echo'), 'after');
    const parts = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'limitedUpload' && e.upload);
    const sent = parts.reduce((n, p) => n + p.upload.items, 0);
    // The part with 6 was the last one sent: items 6..19 and the stream's end never reached the function.
    assert.ok(sent >= 7 && sent <= 10, `sent ${sent}`);
    assert.equal(parts.some((p) => p.upload.isComplete), false);
  });

  test("an upload to a method that takes none, and a plain call to one that takes one, get ASP.NET's errors", async () => {
    const c = await clients.connect({ user: 'uploader' });
    const s = subject(c);
    const refused = c.invoke('echo', s);
    s.next(1);
    s.complete();
    await assert.rejects(withTimeout(refused, 10_000, 'the upload to echo'), /Client sent 1 stream\(s\), Hub method expects 0\./);
    await assert.rejects(withTimeout(c.invoke('sumUpload', 'x'), 10_000, 'sumUpload without a stream'),
      /Client sent 0 stream\(s\), Hub method expects at least 1\./);
    assert.equal(await withTimeout(c.invoke('echo', 'still here'), 10_000, 'echo'), 'still here');
  });
});
