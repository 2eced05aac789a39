// Client results (Azure REST 2024-12-01 `POST …/connections/{id}/:invoke`, docs/rest-api.md "Client
// results"): the backend calls a method on one client and gets the value its handler returns. The
// request is held until the client's Completion arrives, the client fails it, the timeout passes or the
// connection ends; each has its status and x-ms-error-code. Every client version, transport and
// protocol; and over a fleet, for a connection on the other gateway.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { CLIENT_VERSIONS, Clients, TRANSPORT_PROTOCOLS, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { startFleet } from './lib/fleet.mjs';

const V24 = 'api-version=2024-12-01';
// Keys out of sorted order: the result must come back as the client wrote it.
const ORDERED = '{"zeta":1,"alpha":{"y":2,"b":[3,{"k":"v","c":null}]},"mid":"m"}';
const TIMEOUT = ['--client-invoke-timeout', '2s'];

function invokePath(connectionId) {
  return `/api/hubs/e2e/connections/${seg(connectionId)}/:invoke?${V24}`;
}

async function invoke(gateway, connectionId, target, args) {
  return rest(gateway, 'POST', invokePath(connectionId), { json: { target, arguments: args } });
}

function assertError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('x-ms-error-code'), code, res.text);
  assert.equal(res.json?.code, code);
}

/** A handler that never answers, and a promise for its first call. */
function hangingHandler(connection, target) {
  let called;
  const wasCalled = new Promise((resolve) => { called = resolve; });
  connection.on(target, () => {
    called();
    return new Promise(() => {});
  });
  return wasCalled;
}

describe('client results (:invoke)', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: TIMEOUT });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  for (const version of CLIENT_VERSIONS) {
    for (const [transport, protocol] of TRANSPORT_PROTOCOLS) {
      test(`v${version} ${transport} ${protocol}: the handler's value comes back, keys in its order`, async () => {
        const c = await clients.connect({ user: 'cr', version, transport, protocol });
        const seen = [];
        c.on('compute', (a, b) => {
          seen.push([a, b]);
          return JSON.parse(ORDERED);
        });
        const res = await invoke(stack, c.connectionId, 'compute', [2, { q: [1] }]);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.text, `{"result":${ORDERED}}`);
        assert.deepEqual(seen, [[2, { q: [1] }]]);
      });
    }
  }

  test('several calls at once each get their own result', async () => {
    const c = await clients.connect({ user: 'cr' });
    c.on('square', (n) => new Promise((resolve) => setImmediate(() => resolve(n * n))));
    const results = await Promise.all([...Array(20).keys()].map((n) => invoke(stack, c.connectionId, 'square', [n])));
    assert.deepEqual(results.map((r) => r.json), [...Array(20).keys()].map((n) => ({ result: n * n })));
  });

  test('a void handler answers {"result":null}', async () => {
    const c = await clients.connect({ user: 'cr', protocol: 'messagepack' });
    c.on('nothing', () => null);
    const res = await invoke(stack, c.connectionId, 'nothing', []);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { result: null });
  });

  test('a handler that throws: 500 Error.Invocation.ClientError with its message', async () => {
    const c = await clients.connect({ user: 'cr' });
    c.on('explode', () => { throw new Error('no such thing'); });
    const res = await invoke(stack, c.connectionId, 'explode', []);
    assertError(res, 500, 'Error.Invocation.ClientError');
    assert.match(res.json.message, /no such thing/);
  });

  test('no handler on the client: its own error comes back', async () => {
    const c = await clients.connect({ user: 'cr' });
    const res = await invoke(stack, c.connectionId, 'unknownMethod', []);
    assertError(res, 500, 'Error.Invocation.ClientError');
    assert.match(res.json.message, /Client didn't provide a result/);
  });

  test('no answer in time: 500 Error.Invocation.Timeout, and a late answer goes nowhere', async () => {
    const c = await clients.connect({ user: 'cr' });
    const called = hangingHandler(c, 'slow');
    const res = await invoke(stack, c.connectionId, 'slow', []);
    await called;
    assertError(res, 500, 'Error.Invocation.Timeout');
    // The connection is still fine.
    c.on('ok', () => 'fine');
    assert.deepEqual((await invoke(stack, c.connectionId, 'ok', [])).json, { result: 'fine' });
  });

  test('the connection leaves mid-call: 500 Error.Connection.Closed at once', async () => {
    const c = await clients.connect({ user: 'cr' });
    const called = hangingHandler(c, 'hang');
    const pending = invoke(stack, c.connectionId, 'hang', []);
    await withTimeout(called, 5_000, 'the client got the invocation');
    const started = performance.now();
    await c.stop();
    const res = await pending;
    assertError(res, 500, 'Error.Connection.Closed');
    assert.ok(performance.now() - started < 1_500, 'answered when the connection ended, not at the timeout');
  });

  test('no such connection: 404 Error.Connection.NotExisted; a bad body: 400; GET: 405', async () => {
    assertError(await invoke(stack, 'no-such-connection', 'x', []), 404, 'Error.Connection.NotExisted');
    const c = await clients.connect({ user: 'cr' });
    const bad = await rest(stack, 'POST', invokePath(c.connectionId), { json: { arguments: [] } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await rest(stack, 'GET', invokePath(c.connectionId))).status, 405);
  });
});

