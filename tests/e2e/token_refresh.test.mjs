// Token refresh without reconnecting (ASP.NET Core's authentication refresh, dotnet/aspnetcore#67226;
// docs/upstream.md "Token refresh"): POST /client/refresh?hub=H&id=<connection token> with a fresh
// access token for the same user replaces the live connection's claims and expiry, tells the function
// (--refresh-event), and keeps the connection open past the old token's expiry
// (--close-on-token-expiry); another user's token is refused 403 and an expired one 401, and the
// connection carries on. Also through the other gateway of a fleet.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, clientModules, withTimeout } from './lib/client.mjs';
import { clientToken } from './lib/tokens.mjs';
import { metric, startFleet } from './lib/fleet.mjs';

const ARGS = ['--refresh-event', 'on', '--close-on-token-expiry', 'on'];

/** Connects with `token` and returns the connection and the connection token its negotiate returned. */
async function connectRecording(clients, { version = 10, ...options }) {
  const { signalR } = clientModules(version);
  let connectionToken;
  class RecordingHttpClient extends signalR.DefaultHttpClient {
    async send(request) {
      const response = await super.send(request);
      if (request.url.includes('/negotiate')) connectionToken = JSON.parse(response.content).connectionToken;
      return response;
    }
  }
  const c = await clients.connect({ ...options, version, httpOptions: { httpClient: new RecordingHttpClient(signalR.NullLogger.instance) } });
  assert.ok(connectionToken, 'negotiate returned a connection token');
  return { c, connectionToken };
}

