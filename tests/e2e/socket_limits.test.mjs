// The socket limits of the security review (docs/security.md "Limits", items 1 and 2): bodies are read only
// after routing and the token check; the header bytes of anonymous sockets have a gateway-wide budget; a
// per-address cap and a shorter deadline for sockets that have not authenticated; --max-connections, where a
// newcomer takes the place of the oldest anonymous idle socket, so health probes answer under a flood. Each
// gateway here is started for its scenario; floods come from 127.0.0.2-4, probes from 127.0.0.1.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { READY, binPath, randomKey, startProgram, until } from './lib/processes.mjs';
import { resources } from './lib/resources.mjs';
import { buildConnection } from './lib/client.mjs';
import { clientToken, restToken } from './lib/tokens.mjs';

const started = [];
const sockets = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const g of started) await g.stop();
});

async function startGateway(args, { prlimit } = {}) {
  const key = randomKey();
  const gatewayArgs = ['--listen', '127.0.0.1:0', '--access-key', key, '--threads', '1', ...args];
  const gateway = prlimit
    ? await startProgram('/usr/bin/prlimit', [`--nofile=${prlimit}:${prlimit}`, binPath('switchboard'), ...gatewayArgs],
      { ready: READY.gateway, name: 'switchboard' })
    : await startProgram('switchboard', gatewayArgs, { ready: READY.gateway });
  started.push(gateway);
  return { gateway, key, url: gateway.url, port: Number(new URL(gateway.url).port), pid: gateway.child.pid };
}

/**
 * A raw socket from `localAddress`, with everything it receives in `received()` and `ended` resolving when
 * the gateway closes it.
 */
function openSocket(port, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => { text += chunk; });
    socket.received = () => text;
    socket.ended = new Promise((done) => socket.once('close', done));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Resolves with the first response's head and body once it is complete (Content-Length framed; no body
 * for `head`).
 */
async function readResponse(socket, what, { head = false } = {}) {
  let response;
  await until(() => {
    const text = socket.received();
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const length = head ? 0 : Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (text.length < end + 4 + length) return false;
    response = { status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) };
    return true;
  }, { what });
  return response;
}

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function health(url) {
  const response = await fetch(`${url}/health/live`, { signal: AbortSignal.timeout(5_000) });
  return response.status;
}