describe('client results from a function\'s reply (the invoke action)', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: TIMEOUT });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  /** The `confirmed` events the function got for `connection`. */
  async function confirmations(connection, count) {
    return until(async () => {
      const events = (await functionEvents(stack, connection.connectionId)).filter((e) => e.target === 'confirmed');
      return events.length >= count && events;
    }, { what: `${count} confirmed event(s)` });
  }

  for (const protocol of ['json', 'messagepack']) {
    test(`${protocol}: the client's answer reaches the function as an event, with the correlation`, async () => {
      const c = await clients.connect({ user: 'asked', protocol });
      c.on('confirm', (question) => ({ yes: true, question }));
      await c.invoke('askMe', 'really?');
      const [event] = await confirmations(c, 1);
      assert.deepEqual(event.arguments, [{ asked: 'really?' }, { yes: true, question: 'really?' }, null]);
      assert.equal(event.hasInvocationId, false, 'delivered like a send()');
    });
  }

  test('a client that throws, and one that never answers, give the function an error', async () => {
    const c = await clients.connect({ user: 'asked' });
    c.on('confirm', () => { throw new Error('no way'); });
    await c.invoke('askMe', 'q1');
    const [failed] = await confirmations(c, 1);
    assert.equal(failed.arguments[1], null);
    assert.match(failed.arguments[2], /no way/);

    const d = await clients.connect({ user: 'asked' });
    d.on('confirm', () => new Promise(() => {}));
    await d.invoke('askMe', 'q2');
    const [late] = await confirmations(d, 1);
    assert.deepEqual(late.arguments.slice(0, 2), [{ asked: 'q2' }, null]);
    assert.match(late.arguments[2], /did not answer in time/);
  });
});

describe('client results over a fleet', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let clientsB;
  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: TIMEOUT });
    [a, b] = fleet.gateways;
    clientsB = new Clients(b);
  });
  afterEach((t) => clientsB.cleanUp(t));
  after(() => fleet?.stop());

  for (const protocol of ['json', 'messagepack']) {
    test(`${protocol}: an :invoke at A reaches a client on B and brings its result back`, async () => {
      const c = await clientsB.connect({ user: 'far', protocol });
      c.on('where', (x) => ({ here: 'B', x }));
      const res = await invoke(a, c.connectionId, 'where', ['from A']);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, '{"result":{"here":"B","x":"from A"}}');
    });
  }

  test('a client on B that throws, and one that leaves mid-call', async () => {
    const c = await clientsB.connect({ user: 'far' });
    c.on('explode', () => { throw new Error('far away'); });
    const failed = await invoke(a, c.connectionId, 'explode', []);
    assertError(failed, 500, 'Error.Invocation.ClientError');
    assert.match(failed.json.message, /far away/);

    const called = hangingHandler(c, 'hang');
    const pending = invoke(a, c.connectionId, 'hang', []);
    await withTimeout(called, 5_000, 'the client on B got the invocation');
    await c.stop();
    assertError(await pending, 500, 'Error.Connection.Closed');
  });

  test('an id no gateway holds: 404', async () => {
    assertError(await invoke(a, 'nobody-has-this', 'x', []), 404, 'Error.Connection.NotExisted');
  });
});
