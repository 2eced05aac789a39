// Connection tokens are self-contained, MACed and bound (PROTOCOL.md part 3 §3.8, docs/security.md):
// - another user's or another hub's access token can't connect, take over, poll, send or delete with a
//   token negotiated for someone else (403), on any transport;
// - a tampered token names no connection (404), nor does an expired one; a token opens one connection;
// - a token negotiated on one gateway opens its connection on another that shares the access key, with
//   nothing shared between them (no Redis), as after a restart or behind a balancer without affinity.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startProgram, startStack, until, READY } from './lib/processes.mjs';
import { negotiateAs } from './lib/negotiate.mjs';
import { RawWebSocket, RS } from './lib/rawws.mjs';
import { clientToken } from './lib/tokens.mjs';
import { metric } from './lib/fleet.mjs';

const MISMATCH = 'switchboard_rejected_input_total{reason="connection_token_mismatch"}';

const auth = (token) => ({ authorization: `Bearer ${token}` });
const clientPath = (id, hub = 'e2e') => `/client/?hub=${hub}&id=${id}`;

/** A fetch to the client endpoint (10 s guard). */
function request(baseUrl, method, id, token, { hub = 'e2e', headers = {}, body } = {}) {
  return fetch(`${baseUrl}${clientPath(id, hub)}`, {
    method, body, signal: AbortSignal.timeout(10_000), headers: { ...(token ? auth(token) : {}), ...headers },
  });
}

/** Status of an SSE GET (the body stream is cancelled at once). */
async function sseStatus(baseUrl, id, token, hub = 'e2e') {
  const res = await request(baseUrl, 'GET', id, token, { hub, headers: { accept: 'text/event-stream' } });
  await res.body?.cancel();
  return res.status;
}

async function wsStatus(baseUrl, id, token, hub = 'e2e') {
  const ws = await RawWebSocket.open(baseUrl, clientPath(id, hub), auth(token));
  ws.destroy();
  return ws.status;
}

/** Flips one base64url character in the middle of the token's payload. */
function tamper(token) {
  const i = Math.floor(token.indexOf('.') / 2);
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}

