// Bad input on the wire, by hand:
// - MessagePack over a raw WebSocket (handshake as a text frame, then binary frames): an over-long VarInt,
//   a record over the 32 KiB limit, wrong element counts, wrong types. Each gets a MessagePack Close
//   message and only that connection closes; bystander clients (JSON and MessagePack) keep working.
// - The HTTP statuses of the client endpoint (PROTOCOL part 1 §2): unknown id 404 for SSE and long
//   polling, POST to a WebSocket connection 405, DELETE on an SSE connection 400, no id 400, a second
//   WebSocket for a connected id 409, and polls after a long-polling connection's DELETE.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, HubConnectionState } from './lib/client.mjs';
import { negotiateAs } from './lib/negotiate.mjs';
import { RawWebSocket, RS } from './lib/rawws.mjs';
import { encode, frame, raw, unframe, varint } from './lib/msgpack.mjs';

describe('bad input on the wire', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  const bystanders = [];
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach(async (t) => {
    if (t.passed === false) console.log(`gateway stderr (tail):\n${stack.gatewayLog().slice(-4000)}`);
    // Whatever the previous connection did, the bystanders still get answers.
    for (const b of bystanders) {
      assert.equal(b.state, HubConnectionState.Connected);
      assert.equal(await b.invoke('echo', 'bystander ok'), 'bystander ok');
    }
  });
  after(async () => {
    await clients?.stopAll();
    await stack?.stop();
  });

  const auth = (token) => ({ authorization: `Bearer ${token}` });
  const clientPath = (id) => `/client/?hub=e2e${id === undefined ? '' : `&id=${id}`}`;

  /** Negotiates like the real client: {token (access), connectionId, connectionToken}. */
  const negotiate = (user = 'raw') => negotiateAs(stack, user);

  /** A fetch to the client endpoint with the access token as Bearer (10 s guard unless a signal is given). */
  function request(method, id, token, { headers = {}, body, signal = AbortSignal.timeout(10_000) } = {}) {
    return fetch(`${stack.gatewayUrl}${clientPath(id)}`, {
      method, body, signal, headers: { ...(token ? auth(token) : {}), ...headers },
    });
  }

  /** A raw WebSocket after negotiate, with the MessagePack handshake done: {ws, connectionId, ...}. */
  async function msgpackConnection(user = 'raw-msgpack') {
    const n = await negotiate(user);
    const ws = await RawWebSocket.open(stack.gatewayUrl, clientPath(n.connectionToken), auth(n.token));
    assert.equal(ws.status, 101, `upgrade answered ${ws.status}`);
    ws.sendText(`{"protocol":"messagepack","version":1}${RS}`);
    const first = await ws.next();
    assert.equal(first.opcode, 2, 'the handshake response comes in a binary frame for messagepack');
    assert.ok(first.payload.subarray(0, 3).equals(Buffer.from(`{}${RS}`)), `handshake response, got ${first.payload.toString('latin1')}`);
    return { ...n, ws, rest: first.payload.subarray(3) };
  }

  /**
   * Sends `bytes` in a binary frame and expects: no Completion, a MessagePack Close message with an
   * error text in a binary frame, a close frame with 1000; and `disconnected` at the function.
   */
  async function expectClose(bytes, what) {
    const c = await msgpackConnection();
    try {
      // A good invocation first: the connection works until the bad input.
      c.ws.sendBinary(frame([1, {}, '1', 'echo', ['before']]));
      const reply = await c.ws.next();
      assert.equal(reply.opcode, 2);
      assert.deepEqual(unframe(Buffer.concat([c.rest, reply.payload])).filter((m) => m[0] !== 6), [[3, {}, '1', 3, 'before']]);

      c.ws.sendBinary(bytes);
      const { texts, binaries, close } = await c.ws.readUntilClosed();
      assert.deepEqual(texts, [], `${what}: no text frames on a messagepack connection`);
      const messages = unframe(Buffer.concat(binaries)).filter((m) => m[0] !== 6);
      assert.ok(!messages.some((m) => m[0] === 3), `${what}: no Completion, got ${JSON.stringify(messages)}`);
      assert.equal(messages.length, 1, `${what}: one Close message, got ${JSON.stringify(messages)}`);
      const [closeMessage] = messages;
      assert.equal(closeMessage[0], 7, `${what}: a Close message, got ${JSON.stringify(closeMessage)}`);
      assert.equal(closeMessage.length, 3, `${what}: [7, error, allowReconnect] (the server writes 3 elements)`);
      assert.equal(typeof closeMessage[1], 'string', `${what}: an error text`);
      assert.ok(closeMessage[1].length > 0, `${what}: a non-empty error text`);
      assert.equal(typeof closeMessage[2], 'boolean', `${what}: allowReconnect is a boolean`);
      // Then a WebSocket close frame, 1000 (the error travels in the Close message, as ASP.NET does).
      assert.equal(close.opcode, 8, `${what}: a close frame, got ${JSON.stringify(close)}`);
      assert.equal(close.closeCode, 1000, `${what}: close code`);
      // Answer the close handshake as a real client does (the server would otherwise wait 5 s for it).
      c.ws.sendClose(1000);
      await until(async () => (await functionEvents(stack, c.connectionId)).some((e) => e.event === 'disconnected'),
        { what: `${what}: disconnected at the function` });
      return closeMessage;
    } finally {
      c.ws.destroy();
    }
  }

  test('the bystanders connect (JSON and MessagePack)', async () => {
    bystanders.push(await clients.connect({ user: 'bystander-json' }));
    bystanders.push(await clients.connect({ user: 'bystander-msgpack', protocol: 'messagepack' }));
  });

  describe('MessagePack over a raw WebSocket', () => {
    test('a VarInt length of 6 bytes gets a Close message', async () => {
      await expectClose(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x91, 0x06]), '6-byte VarInt');
    });

    test('a VarInt length of 2^31 or more gets a Close message', async () => {
      // 5 bytes, but the value 2^32 - 1 is over the limit (< 2^31).
      await expectClose(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x91, 0x06]), 'VarInt over 2^31');
    });

    test('a record over the 32 KiB limit gets a Close message and no Completion', async () => {
      const big = frame([1, {}, '2', 'echo', ['x'.repeat(40 * 1024)]]);
      assert.ok(big.length > 32 * 1024);
      await expectClose(big, 'record over 32 KiB');
    });

    test('wrong element counts get a Close message: [1]', async () => {
      await expectClose(frame([1]), '[1]');
    });

    test('wrong element counts get a Close message: an Invocation without arguments', async () => {
      await expectClose(frame([1, {}, '2', 'echo']), '[1, {}, id, target]');
    });

    test('wrong types get a Close message: the target as an integer', async () => {
      await expectClose(frame([1, {}, '2', 42, []]), 'target as int');
    });

    test('wrong types get a Close message: the arguments as a string', async () => {
      await expectClose(frame([1, {}, '2', 'echo', 'not an array']), 'arguments as string');
    });

    test('wrong types get a Close message: the message type as a string', async () => {
      await expectClose(frame(['1', {}, '2', 'echo', []]), 'type as string');
    });

    test('a record that is not MessagePack gets a Close message', async () => {
      // 0xc1 is never used in MessagePack.
      await expectClose(Buffer.concat([varint(3), Buffer.from([0x93, 0xc1, 0xc1])]), 'reserved byte 0xc1');
    });

    test('a record whose array is shorter than its header says gets a Close message', async () => {
      // The record holds an array header of 5 but only 2 elements.
      await expectClose(frame(raw(Buffer.concat([Buffer.from([0x95]), encode(1), encode({})]))), 'truncated array');
    });
  });

  describe('HTTP statuses of the client endpoint', () => {
    test('SSE and long polling for an unknown id get 404', async () => {
      const { token } = await negotiate();
      const sse = await request('GET', 'no-such-connection', token, { headers: { accept: 'text/event-stream' } });
      assert.equal(sse.status, 404, 'SSE');
      await sse.body?.cancel();
      const poll = await request('GET', 'no-such-connection', token);
      assert.equal(poll.status, 404, 'long poll');
      const send = await request('POST', 'no-such-connection', token, { body: `{"type":6}${RS}` });
      assert.equal(send.status, 404, 'POST');
      const del = await request('DELETE', 'no-such-connection', token);
      assert.equal(del.status, 404, 'DELETE');
    });

    test('requests without an id get 400', async () => {
      const { token } = await negotiate();
      const sse = await request('GET', undefined, token, { headers: { accept: 'text/event-stream' } });
      assert.equal(sse.status, 400, 'SSE');
      await sse.body?.cancel();
      assert.equal((await request('GET', undefined, token)).status, 400, 'long poll');
      assert.equal((await request('POST', undefined, token, { body: `{"type":6}${RS}` })).status, 400, 'POST');
      assert.equal((await request('DELETE', undefined, token)).status, 400, 'DELETE');
    });

    test('a POST to a WebSocket connection gets 405, and a second WebSocket for its id 409', async () => {
      const c = await msgpackConnection('ws-statuses');
      let second;
      try {
        const post = await request('POST', c.connectionToken, c.token, { body: `{"type":6}${RS}` });
        assert.equal(post.status, 405);
        second = await RawWebSocket.open(stack.gatewayUrl, clientPath(c.connectionToken), auth(c.token));
        assert.equal(second.status, 409);
        // The first socket is unaffected.
        c.ws.sendBinary(frame([1, {}, '7', 'echo', ['still here']]));
        const reply = await c.ws.next();
        assert.deepEqual(unframe(reply.payload).filter((m) => m[0] !== 6), [[3, {}, '7', 3, 'still here']]);
      } finally {
        second?.destroy();
        c.ws.destroy();
      }
    });

    test('DELETE on an SSE connection gets 400, and the stream stays up', async () => {
      const n = await negotiate('sse-delete');
      const abort = new AbortController();
      try {
        const sse = await fetch(`${stack.gatewayUrl}${clientPath(n.connectionToken)}&access_token=${n.token}`, {
          headers: { accept: 'text/event-stream' }, signal: abort.signal,
        });
        assert.equal(sse.status, 200);
        assert.match(sse.headers.get('content-type'), /^text\/event-stream/);
        const reader = sse.body.getReader();
        const decoder = new TextDecoder();
        let text = '';
        const readUntil = async (what) => {
          while (!text.includes(what)) {
            const { value, done } = await reader.read();
            if (done) throw new Error(`SSE stream ended before ${JSON.stringify(what)}; got ${JSON.stringify(text)}`);
            text += decoder.decode(value, { stream: true });
          }
        };
        const del = await request('DELETE', n.connectionToken, n.token);
        assert.equal(del.status, 400);
        // Still a working connection: handshake and an invocation over POST, answers on the stream.
        assert.equal((await request('POST', n.connectionToken, n.token, { body: `{"protocol":"json","version":1}${RS}` })).status, 200);
        await readUntil(`data: {}${RS}`);
        assert.equal((await request('POST', n.connectionToken, n.token,
          { body: `{"type":1,"invocationId":"1","target":"echo","arguments":["sse ok"]}${RS}` })).status, 200);
        await readUntil('sse ok');
        assert.match(text, /"invocationId":"1"/);
      } finally {
        abort.abort();
      }
      await until(async () => (await functionEvents(stack, n.connectionId)).some((e) => e.event === 'disconnected'),
        { what: 'disconnected after the SSE stream was dropped' });
    });

    test('long polling: DELETE ends a pending poll with 204 or 404; later polls get 204 or 404, and 404 once the connection is gone', async (t) => {
      const n = await negotiate('lp-delete');
      assert.equal((await request('GET', n.connectionToken, n.token)).status, 200, 'first poll');
      assert.equal((await request('POST', n.connectionToken, n.token, { body: `{"protocol":"json","version":1}${RS}` })).status, 200);
      const handshake = await request('GET', n.connectionToken, n.token);
      assert.equal(handshake.status, 200);
      assert.equal(await handshake.text(), `{}${RS}`);

      // An invocation answered through a poll: the connection works before the DELETE.
      const pending = request('GET', n.connectionToken, n.token);
      assert.equal((await request('POST', n.connectionToken, n.token,
        { body: `{"type":1,"invocationId":"1","target":"echo","arguments":["lp ok"]}${RS}` })).status, 200);
      const answered = await pending;
      assert.equal(answered.status, 200);
      assert.match(await answered.text(), /"result":"lp ok"/);

      // A poll parked at DELETE time. It travels on its own socket, so the test cannot know whether it
      // reached the gateway before the DELETE: it must end with 204 (terminated) or 404 (gone), never
      // with 200 and never by hanging until the 10 s guard.
      const parked = request('GET', n.connectionToken, n.token);
      const del = await request('DELETE', n.connectionToken, n.token);
      assert.equal(del.status, 202);
      const parkedStatus = (await parked).status;
      assert.ok([204, 404].includes(parkedStatus), `the poll pending at DELETE ended with ${parkedStatus}`);
      const after = (await request('GET', n.connectionToken, n.token)).status;
      assert.ok([204, 404].includes(after), `a poll right after DELETE got ${after}`);
      t.diagnostic(`long polling after DELETE: the pending poll got ${parkedStatus}, the next poll ${after}`);

      await until(async () => (await functionEvents(stack, n.connectionId)).some((e) => e.event === 'disconnected'),
        { what: 'disconnected after DELETE' });
      const gone = await until(async () => {
        const s = (await request('GET', n.connectionToken, n.token)).status;
        return s === 404 ? s : (s === 204 ? undefined : s);
      }, { what: 'a poll answered 404 once the connection is gone', timeoutMs: 5_000 });
      assert.equal(gone, 404);
    });
  });
});
