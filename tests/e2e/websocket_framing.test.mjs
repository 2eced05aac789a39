// The gateway's own WebSocket framing (RFC 6455), by hand over a raw socket:
// - the upgrade: 101 with the RFC's Sec-WebSocket-Accept; 426 for a version other than 13, 400 for a bad key;
// - pings answered with pongs carrying the same payload; fragmented messages (a ping between fragments)
//   joined; a record split across frames;
// - broken framing closed with the RFC's codes: unmasked 1002, text that isn't UTF-8 1007, a declared
//   length over the limit 1009 (before any payload); the function still hears `disconnected`;
// - corked sends: 200 sends in one reply arrive complete and in order, in fewer WebSocket messages than
//   records, and every message holds whole records;
// - the send queue is bounded: a client that stops reading is closed with send_queue_full once the
//   kernel's buffers and its 256 KiB queue are full; the function hears `disconnected`, a bystander
//   keeps working.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { negotiateAs } from './lib/negotiate.mjs';
import { clientToken, restToken } from './lib/tokens.mjs';
import { RawWebSocket, RS, hubMessages } from './lib/rawws.mjs';

describe('WebSocket framing', { timeout: 120_000 }, () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const auth = (token) => ({ authorization: `Bearer ${token}` });

  /** A raw WebSocket to `on` (default: this suite's stack) with the JSON handshake done. */
  async function jsonConnection(user, on = stack) {
    const n = await negotiateAs(on, user);
    const ws = await RawWebSocket.open(on.gatewayUrl, `/client/?hub=e2e&id=${n.connectionToken}`, auth(n.token));
    assert.equal(ws.status, 101);
    ws.sendText(`{"protocol":"json","version":1}${RS}`);
    const handshake = await ws.next();
    assert.equal(handshake.text, `{}${RS}`);
    return { ...n, ws };
  }

  /** Reads text frames until a Completion for `invocationId`; returns {frames, messages}. */
  async function readUntilCompletion(ws, invocationId) {
    const frames = [];
    const messages = [];
    for (;;) {
      const frame = await ws.next(10_000);
      assert.ok(!frame.end && frame.opcode === 1, `a text frame, got ${JSON.stringify(frame)}`);
      frames.push(frame.text);
      const records = hubMessages([frame.text]).filter((m) => m.type !== 6);
      messages.push(...records);
      if (records.some((m) => m.type === 3 && m.invocationId === invocationId)) return { frames, messages };
    }
  }

  /** Sends an upgrade request by hand and returns the response head. */
  function rawUpgrade(headers) {
    return new Promise((resolve, reject) => {
      const url = new URL(stack.gatewayUrl);
      const socket = net.connect(Number(url.port), url.hostname);
      let data = '';
      socket.setTimeout(10_000, () => { socket.destroy(); reject(new Error('no upgrade response within 10 s')); });
      socket.on('connect', () => {
        socket.write([`GET /client/?hub=e2e HTTP/1.1`, `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade',
          ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n');
      });
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.destroy();
        const [statusLine, ...lines] = data.slice(0, end).split('\r\n');
        const head = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine.split(' ')[1]), headers: head });
      });
      socket.on('error', reject);
    });
  }

  test('the upgrade answers with the RFC accept key, and refuses a bad version or key', async () => {
    const token = clientToken(stack.gatewayUrl, stack.key, { user: 'upgrade' });
    const key = randomBytes(16).toString('base64');
    const ok = await rawUpgrade({ 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', Authorization: `Bearer ${token}` });
    assert.equal(ok.status, 101);
    const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.equal(ok.headers['sec-websocket-accept'], expected);
    assert.equal(ok.headers['sec-websocket-extensions'], undefined, 'no extension is negotiated');

    const oldVersion = await rawUpgrade({ 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '8', Authorization: `Bearer ${token}` });
    assert.equal(oldVersion.status, 426);
    assert.equal(oldVersion.headers['sec-websocket-version'], '13');
    const badKey = await rawUpgrade({ 'Sec-WebSocket-Key': 'not-a-key', 'Sec-WebSocket-Version': '13', Authorization: `Bearer ${token}` });
    assert.equal(badKey.status, 400);
  });

  test('pings get pongs with their payload; fragments and split records are joined', async () => {
    const { ws } = await jsonConnection('fragments');
    ws.writeRaw(ws.frameBytes(0x9, Buffer.from('are you there')));
    const pong = await ws.next();
    assert.equal(pong.opcode, 0xa, `a pong, got ${JSON.stringify(pong)}`);
    assert.equal(pong.payload.toString(), 'are you there');

    // One invocation in three fragments, a ping between the first two.
    const record = `{"type":1,"invocationId":"f1","target":"echo","arguments":["joined"]}${RS}`;
    ws.writeRaw(ws.frameBytes(0x1, Buffer.from(record.slice(0, 10)), { fin: false }));
    ws.writeRaw(ws.frameBytes(0x9, Buffer.from('mid')));
    ws.writeRaw(ws.frameBytes(0x0, Buffer.from(record.slice(10, 30)), { fin: false }));
    ws.writeRaw(ws.frameBytes(0x0, Buffer.from(record.slice(30))));
    const midPong = await ws.next();
    assert.equal(midPong.opcode, 0xa);
    assert.equal(midPong.payload.toString(), 'mid');
    const { messages } = await readUntilCompletion(ws, 'f1');
    assert.deepEqual(messages.find((m) => m.type === 3), { type: 3, invocationId: 'f1', result: 'joined' });

    // One record split across two complete messages: the gateway carries the part over.
    const split = `{"type":1,"invocationId":"f2","target":"echo","arguments":["split"]}${RS}`;
    ws.sendText(split.slice(0, 25));
    ws.sendText(split.slice(25));
    const second = await readUntilCompletion(ws, 'f2');
    assert.deepEqual(second.messages.find((m) => m.type === 3), { type: 3, invocationId: 'f2', result: 'split' });
    ws.sendClose(1000);
    const close = await ws.next();
    assert.equal(close.opcode, 8);
    assert.equal(close.closeCode, 1000, 'the client close is answered with its code');
    ws.destroy();
  });

  for (const [what, bytes, code] of [
    ['an unmasked frame', (ws) => Buffer.concat([Buffer.from([0x81, 0x02]), Buffer.from('{}')]), 1002],
    ['text that is not UTF-8', (ws) => ws.frameBytes(0x1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])), 1007],
    ['a declared length over the limit', () => Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4]), 1009],
  ]) {
    test(`${what} closes with ${code}, and the function hears disconnected`, async () => {
      const { ws, connectionId } = await jsonConnection(`bad-${code}`);
      ws.writeRaw(bytes(ws));
      const { close } = await ws.readUntilClosed(10_000);
      assert.equal(close.opcode, 8, `a close frame, got ${JSON.stringify(close)}`);
      assert.equal(close.closeCode, code);
      ws.destroy();
      await until(async () => (await functionEvents(stack, connectionId)).some((e) => e.event === 'disconnected'),
        { what: `disconnected for ${connectionId}` });
    });
  }

  test('200 sends in one reply arrive in order, batched into fewer messages of whole records', async () => {
    const { ws } = await jsonConnection('burst');
    ws.sendText(`{"type":1,"invocationId":"b1","target":"burst","arguments":[200]}${RS}`);
    const { frames, messages } = await readUntilCompletion(ws, 'b1');
    const sends = messages.filter((m) => m.type === 1);
    assert.deepEqual(sends.map((m) => m.arguments[0]), Array.from({ length: 200 }, (_, i) => i), 'every send, in order');
    assert.ok(sends.every((m) => m.target === 'burst'));
    assert.deepEqual(messages.at(-1), { type: 3, invocationId: 'b1', result: 200 });
    assert.ok(frames.every((f) => f.endsWith(RS)), 'a WebSocket message never ends inside a record');
    assert.ok(frames.length < 50, `sends queued in one turn leave together: ${frames.length} messages for 201 records`);
    ws.destroy();
  });

  test('a client that stops reading is closed once its queue is full; a bystander keeps working', async () => {
    const small = await startStack({ gatewayArgs: ['--max-send-queue-bytes', '256KiB'] });
    try {
      const slow = await jsonConnection('slow-reader', small);
      const bystander = await jsonConnection('bystander', small);
      slow.ws.pause();

      // 100 KB per send to the slow user until the gateway gives up on it (at most 40 MB: far more than
      // loopback's socket buffers and the queue together).
      const url = `${small.gatewayUrl}/api/v1/hubs/e2e/users/slow-reader`;
      const body = JSON.stringify({ target: 'flood', arguments: ['x'.repeat(100_000)] });
      const closed = () => /send_queue_full/.test(small.gatewayLog());
      let sent = 0;
      for (; sent < 400 && !closed(); sent++) {
        const res = await fetch(url, {
          method: 'POST', body, signal: AbortSignal.timeout(10_000),
          headers: { authorization: `Bearer ${restToken(url, small.key)}`, 'content-type': 'application/json' },
        });
        assert.equal(res.status, 202);
      }
      await until(closed, { what: `a send_queue_full line after ${sent} sends` });
      await until(async () => (await functionEvents(small, slow.connectionId)).some((e) => e.event === 'disconnected'),
        { what: 'disconnected for the slow reader' });
      const metrics = await (await fetch(`${small.gatewayUrl}/metrics`)).text();
      assert.match(metrics, /switchboard_disconnects_total\{reason="send_queue_full"\} 1\b/);

      bystander.ws.sendText(`{"type":1,"invocationId":"q1","target":"echo","arguments":["still here"]}${RS}`);
      const { messages } = await readUntilCompletion(bystander.ws, 'q1');
      assert.deepEqual(messages.find((m) => m.type === 3), { type: 3, invocationId: 'q1', result: 'still here' });
      slow.ws.destroy();
      bystander.ws.destroy();
    } finally {
      await small.stop();
    }
  });
});
