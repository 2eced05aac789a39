// Bad input at the client endpoint: an unknown protocol in the handshake, garbage after it, an
// oversized message, an unknown connection token, and tokens the gateway must refuse. A bystander
// @microsoft/signalr client keeps working throughout.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import jwt from 'jsonwebtoken';
import { startStack } from './lib/processes.mjs';
import { Clients, HubConnectionState } from './lib/client.mjs';
import { clientAudience, clientToken } from './lib/tokens.mjs';
import { RawWebSocket, RS, hubMessages } from './lib/rawws.mjs';

describe('bad input', { timeout: 90_000 }, () => {
  let stack;
  let clients;
  let bystander;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach(async (t) => {
    if (t.passed === false) console.log(`gateway stderr (tail):\n${stack.gatewayLog().slice(-4000)}`);
    // Whatever the previous connection did, the bystander still gets answers.
    if (bystander) {
      assert.equal(bystander.state, HubConnectionState.Connected);
      assert.equal(await bystander.invoke('echo', 'bystander ok'), 'bystander ok');
    }
  });
  after(async () => {
    await clients?.stopAll();
    await stack?.stop();
  });

  async function negotiate(token) {
    return fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-requested-with': 'XMLHttpRequest' },
      signal: AbortSignal.timeout(10_000),
    });
  }

  /** Negotiates like the real client and opens a hand-made WebSocket with the connection token. */
  async function rawConnection(user = 'raw') {
    const token = clientToken(stack.gatewayUrl, stack.key, { user });
    const res = await negotiate(token);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.negotiateVersion, 1);
    assert.equal(typeof body.connectionId, 'string');
    assert.equal(typeof body.connectionToken, 'string');
    assert.ok(body.availableTransports.some((t) => t.transport === 'WebSockets'));
    const ws = await RawWebSocket.open(stack.gatewayUrl, `/client/?hub=e2e&id=${body.connectionToken}`,
      { authorization: `Bearer ${token}` });
    assert.equal(ws.status, 101, `upgrade answered ${ws.status}`);
    return ws;
  }

  test('the bystander connects', async () => {
    bystander = await clients.connect({ user: 'bystander' });
  });

  test('a handshake naming protocol foo gets the error and a close', async () => {
    const ws = await rawConnection();
    try {
      ws.sendText(`{"protocol":"foo","version":1}${RS}`);
      const frame = await ws.next();
      assert.equal(frame.opcode, 1, 'a text frame');
      assert.equal(frame.text, `{"error":"The protocol 'foo' is not supported."}${RS}`);
      const { texts, close } = await ws.readUntilClosed();
      assert.deepEqual(texts, [], 'nothing after the handshake error');
      assert.ok(close.end || close.opcode === 8);
    } finally {
      ws.destroy();
    }
  });

  test('garbage JSON after the handshake gets a Close message with an error, then the socket closes', async () => {
    const ws = await rawConnection();
    try {
      ws.sendText(`{"protocol":"json","version":1}${RS}`);
      const first = await ws.next();
      assert.equal(first.opcode, 1);
      assert.ok(first.text.startsWith(`{}${RS}`), `handshake response, got ${JSON.stringify(first.text)}`);
      ws.sendText(`{"type":1,"target":"echo","arguments":[}${RS}`);
      const { texts, close } = await ws.readUntilClosed();
      const messages = hubMessages([first.text.slice(3), ...texts]);
      const closeMessage = messages.find((m) => m.type === 7);
      assert.ok(closeMessage, `a Close message, got ${JSON.stringify(messages)}`);
      assert.equal(typeof closeMessage.error, 'string');
      assert.ok(closeMessage.error.length > 0);
      assert.ok(close.end || close.opcode === 8);
    } finally {
      ws.destroy();
    }
  });

  test('JSON nested 10,000 deep gets a Close message naming the depth, and only that connection ends', async () => {
    const ws = await rawConnection();
    try {
      ws.sendText(`{"protocol":"json","version":1}${RS}`);
      const first = await ws.next();
      assert.ok(first.text.startsWith(`{}${RS}`));
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      ws.sendText(`{"type":1,"invocationId":"0","target":"echo","arguments":${deep}}${RS}`);
      const { texts, close } = await ws.readUntilClosed();
      const messages = hubMessages([first.text.slice(3), ...texts]);
      assert.ok(!messages.some((m) => m.type === 3), 'no Completion for the deep invoke');
      const closeMessage = messages.find((m) => m.type === 7);
      assert.ok(closeMessage, `a Close message, got ${JSON.stringify(messages).slice(0, 300)}`);
      assert.match(closeMessage.error, /nested deeper than 128 levels/);
      assert.ok(close.end || close.opcode === 8);
    } finally {
      ws.destroy();
    }
  });

  test('a message over 32 KiB gets a Close message with an error', async () => {
    const ws = await rawConnection();
    try {
      ws.sendText(`{"protocol":"json","version":1}${RS}`);
      const first = await ws.next();
      assert.ok(first.text.startsWith(`{}${RS}`));
      ws.sendText(`${JSON.stringify({ type: 1, invocationId: '0', target: 'echo', arguments: ['x'.repeat(40 * 1024)] })}${RS}`);
      const { texts } = await ws.readUntilClosed();
      const messages = hubMessages([first.text.slice(3), ...texts]);
      assert.ok(!messages.some((m) => m.type === 3), `no Completion for the oversized invoke: ${JSON.stringify(messages).slice(0, 300)}`);
      const closeMessage = messages.find((m) => m.type === 7);
      assert.ok(closeMessage && typeof closeMessage.error === 'string', `a Close message with an error, got ${JSON.stringify(messages).slice(0, 300)}`);
    } finally {
      ws.destroy();
    }
  });

  test('a Transfer-Encoding other than a single chunked gets 400 and a close: its body is never a second request', async () => {
    // Issue 14: `gzip` (and `chunked, identity`, `chunked ,chunked`) was read as no body, so the body
    // was answered as the next request on the socket (a POST carrying GET /metrics got two answers).
    const { hostname, port } = new URL(stack.gatewayUrl);
    const smuggled = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';
    for (const coding of ['gzip', 'chunked, identity', 'chunked ,chunked']) {
      const answer = await new Promise((resolve, reject) => {
        const socket = net.connect(Number(port), hostname);
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk) => { text += chunk; });
        socket.on('error', reject);
        socket.on('close', () => resolve(text));  // the gateway closes after its answer
        socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error(`no close for ${coding}`)); });
        socket.write(`POST /api/v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\n\r\n${smuggled}`);
      });
      const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => Number(m[1]));
      assert.deepEqual(statuses, [400], `${coding}: ${answer}`);
      assert.ok(!answer.includes('switchboard_connections'), `${coding}: the smuggled GET /metrics was answered`);
    }
  });

  test('a WebSocket with an unknown connection token is refused with 404', async () => {
    const token = clientToken(stack.gatewayUrl, stack.key, { user: 'raw' });
    const ws = await RawWebSocket.open(stack.gatewayUrl, '/client/?hub=e2e&id=no-such-connection-token',
      { authorization: `Bearer ${token}` });
    try {
      assert.equal(ws.status, 404);
    } finally {
      ws.destroy();
    }
  });

  test('negotiate refuses a token signed with the wrong key, an expired one, and another hub\'s (401)', async () => {
    const wrongKey = clientToken(stack.gatewayUrl, 'not-the-gateway-key', { user: 'mallory' });
    const expired = jwt.sign({ 'asrs.s.uid': 'late', exp: Math.floor(Date.now() / 1000) - 3600 }, stack.key,
      { audience: clientAudience(stack.gatewayUrl) });
    const otherHub = clientToken(stack.gatewayUrl, stack.key, { user: 'x', audience: clientAudience(stack.gatewayUrl, 'other') });
    for (const [name, token] of Object.entries({ wrongKey, expired, otherHub, garbage: 'abc.def.ghi' })) {
      const res = await negotiate(token);
      assert.equal(res.status, 401, `${name}: ${res.status} ${await res.text()}`);
    }
    const none = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, { method: 'POST' });
    assert.equal(none.status, 401, 'no token at all');
    // The real client reports the failure from start().
    const c = clients.build({ token: wrongKey });
    await assert.rejects(c.start(), /401|Unauthorized/);
    // And the right token works (the 401s are about the token).
    assert.equal((await negotiate(clientToken(stack.gatewayUrl, stack.key, { user: 'fine' }))).status, 200);
  });
});
