// Per-connection guarantees toward the function (PROTOCOL part 3 §3.3): connected first, messages in
// order, disconnected exactly once and last; a function refusing a connection; /metrics.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, HubConnectionState, withTimeout } from './lib/client.mjs';

async function eventsUntilDisconnected(stack, connectionId) {
  return until(async () => {
    const events = await functionEvents(stack, connectionId);
    return events.some((e) => e.event === 'disconnected') ? events : undefined;
  }, { what: `the disconnected event of ${connectionId}` });
}

describe('connection lifecycle', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  test('connected comes first, disconnected exactly once and after the last message', async () => {
    const c = await clients.connect({ user: 'life' });
    const id = c.connectionId;
    // Fire-and-forget sends right before stop(): they must all reach the function before disconnected.
    for (let i = 0; i < 20; i++) await c.send('seq', i);
    await c.stop();

    const events = await eventsUntilDisconnected(stack, id);
    assert.equal(events[0].event, 'connected', JSON.stringify(events[0]));
    assert.equal(events[0].category, 'connections');
    assert.equal(events[0].hub, 'e2e');
    assert.equal(events[0].userId, 'life');
    const last = events[events.length - 1];
    assert.equal(last.event, 'disconnected', `last event ${JSON.stringify(last)}`);
    assert.equal(last.category, 'connections');
    assert.equal(last.error, '', 'a clean stop() carries no error');
    assert.deepEqual(events.filter((e) => e.category === 'messages').map((e) => e.arguments[0]),
      Array.from({ length: 20 }, (_, i) => i));
    assert.equal(events.filter((e) => e.event === 'connected').length, 1);

    // Let another connection go through its whole life; the first still has exactly one disconnected.
    const other = await clients.connect({ user: 'life2' });
    const otherId = other.connectionId;
    await other.stop();
    await eventsUntilDisconnected(stack, otherId);
    const later = await functionEvents(stack, id);
    assert.equal(later.filter((e) => e.event === 'disconnected').length, 1, JSON.stringify(later));
  });

  test('200 sends reach the function in the order the client sent them', async () => {
    const c = await clients.connect({ user: 'order' });
    const sends = [];
    for (let i = 0; i < 200; i++) sends.push(c.send('seq', i));
    await Promise.all(sends);
    // One connection's messages go upstream one at a time: once this invoke completes, all sends arrived.
    assert.equal(await c.invoke('echo', 'fence'), 'fence');
    const events = await functionEvents(stack, c.connectionId);
    const seq = events.filter((e) => e.target === 'seq');
    assert.deepEqual(seq.map((e) => e.arguments[0]), Array.from({ length: 200 }, (_, i) => i));
    assert.ok(seq.every((e) => e.hasInvocationId === false && e.event === 'seq' && e.category === 'messages'));
    const indexes = seq.map((e) => e.index);
    assert.deepEqual(indexes, [...indexes].sort((x, y) => x - y), 'arrival order matches send order');
  });

  test('connected reaches the function before any message of the connection', async () => {
    // Ten connections at once, each invoking the moment its start() resolves.
    const conns = Array.from({ length: 10 }, (_, i) => clients.build({ user: `eager${i}` }));
    await Promise.all(conns.map(async (c, i) => {
      await c.start();
      assert.equal(await c.invoke('echo', i), i);
    }));
    for (const c of conns) {
      const events = await functionEvents(stack, c.connectionId);
      assert.equal(events[0]?.event, 'connected', `first event of ${c.connectionId}: ${JSON.stringify(events[0])}`);
      assert.equal(events.filter((e) => e.event === 'connected').length, 1);
      for (const e of events.filter((x) => x.category === 'messages')) assert.ok(e.index > events[0].index);
    }
  });

  test('a function refusing the connected event (403) keeps the user out with the reason', async () => {
    const c = clients.build({ user: 'blocked' });
    let error;
    try {
      await withTimeout(c.start(), 10_000, 'start() of a blocked user');
      error = await withTimeout(c.closed, 10_000, 'onclose of a blocked user');
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof Error, `the connection failed, got ${error}`);
    assert.match(error.message, /blocked user/);
    assert.equal(c.state, HubConnectionState.Disconnected);
    // The function saw the attempt.
    const events = await functionEvents(stack);
    assert.ok(events.some((e) => e.event === 'connected' && e.userId === 'blocked'));
  });

  test('/metrics is Prometheus text and its open-connection gauge follows a client', async () => {
    async function scrape() {
      const res = await fetch(`${stack.gatewayUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      return text;
    }
    function connectionGauges(text) {
      const gauges = new Set();
      for (const m of text.matchAll(/^# TYPE (\S+) gauge$/gm)) if (/connection/.test(m[1])) gauges.add(m[1]);
      const values = new Map();
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (m && gauges.has(m[1])) values.set(m[1] + (m[2] ?? ''), Number(m[3]));
      }
      return values;
    }

    const before = await scrape();
    assert.match(before, /^# TYPE /m);
    const gaugesBefore = connectionGauges(before);
    assert.ok(gaugesBefore.size > 0, `a gauge with "connection" in its name, got:\n${before}`);

    const c = await clients.connect({ user: 'metered' });
    const up = await until(async () => {
      const now = connectionGauges(await scrape());
      return [...now].some(([k, v]) => v === (gaugesBefore.get(k) ?? 0) + 1) ? now : undefined;
    }, { what: 'a connection gauge to rise by one' });
    await c.stop();
    await until(async () => {
      const now = connectionGauges(await scrape());
      return [...now].some(([k, v]) => up.get(k) - 1 === v && gaugesBefore.get(k) === v);
    }, { what: 'the connection gauge to fall back' });
  });
});