async function refresh(gateway, connectionToken, token, { method = 'POST', hub = 'e2e' } = {}) {
  const url = `${gateway.gatewayUrl}/client/refresh?hub=${hub}${connectionToken ? `&id=${encodeURIComponent(connectionToken)}` : ''}`;
  const res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

const seconds = () => Math.floor(Date.now() / 1000);

describe('token refresh', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ARGS });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  for (const [transport, protocol] of [['WebSockets', 'json'], ['LongPolling', 'messagepack'], ['ServerSentEvents', 'json']]) {
    test(`${transport} ${protocol}: the same user's fresh token replaces the claims, and the function hears of it`, async () => {
      const { c, connectionToken } = await connectRecording(clients, { user: 'ada', transport, protocol, claims: { role: 'reader' } });
      const fresh = clientToken(stack.gatewayUrl, stack.key, { user: 'ada', claims: { role: 'editor' }, expiresIn: 600 });
      const res = await refresh(stack, connectionToken, fresh);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.tokenLifetimeSeconds > 590 && res.json.tokenLifetimeSeconds <= 600, res.text);
      // The same connection, now with the new claims in every later event.
      const me = await withTimeout(c.invoke('whoami'), 10_000, 'whoami');
      assert.equal(me.connectionId, c.connectionId);
      assert.equal(me.claims.role, 'editor');
      const refreshed = (await functionEvents(stack, c.connectionId)).filter((e) => e.event === 'refresh');
      assert.equal(refreshed.length, 1);
      assert.equal(refreshed[0].category, 'connections');
      assert.equal(refreshed[0].claims.role, 'editor');
      assert.equal(refreshed[0].userId, 'ada');
    });
  }

  test('negotiate reports the access token\'s lifetime left (tokenLifetimeSeconds), as ASP.NET 11 does', async () => {
    const token = clientToken(stack.gatewayUrl, stack.key, { user: 'ada', expiresIn: 900 });
    const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.ok(body.tokenLifetimeSeconds > 890 && body.tokenLifetimeSeconds <= 900, JSON.stringify(body));
  });

  test("another user's token is refused 403; the connection and its claims stay as they were", async () => {
    const { c, connectionToken } = await connectRecording(clients, { user: 'ada', claims: { role: 'reader' } });
    const res = await refresh(stack, connectionToken, clientToken(stack.gatewayUrl, stack.key, { user: 'mallory', claims: { role: 'admin' } }));
    assert.equal(res.status, 403, res.text);
    assert.deepEqual(res.json, { error: 'permission_change_rejected' });
    const me = await withTimeout(c.invoke('whoami'), 10_000, 'whoami');
    assert.equal(me.userId, 'ada');
    assert.equal(me.claims.role, 'reader');
    assert.equal((await functionEvents(stack, c.connectionId)).some((e) => e.event === 'refresh'), false);
  });

  test('an expired, forged or missing token is refused 401; bad requests get their errors', async () => {
    const { c, connectionToken } = await connectRecording(clients, { user: 'ada' });
    const expired = clientToken(stack.gatewayUrl, stack.key, { user: 'ada', claims: { exp: seconds() - 3600 } });
    for (const token of [expired, clientToken(stack.gatewayUrl, 'another-key-another-key-another-key', { user: 'ada' }), undefined]) {
      const res = await refresh(stack, connectionToken, token);
      assert.equal(res.status, 401, res.text);
      assert.deepEqual(res.json, { error: 'invalid_token' });
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    const fresh = clientToken(stack.gatewayUrl, stack.key, { user: 'ada' });
    let res = await refresh(stack, undefined, fresh);
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, { error: 'missing_connection_token' });
    res = await refresh(stack, 'not-a-token', fresh);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json, { error: 'connection_not_found' });
    res = await refresh(stack, connectionToken, fresh, { method: 'GET' });
    assert.equal(res.status, 405);
    assert.equal(await withTimeout(c.invoke('echo', 'fine'), 10_000, 'echo'), 'fine');
    // A connection that ended: 404. The client's stop() resolves when its socket closes, which can be
    // before the gateway has finished the connection: wait for that first.
    await c.stop();
    await until(async () => (await metric(stack, 'switchboard_connections')) === 0, { what: 'the gateway to end the connection' });
    res = await refresh(stack, connectionToken, fresh);
    assert.equal(res.status, 404, res.text);
    assert.deepEqual(res.json, { error: 'connection_not_found' });
  });

  test('--close-on-token-expiry closes an expired connection (allowReconnect, no error) and spares a refreshed one', async () => {
    // Both tokens expire at the same second, 3 s from now (the heartbeat checks once a second).
    const exp = seconds() + 3;
    const short = clientToken(stack.gatewayUrl, stack.key, { user: 'ada', claims: { exp } });
    const kept = await connectRecording(clients, { user: 'ada', token: short });
    const expiring = await connectRecording(clients, { user: 'ada', token: short });
    const res = await refresh(stack, kept.connectionToken, clientToken(stack.gatewayUrl, stack.key, { user: 'ada', expiresIn: 600 }));
    assert.equal(res.status, 200, res.text);
    const error = await withTimeout(expiring.c.closed, 15_000, 'the expired connection to close');
    assert.equal(error, undefined);  // a Close without an error
    assert.ok(seconds() >= exp, 'closed no earlier than its token expired');
    assert.ok(expiring.c.received.some((m) => m.type === 7 && m.allowReconnect === true), 'a Close with allowReconnect');
    // The refreshed one is past the same expiry and still answers. (A bounded wait: absence can't be awaited.)
    while (seconds() < exp + 2) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await withTimeout(kept.c.invoke('echo', 'alive'), 10_000, 'echo'), 'alive');
    assert.equal(kept.c.state, 'Connected');
  });
});

describe('token refresh across a fleet', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let clientsB;
  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: ARGS });
    [a, b] = fleet.gateways;
    clientsB = new Clients(b);
  });
  afterEach((t) => clientsB.cleanUp(t));
  after(() => fleet?.stop());

  test('a refresh that reaches the other gateway updates the connection where it lives', async () => {
    const { c, connectionToken } = await connectRecording(clientsB, { user: 'far', claims: { role: 'reader' } });
    // The token's audience names the gateway the client connected to (B); A checks it against its own
    // Host, so the fresh token is minted for A's URL, as an app behind one public name would.
    const fresh = clientToken(a.gatewayUrl, a.key, { user: 'far', claims: { role: 'editor' } });
    const res = await refresh(a, connectionToken, fresh);
    assert.equal(res.status, 200, res.text);
    const me = await withTimeout(c.invoke('whoami'), 10_000, 'whoami');
    assert.equal(me.claims.role, 'editor');
    await until(async () => (await functionEvents(b, c.connectionId)).some((e) => e.event === 'refresh'),
      { what: 'the refresh event' });
  });
});