describe('connection tokens', { timeout: 120_000 }, () => {
  let stack;
  before(async () => { stack = await startStack({ gatewayArgs: ['--negotiate-timeout', '2s'] }); });
  afterEach((t) => {
    if (t.passed === false) console.log(`gateway stderr (tail):\n${stack.gatewayLog().slice(-4000)}`);
  });
  after(async () => { await stack?.stop(); });

  test('a token bound to alice opens nothing for bob, on every transport, before or after it connected', async () => {
    const refusedBefore = await metric(stack, MISMATCH);
    const alice = await negotiateAs(stack, 'alice');
    const bob = clientToken(stack.gatewayUrl, stack.key, { user: 'bob' });
    const url = stack.gatewayUrl;
    assert.equal(await wsStatus(url, alice.connectionToken, bob), 403, 'WebSocket connect');
    assert.equal(await sseStatus(url, alice.connectionToken, bob), 403, 'SSE connect');
    assert.equal((await request(url, 'GET', alice.connectionToken, bob)).status, 403, 'long-polling first poll');

    // Alice connects over long polling; bob can't poll, send or stop her connection.
    assert.equal((await request(url, 'GET', alice.connectionToken, alice.token)).status, 200, 'alice: first poll');
    assert.equal((await request(url, 'POST', alice.connectionToken, alice.token, { body: `{"protocol":"json","version":1}${RS}` })).status, 200);
    const handshake = await request(url, 'GET', alice.connectionToken, alice.token);
    assert.equal(await handshake.text(), `{}${RS}`);
    assert.equal((await request(url, 'GET', alice.connectionToken, bob)).status, 403, 'bob polls');
    assert.equal((await request(url, 'POST', alice.connectionToken, bob,
      { body: `{"type":1,"invocationId":"9","target":"echo","arguments":["bob was here"]}${RS}` })).status, 403, 'bob sends');
    assert.equal((await request(url, 'DELETE', alice.connectionToken, bob)).status, 403, 'bob stops');

    // Still alice's, still alive: her invocation is answered through her poll.
    const pending = request(url, 'GET', alice.connectionToken, alice.token);
    assert.equal((await request(url, 'POST', alice.connectionToken, alice.token,
      { body: `{"type":1,"invocationId":"1","target":"echo","arguments":["alice ok"]}${RS}` })).status, 200);
    const answered = await pending;
    assert.equal(answered.status, 200);
    const text = await answered.text();
    assert.match(text, /"result":"alice ok"/);
    assert.doesNotMatch(text, /bob was here/);
    assert.equal((await request(url, 'DELETE', alice.connectionToken, alice.token)).status, 202);

    // Each refusal is counted; the log shows it (at most a line a second for this event).
    assert.equal(await metric(stack, MISMATCH) - refusedBefore, 6);
    const mismatches = stack.gatewayLog().split('\n').filter((l) => l.includes('connection_token_mismatch'));
    assert.ok(mismatches.length >= 1, 'logged');
    assert.ok(mismatches.every((l) => l.includes('user=bob') && l.includes('field=user')), mismatches.join('\n'));
  });

  test('a live WebSocket connection cannot be taken over by another user (403, not a resume or 409)', async () => {
    const alice = await negotiateAs(stack, 'alice-ws');
    const ws = await RawWebSocket.open(stack.gatewayUrl, clientPath(alice.connectionToken), auth(alice.token));
    assert.equal(ws.status, 101);
    ws.sendText(`{"protocol":"json","version":1}${RS}`);
    assert.equal((await ws.next()).payload.toString(), `{}${RS}`);
    const mallory = clientToken(stack.gatewayUrl, stack.key, { user: 'mallory' });
    assert.equal(await wsStatus(stack.gatewayUrl, alice.connectionToken, mallory), 403);
    // Alice's own second WebSocket gets ASP.NET's 409: the id is in use.
    assert.equal(await wsStatus(stack.gatewayUrl, alice.connectionToken, alice.token), 409);
    ws.sendText(`{"type":1,"invocationId":"1","target":"echo","arguments":["still mine"]}${RS}`);
    assert.match((await ws.next()).payload.toString(), /"result":"still mine"/);
    ws.destroy();
  });

  test('a token used for another hub is refused (403), even with a valid token for that hub', async () => {
    const refusedBefore = await metric(stack, MISMATCH);
    const n = await negotiateAs(stack, 'hubby');
    const other = clientToken(stack.gatewayUrl, stack.key, { user: 'hubby', hub: 'other' });
    assert.equal((await request(stack.gatewayUrl, 'GET', n.connectionToken, other, { hub: 'other' })).status, 403);
    assert.equal(await wsStatus(stack.gatewayUrl, n.connectionToken, other, 'other'), 403);
    assert.equal(await metric(stack, MISMATCH) - refusedBefore, 2);
  });

  test('a tampered token names no connection (404), and is never logged', async () => {
    const n = await negotiateAs(stack, 'tamper');
    const bad = tamper(n.connectionToken);
    assert.notEqual(bad, n.connectionToken);
    assert.equal((await request(stack.gatewayUrl, 'GET', bad, n.token)).status, 404);
    assert.equal(await wsStatus(stack.gatewayUrl, bad, n.token), 404);
    assert.equal(await sseStatus(stack.gatewayUrl, bad, n.token), 404);
    const log = stack.gatewayLog();
    assert.ok(log.includes('connection_token_invalid'));
    assert.ok(!log.includes(bad) && !log.includes(n.connectionToken), 'tokens never reach the log');
    // The untouched token still works: nothing was consumed by the forgery.
    assert.equal((await request(stack.gatewayUrl, 'GET', n.connectionToken, n.token)).status, 200);
    assert.equal((await request(stack.gatewayUrl, 'DELETE', n.connectionToken, n.token)).status, 202);
  });

  test('a connection token in an over-long or over-parameterised URL never reaches the log', async () => {
    const n = await negotiateAs(stack, 'long-url');
    const tooLong = await fetch(`${stack.gatewayUrl}${clientPath(n.connectionToken)}&pad=${'x'.repeat(9_000)}`,
      { headers: auth(n.token), signal: AbortSignal.timeout(10_000) });
    assert.equal(tooLong.status, 414);
    const many = Array.from({ length: 70 }, (_, i) => `p${i}=1`).join('&');
    const tooMany = await fetch(`${stack.gatewayUrl}/client/?id=${n.connectionToken}&hub=e2e&${many}`,
      { headers: auth(n.token), signal: AbortSignal.timeout(10_000) });
    assert.equal(tooMany.status, 400);
    const log = stack.gatewayLog();
    const lines = log.split('\n').filter((l) => /url_too_long|too_many_query_parameters/.test(l));
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(lines.every((l) => l.includes('id=***')), lines.join('\n'));
    // Issue 14: the 64-byte sample held the token's first bytes.
    assert.ok(!log.includes(n.connectionToken.slice(0, 16)), 'no part of the token is logged');
  });

  test('a token opens one connection: after it ended, its id is gone (404)', async () => {
    const n = await negotiateAs(stack, 'once');
    const ws = await RawWebSocket.open(stack.gatewayUrl, clientPath(n.connectionToken), auth(n.token));
    assert.equal(ws.status, 101);
    ws.sendText(`{"protocol":"json","version":1}${RS}`);
    assert.equal((await ws.next()).payload.toString(), `{}${RS}`);
    ws.destroy();
    await until(async () => (await functionEvents(stack, n.connectionId)).some((e) => e.event === 'disconnected'),
      { what: 'disconnected after the socket closed' });
    assert.equal(await wsStatus(stack.gatewayUrl, n.connectionToken, n.token), 404, 'the same token again');
    assert.equal((await request(stack.gatewayUrl, 'GET', n.connectionToken, n.token)).status, 404, 'as a long poll');
    const events = (await functionEvents(stack, n.connectionId)).filter((e) => e.event === 'connected');
    assert.equal(events.length, 1, 'one connection was ever opened with it');
  });

  test('an expired token opens nothing (404)', async () => {
    const n = await negotiateAs(stack, 'late');
    // --negotiate-timeout is 2 s here: the token's expiry is a wall-clock time, so wait it out.
    await new Promise((r) => setTimeout(r, 2_300));
    assert.equal((await request(stack.gatewayUrl, 'GET', n.connectionToken, n.token)).status, 404);
    assert.equal(await wsStatus(stack.gatewayUrl, n.connectionToken, n.token), 404);
    assert.ok(stack.gatewayLog().includes('connection_token_expired'));
  });
});

