// Many connections at once: every connected event and invocation goes upstream at the same time.
// One at a time each takes milliseconds, so a slow total means requests wait on each other somewhere
// between the gateway and the function (a connection pool or a server thread pool). Example: a function
// server with 8 threads, each held by an idle keep-alive connection for 5 s, took 15 s here.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients } from './lib/client.mjs';

describe('concurrency', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  after(() => stack?.stop());

  test('30 clients connecting and invoking at once are all answered within 5 s', async () => {
    const ids = [];
    let elapsed;
    try {
      const started = Date.now();
      await Promise.all(Array.from({ length: 30 }, async (_, i) => {
        const c = await clients.connect({ user: `crowd${i}` });
        ids.push(c.connectionId);
        assert.equal(await c.invoke('echo', i), i);
      }));
      elapsed = Date.now() - started;
    } finally {
      // Leave nothing queued for the shutdown: every disconnected event delivered.
      await clients.stopAll();
      await until(async () => {
        const events = await functionEvents(stack);
        return ids.every((id) => events.some((e) => e.connectionId === id && e.event === 'disconnected'));
      }, { timeoutMs: 60_000, what: 'a disconnected event for each of the 30 connections' });
    }
    assert.ok(elapsed < 5_000, `30 concurrent connect+invoke took ${elapsed} ms`);
  });
});