describe('bodies are read only after routing and the token check', () => {
  test('anonymous requests announcing large bodies are answered at once, from the header', async () => {
    const { port } = await startGateway([]);
    const cases = [
      ['POST /api/v1/hubs/e2e/:send', 401],            // REST without a token
      ['POST /client/?hub=e2e&id=x', 401],             // a long-polling send without a client token
      ['POST /no/such/endpoint', 404],
      ['GET /health/live', 200],                       // anonymous, takes no body
    ];
    for (const [requestLine, status] of cases) {
      const socket = await openSocket(port);
      // The body never comes: before, the gateway waited for it (up to --request-timeout) before routing.
      socket.write(`${requestLine} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`);
      const response = await readResponse(socket, `the answer to ${requestLine}`);
      assert.equal(response.status, status, `${requestLine}: ${response.head}`);
      // The unread body can't be told from a next request: the socket closes.
      assert.match(response.head, /connection: close/i, requestLine);
      await socket.ended;
    }
  });

  test('100 anonymous 512 KiB bodies are not buffered', async () => {
    const { port, pid, url } = await startGateway([]);
    const before = resources(pid).rssBytes;
    const body = 'x'.repeat(512 * 1024);
    const answers = [];
    for (let i = 0; i < 100; i++) {
      const socket = await openSocket(port, '127.0.0.2');
      socket.write(`POST /api/v1/hubs/e2e/:send HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.write(body);
      answers.push(readResponse(socket, 'a 401').then((r) => r.status));
    }
    assert.deepEqual(new Set(await Promise.all(answers)), new Set([401]));
    const grown = resources(pid).rssBytes - before;
    // Buffered, they would be 50 MiB; unread, each costs a socket and nothing more.
    assert.ok(grown < 16 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB`);
    assert.equal(await health(url), 200);
  });

  test('an authorized body over the limit is refused with 413, one under it is served', async () => {
    const { port, key, url } = await startGateway(['--rest-max-body-bytes', '1000']);
    const path = '/api/v1/hubs/e2e/:send';
    const token = restToken(`${url}${path}`, key);
    const send = async (bytes) => {
      const socket = await openSocket(port);
      const body = JSON.stringify({ target: 't', arguments: ['x'.repeat(bytes)] });
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return (await readResponse(socket, 'a REST answer')).status;
    };
    assert.equal(await send(100), 202);
    assert.equal(await send(2000), 413);
  });
});

test('Expect: 100-continue gets its 100 only once the token is checked', async () => {
  const { port, key, url } = await startGateway([]);
  const path = '/api/v1/hubs/e2e/:send';
  const body = JSON.stringify({ target: 't', arguments: ['x'.repeat(2000)] });
  const head = (authorization) => `POST ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n${authorization}` +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`;

  const authorized = await openSocket(port);
  authorized.write(head(`Authorization: Bearer ${restToken(`${url}${path}`, key)}\r\n`));
  await until(() => authorized.received().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), { what: 'the 100 Continue' });
  authorized.write(body);
  await until(() => authorized.received().includes('HTTP/1.1 202'), { what: 'the 202 after the body' });

  const anonymous = await openSocket(port);
  anonymous.write(head(''));
  const response = await readResponse(anonymous, 'the 401');
  assert.equal(response.status, 401);  // first: no 100 before it
});

describe('unauthenticated header bytes have a gateway-wide budget', () => {
  test('past --max-unauthenticated-bytes a partial header gets 503, and the budget comes back', async () => {
    const { port, url } = await startGateway(['--max-unauthenticated-bytes', '65536', '--max-unauthenticated-per-address', '0']);
    const partial = `GET /health/live HTTP/1.1\r\nX-Pad: ${'a'.repeat(8000)}`;  // never ends its header
    const slow = [];
    let held = 0;
    for (let i = 0; i < 12; i++) {
      const socket = await openSocket(port, '127.0.0.2');
      socket.write(partial);
      slow.push(socket);
      // Each is counted (or refused) before the next is sent, so which ones are refused is known.
      await until(async () => socket.received() !== '' || await metric(url, 'switchboard_unauthenticated_bytes') >= held + partial.length,
        { what: `partial header ${i} counted or refused` });
      held = await metric(url, 'switchboard_unauthenticated_bytes');
    }
    const refused = slow.filter((s) => s.received().startsWith('HTTP/1.1 503'));
    assert.equal(refused.length, 4, `${refused.length} of 12 refused`);  // 8 of 8 KB fit in 64 KiB
    assert.deepEqual(slow.slice(8), refused);
    for (const s of refused) assert.match(s.received(), /ServerBusy/);
    assert.ok(await metric(url, 'switchboard_unauthenticated_bytes') <= 65536);
    assert.equal(await health(url), 200);  // a complete header is parsed and answered, not held
    for (const s of slow) s.destroy();
    await until(async () => await metric(url, 'switchboard_unauthenticated_bytes') === 0, { what: 'the budget given back' });
  });
});

describe('sockets that have not authenticated', () => {
  test('are capped per address and closed at --header-timeout; authenticated ones are not', async () => {
    const { port, url, key } = await startGateway(['--max-unauthenticated-per-address', '20', '--header-timeout', '1s']);
    const idle = [];
    for (let i = 0; i < 20; i++) idle.push(await openSocket(port, '127.0.0.2'));
    const extra = await openSocket(port, '127.0.0.2');
    const refusal = await readResponse(extra, 'the 21st socket refused');
    assert.equal(refusal.status, 503);
    assert.match(refusal.body, /waiting to authenticate/);
    await extra.ended;

    // Another address is not affected; a socket whose request carried a token stays open past the deadline.
    const path = '/api/v1/hubs/e2e/users/u';
    const authed = await openSocket(port, '127.0.0.3');
    const ask = () => authed.write(`HEAD ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n` +
      `Authorization: Bearer ${restToken(`${url}${path}`, key)}\r\n\r\n`);
    ask();
    assert.equal((await readResponse(authed, 'the authenticated request', { head: true })).status, 404);

    await Promise.all(idle.map((s) => s.ended));  // the header deadline closed the idle ones
    for (const s of idle) assert.equal(s.received(), '');
    assert.ok(!authed.destroyed && authed.readyState === 'open', 'the authenticated socket was closed');
    const answered = authed.received().length;
    ask();
    await until(() => authed.received().length > answered, { what: 'a second answer on the authenticated socket' });

    // Their slots are free again.
    const later = await openSocket(port, '127.0.0.2');
    later.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await readResponse(later, 'a probe from the same address')).status, 200);
  });
});

describe('--max-connections', () => {
  test('a newcomer takes the place of the oldest anonymous idle socket; connected clients are untouched', async () => {
    const { port, url, key } = await startGateway(['--max-connections', '40', '--max-unauthenticated-per-address', '0']);
    const stack = { gatewayUrl: url, key };
    const clients = [];
    for (let i = 0; i < 5; i++) {
      // skipNegotiation: one socket per client, and no kept-alive negotiate socket counted.
      const connection = buildConnection(stack, { user: `u${i}`, skipNegotiation: true });
      await connection.start();
      clients.push(connection);
    }
    const flood = [];
    for (let i = 0; i < 60; i++) flood.push(await openSocket(port, '127.0.0.2'));
    await until(async () => (await metric(url, 'switchboard_rejected_input_total{reason="idle_socket_evicted"}')) >= 20,
      { what: 'evictions' });
    assert.equal(await health(url), 200);
    assert.ok(await metric(url, 'switchboard_open_sockets') <= 41, 'open sockets over the limit');
    for (const c of clients) assert.equal(c.state, 'Connected');
    const evicted = flood.filter((s) => s.destroyed || s.readyState !== 'open');
    assert.ok(evicted.length >= 20, `${evicted.length} of 60 evicted`);
    for (const c of clients) await c.stop();
  });

  test('with nothing to evict, a socket past the limit gets 503', async () => {
    const { port, url, key } = await startGateway(['--max-connections', '6']);
    const stack = { gatewayUrl: url, key };
    const clients = [];
    for (let i = 0; i < 6; i++) {
      // skipNegotiation: one socket per client, and no kept-alive negotiate socket counted.
      const connection = buildConnection(stack, { user: `u${i}`, skipNegotiation: true });
      await connection.start();
      clients.push(connection);
    }
    const extra = await openSocket(port);
    const refusal = await readResponse(extra, 'the refusal');
    assert.equal(refusal.status, 503);
    assert.match(refusal.body, /connection limit/);
    for (const c of clients) assert.equal(c.state, 'Connected');
    for (const c of clients) await c.stop();
  });
});

// The review's probe: descriptors limited to 600, 650 idle anonymous sockets, from three addresses so that
// the per-address cap alone would not stop them. Health must still answer.
const skip = process.env.SWITCHBOARD_SANITIZED ? 'the sanitizer runtime itself needs descriptors' : false;
test('under a flood of idle sockets over the descriptor limit, health probes answer', { skip }, async () => {
  const { port, url, gateway } = await startGateway([], { prlimit: 600 });
  await until(() => /max_connections=536/.test(gateway.stderr()), { what: 'max_connections derived from the limit' });
  const opened = [];
  for (let i = 0; i < 650; i++) {
    opened.push(openSocket(port, `127.0.0.${2 + (i % 3)}`).catch(() => null));
  }
  await Promise.all(opened);
  for (let i = 0; i < 3; i++) assert.equal(await health(url), 200);
  assert.ok(await metric(url, 'switchboard_open_sockets') <= 537);
});
