// Telling clients the function is down (--upstream-down-target; docs/upstream.md "Telling clients the
// function is down"), and the lifecycle metrics operators chart (docs/operations.md): disconnects split
// clean/error, and upstream latency per route.
//
// A TCP proxy in the harness stands between the gateway and the real function, so the test can make the
// function unreachable and bring it back.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, until } from './lib/processes.mjs';
import { Clients, recordMessages, withTimeout } from './lib/client.mjs';
import { startProxy } from './lib/proxy.mjs';

async function metric(gateway, line) {
  const text = await (await fetch(`${gateway.gatewayUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

describe('function state notices and lifecycle metrics', { timeout: 120_000 }, () => {
  let functions;  // the stack whose function process is used (its own gateway idles)
  let proxy;
  let stack;      // the gateway under test, calling the function through the proxy
  let clients;
  before(async () => {
    functions = await startStack();
    proxy = await startProxy(Number(new URL(functions.functionsUrl).port));
    stack = await startStack({
      key: functions.key,
      upstream: `${proxy.url}/upstream`,
      gatewayArgs: ['--upstream-down-target', 'functionState', '--upstream-circuit-failures', '2',
        '--upstream-circuit-open', '300ms', '--upstream-retries', '0'],
    });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await stack?.stop();
    await proxy?.stop();
    await functions?.stop();
  });

  test('clients hear "down" once when the circuit opens and "up" once when it closes', async () => {
    const watchers = await Promise.all([1, 2].map((i) => clients.connect({ user: `watcher${i}`, protocol: i === 2 ? 'messagepack' : 'json' })));
    const states = watchers.map((c) => recordMessages(c, 'functionState'));
    const caller = watchers[0];
    assert.equal(await withTimeout(caller.invoke('echo', 'up front'), 10_000, 'echo'), 'up front');

    proxy.refuse(true);
    proxy.cutAll();
    // Two failures in a row open the circuit; more calls while it is open, and a failed probe after
    // --upstream-circuit-open, announce nothing more.
    for (let i = 0; i < 2; i += 1) await assert.rejects(caller.invoke('echo', 'lost'), /Invocation failed/);
    await until(() => states.every((s) => s.length === 1), { what: 'every client to hear "down"' });
    await assert.rejects(caller.invoke('echo', 'refused'), /the function is unavailable|Invocation failed/);
    await new Promise((r) => setTimeout(r, 400));  // past --upstream-circuit-open: the next call is a probe
    await assert.rejects(caller.invoke('echo', 'failed probe'), /Invocation failed/);

    proxy.refuse(false);
    // The next probe goes through and closes the circuit.
    await until(async () => {
      try {
        return (await caller.invoke('echo', 'probe')) === 'probe';
      } catch {
        return false;
      }
    }, { what: 'a probe to succeed', intervalMs: 100 });
    await until(() => states.every((s) => s.length === 2), { what: 'every client to hear "up"' });
    assert.equal(await withTimeout(caller.invoke('echo', 'after'), 10_000, 'echo'), 'after');
    for (const s of states) assert.deepEqual(s.map((args) => args[0]), ['down', 'up']);
  });

  test('disconnects are counted clean or error, and upstream latency by route', async () => {
    const clean = 'switchboard_disconnect_outcomes_total{outcome="clean"}';
    const error = 'switchboard_disconnect_outcomes_total{outcome="error"}';
    const route = `switchboard_upstream_route_duration_seconds_count{route="${proxy.url}/upstream"}`;
    // The last test's clients have ended here too (counted once the gateway finished them).
    await until(async () => (await metric(stack, 'switchboard_connections')) === 0, { what: 'no connection left open' });
    const before = { clean: await metric(stack, clean), error: await metric(stack, error), route: await metric(stack, route) };

    const leaving = await clients.connect({ user: 'leaving' });
    await withTimeout(leaving.invoke('echo', 1), 10_000, 'echo');
    await leaving.stop();
    const kicked = await clients.connect({ user: 'kicked' });
    const closed = kicked.closed;
    kicked.invoke('closeMe', 'bye').catch(() => {});
    assert.match(String(await withTimeout(closed, 10_000, 'the server close')), /bye/);

    await until(async () => (await metric(stack, clean)) >= before.clean + 1 && (await metric(stack, error)) >= before.error + 1,
      { what: 'the disconnect counters' });
    assert.equal(await metric(stack, clean), before.clean + 1);
    assert.equal(await metric(stack, error), before.error + 1);
    // connected, echo, disconnected, connected, closeMe, disconnected: at least the four that finished.
    await until(async () => (await metric(stack, route)) >= before.route + 6, { what: 'the route histogram' });
  });
});