describe('a token from one gateway opens its connection on another', { timeout: 120_000 }, () => {
  let stack;
  let second;
  before(async () => {
    stack = await startStack();
    // Same key and function, no Redis, nothing shared: as a successor after a restart, or a balancer's
    // other backend.
    second = await startProgram('switchboard', ['--listen', '127.0.0.1:0', '--access-key', stack.key,
      '--upstream', `${stack.functionsUrl}/upstream`], { ready: READY.gateway });
  });
  after(async () => {
    await second?.stop();
    await stack?.stop();
  });

  test('negotiate on A, connect on B (WebSocket, SSE, long polling)', async () => {
    for (const transport of ['ws', 'sse', 'lp']) {
      const n = await negotiateAs(stack, `roamer-${transport}`);
      if (transport === 'ws') {
        const ws = await RawWebSocket.open(second.url, clientPath(n.connectionToken), auth(n.token));
        assert.equal(ws.status, 101);
        ws.sendText(`{"protocol":"json","version":1}${RS}`);
        assert.equal((await ws.next()).payload.toString(), `{}${RS}`);
        ws.sendText(`{"type":1,"invocationId":"1","target":"echo","arguments":["via B"]}${RS}`);
        assert.match((await ws.next()).payload.toString(), /"result":"via B"/);
        ws.destroy();
      } else if (transport === 'sse') {
        assert.equal(await sseStatus(second.url, n.connectionToken, n.token), 200);
      } else {
        assert.equal((await request(second.url, 'GET', n.connectionToken, n.token)).status, 200);
        assert.equal((await request(second.url, 'DELETE', n.connectionToken, n.token)).status, 202);
      }
    }
    // The function saw each connection under the id negotiate gave on A.
    const ws = await negotiateAs(stack, 'roamer-check');
    const opened = await RawWebSocket.open(second.url, clientPath(ws.connectionToken), auth(ws.token));
    opened.sendText(`{"protocol":"json","version":1}${RS}`);
    await opened.next();
    await until(async () => (await functionEvents(stack, ws.connectionId)).some((e) => e.event === 'connected'),
      { what: 'connected upstream under the negotiated id' });
    opened.destroy();
  });
});
