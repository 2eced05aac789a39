// The operator console's routes without a browser (--admin-key; docs/operations.md "Operator console"):
// every route refuses a request without the key, with a wrong one or with a forged session (401); the
// sign-in sets a session cookie that works; a POST needs the console header; the API's numbers and
// actions act on real clients; a question for another gateway of a fleet is relayed there; and a
// live-trace viewer that stops reading is dropped, not buffered.
// (console.browser.test.mjs drives the page itself in headless Chromium.)

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { randomKey, startStack, until } from './lib/processes.mjs';
import { Clients, withTimeout } from './lib/client.mjs';
import { fleetClients, metric, startFleet } from './lib/fleet.mjs';
import { rest } from './lib/rest.mjs';

const ADMIN_KEY = `admin-${randomKey()}`;
const bearer = (key = ADMIN_KEY) => ({ Authorization: `Bearer ${key}` });
const basic = (password) => ({ Authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` });

/** A session cookie value as the gateway signs it: expiry "." base64url(HMAC-SHA256(key, purpose:expiry)). */
function forgedSession(key, expiry) {
  const mac = createHmac('sha256', key).update(`switchboard-console-session:${expiry}`).digest('base64url');
  return `sb_console=${expiry}.${mac}`;
}

async function call(stack, method, path, { headers = {}, body } = {}) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

const post = (stack, path, json, headers = bearer()) => call(stack, 'POST', path, {
  headers: { ...headers, 'Content-Type': 'application/json', 'X-Switchboard-Console': '1' }, body: JSON.stringify(json),
});

/** Every console route and a request that would act if it were let through. */
const ROUTES = [
  ['GET', '/admin'], ['GET', '/admin/'], ['GET', '/admin/index.html'], ['GET', '/admin/console.js'],
  ['GET', '/admin/console.css'], ['GET', '/admin/login.html'], ['GET', '/admin/api/fleet'], ['GET', '/admin/api/history?gateway=all'],
  ['GET', '/admin/api/hubs'], ['GET', '/admin/api/hub?hub=e2e'], ['GET', '/admin/api/group?hub=e2e&group=g'],
  ['GET', '/admin/api/connection?hub=e2e&id=x'], ['GET', '/admin/api/trace'], ['POST', '/admin/api/close-connection'],
  ['POST', '/admin/api/close-group'], ['POST', '/admin/api/send'], ['POST', '/admin/api/drain'], ['POST', '/admin/logout'],
  ['DELETE', '/admin/api/hubs'], ['PUT', '/admin/anything'],
];

describe('operator console routes', { timeout: 120_000 }, () => {
  let stack;
  let clients;

  before(async () => {
    stack = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--threads', '2'] });
    clients = new Clients(stack);
  });
  after(async () => { await stack?.stop(); });
  afterEach(async (t) => { await clients.cleanUp(t); });

  test('every route answers 401 without the key, with a wrong key, and with a forged or expired session', async () => {
    const now = Math.floor(Date.now() / 1000);
    const refusals = {
      none: {},
      'wrong bearer': bearer('not-the-admin-key-at-all'),
      'wrong basic': basic('not-the-admin-key-at-all'),
      'access key as admin key': bearer(stack.key),
      'session signed with another key': { Cookie: forgedSession('another-key-of-some-length', now + 3600) },
      'expired session': { Cookie: forgedSession(ADMIN_KEY, now - 1) },
      'tampered session': { Cookie: forgedSession(ADMIN_KEY, now + 3600).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) },
    };
    for (const [what, headers] of Object.entries(refusals)) {
      for (const [method, path] of ROUTES) {
        const body = method === 'POST' ? JSON.stringify({ hub: 'e2e', gateway: 'local', connectionId: 'x', group: 'g', target: 't' }) : undefined;
        const res = await call(stack, method, path, {
          headers: { ...headers, 'Content-Type': 'application/json', 'X-Switchboard-Console': '1' }, body,
        });
        assert.equal(res.status, 401, `${what}: ${method} ${path} -> ${res.status} ${res.text.slice(0, 200)}`);
        assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/, `${method} ${path}`);
      }
    }
    // A browser asking for a page gets the sign-in form, still with 401.
    const page = await call(stack, 'GET', '/admin/', { headers: { Accept: 'text/html' } });
    assert.equal(page.status, 401);
    assert.match(page.text, /name="key"/);
    // Nothing was let through: the gateway did not start draining.
    assert.equal((await fetch(`${stack.gatewayUrl}/health/ready`)).status, 200);
  });

  test('with the key every route answers; the sign-in form sets a session cookie that works', async () => {
    for (const headers of [bearer(), basic(ADMIN_KEY)]) {
      for (const path of ['/admin/', '/admin/console.js', '/admin/console.css', '/admin/api/fleet', '/admin/api/hubs']) {
        const res = await call(stack, 'GET', path, { headers });
        assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      }
    }
    // HEAD: a GET's headers and no body (a raw socket sees every byte the gateway writes).
    for (const [path, key] of [['/admin/', ADMIN_KEY], ['/admin/console.js', ADMIN_KEY], ['/admin/', 'wrong-key-of-some-length']]) {
      const raw = await new Promise((resolve, reject) => {
        const { hostname, port } = new URL(stack.gatewayUrl);
        const socket = net.connect(Number(port), hostname, () => socket.end(
          `HEAD ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (d) => { text += d.toString('latin1'); });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      const [head, body] = raw.split('\r\n\r\n');
      assert.match(head, key === ADMIN_KEY ? /^HTTP\/1\.1 200/ : /^HTTP\/1\.1 401/);
      assert.ok(Number(/content-length: (\d+)/i.exec(head)?.[1]) > 0, head);
      assert.equal(body, '', `HEAD ${path} wrote a body`);
    }

    const wrong = await call(stack, 'POST', '/admin/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'key=wrong-key-of-some-length',
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /class="error"/);
    assert.equal(wrong.headers.get('set-cookie'), null);

    // An anonymous sign-in can't make the gateway read a large body.
    const large = await call(stack, 'POST', '/admin/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `key=${'k'.repeat(5000)}`,
    });
    assert.equal(large.status, 413);

    const login = await call(stack, 'POST', '/admin/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `key=${encodeURIComponent(ADMIN_KEY)}`,
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/admin/');
    const cookie = login.headers.get('set-cookie');
    assert.match(cookie, /^sb_console=\d+\.[A-Za-z0-9_-]+; Path=\/admin; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const session = cookie.split(';')[0];
    const fleet = await call(stack, 'GET', '/admin/api/fleet', { headers: { Cookie: session } });
    assert.equal(fleet.status, 200);
    assert.equal(fleet.json().self, 'local');
    // The key never reaches the log.
    assert.ok(!stack.gatewayLog().includes(ADMIN_KEY), 'the admin key is in the gateway log');
    assert.match(stack.gatewayLog(), /console signed_in/);
    assert.match(stack.gatewayLog(), /console login_failed.*reason=wrong_key/);
  });

  test('a POST without the console header is refused (a cross-site form cannot send it)', async () => {
    const alice = await clients.connect({ user: 'alice' });
    const res = await call(stack, 'POST', '/admin/api/close-connection', {
      headers: { ...bearer(), 'Content-Type': 'application/json' }, body: JSON.stringify({ hub: 'e2e', connectionId: alice.connectionId }),
    });
    assert.equal(res.status, 403);
    assert.equal(await alice.invoke('echo', 'still here'), 'still here');
  });

  test('hubs, groups and connections show what the clients did; close and send act on them', async () => {
    const alice = await clients.connect({ user: 'alice' });
    const bob = await clients.connect({ user: 'bob', transport: 'ServerSentEvents' });
    const bob2 = await clients.connect({ user: 'bob', protocol: 'messagepack' });
    await alice.invoke('joinGroup', 'room');
    await bob.invoke('joinGroup', 'room');
    await bob2.invoke('joinGroup', 'lobby');

    const hubs = (await call(stack, 'GET', '/admin/api/hubs', { headers: bearer() })).json();
    assert.deepEqual(hubs.hubs.map((h) => [h.name, h.connections, h.users, h.groups]), [['e2e', 3, 2, 2]]);
    const hub = (await call(stack, 'GET', '/admin/api/hub?hub=E2E', { headers: bearer() })).json();
    assert.equal(hub.connections, 3);
    assert.equal(hub.users, 2);
    assert.deepEqual(hub.groups, [{ name: 'room', members: 2 }, { name: 'lobby', members: 1 }]);
    assert.deepEqual(hub.connectionList.map((c) => c.id).sort(), [alice.connectionId, bob.connectionId, bob2.connectionId].sort());
    const group = (await call(stack, 'GET', '/admin/api/group?hub=e2e&group=room', { headers: bearer() })).json();
    assert.deepEqual(group.members.map((c) => c.user).sort(), ['alice', 'bob']);
    const detail = (await call(stack, 'GET', `/admin/api/connection?hub=e2e&id=${encodeURIComponent(bob2.connectionId)}`, { headers: bearer() })).json();
    assert.equal(detail.user, 'bob');
    assert.equal(detail.transport, 'WebSockets');
    assert.equal(detail.protocol, 'messagepack');
    assert.deepEqual(detail.groups, ['lobby']);
    assert.equal((await call(stack, 'GET', '/admin/api/connection?hub=e2e&id=nobody', { headers: bearer() })).status, 404);

    // A test message to a user reaches both of bob's connections and nobody else.
    const got = [bob, bob2, alice].map((c) => new Promise((resolve) => c.on('consoleTest', (...args) => resolve(args))));
    let aliceGot = false;
    alice.on('consoleTest', () => { aliceGot = true; });
    assert.equal((await post(stack, '/admin/api/send', { hub: 'e2e', scope: 'user', id: 'bob', target: 'consoleTest', arguments: ['hi', 2] })).status, 202);
    assert.deepEqual(await withTimeout(got[0], 5_000, 'bob'), ['hi', 2]);
    assert.deepEqual(await withTimeout(got[1], 5_000, 'bob2'), ['hi', 2]);
    assert.equal(await alice.invoke('echo', 'after'), 'after');  // alice's turn came after the send
    assert.equal(aliceGot, false);
    assert.equal((await post(stack, '/admin/api/send', { hub: 'e2e', scope: 'user', target: 'x' })).status, 400);

    // Closing a connection: the client sees the server's Close; the others stay.
    assert.equal((await post(stack, '/admin/api/close-connection', { hub: 'e2e', connectionId: alice.connectionId, reason: 'maintenance' })).status, 202);
    const error = await withTimeout(alice.closed, 5_000, 'alice closed');
    assert.match(String(error), /maintenance/);
    // Closing a group closes its members.
    assert.equal((await post(stack, '/admin/api/close-group', { hub: 'e2e', group: 'room' })).status, 202);
    await withTimeout(bob.closed, 5_000, 'bob closed');
    assert.equal(await bob2.invoke('echo', 'alive'), 'alive');
    assert.match(stack.gatewayLog(), /console action action=close-connection hub=e2e id=\S+/);
  });

  test('bad console API input gets a clear error, and the gateway serves on', async () => {
    for (const [path, body] of [
      ['/admin/api/send', '{'], ['/admin/api/send', '[]'], ['/admin/api/send', '{"hub":"e2e","target":"t","arguments":{}}'],
      ['/admin/api/send', '{"hub":"e2e","scope":"everyone","target":"t"}'], ['/admin/api/close-connection', '{"hub":"e2e"}'],
      ['/admin/api/close-group', '{"hub":"not a hub!","group":"g"}'], ['/admin/api/drain', 'null'],
    ]) {
      const res = await call(stack, 'POST', path, { headers: { ...bearer(), 'Content-Type': 'application/json', 'X-Switchboard-Console': '1' }, body });
      assert.equal(res.status, 400, `${path} ${body}: ${res.status} ${res.text}`);
      assert.ok(res.json().code, res.text);
    }
    assert.equal((await call(stack, 'GET', '/admin/api/nothing', { headers: bearer() })).status, 404);
    assert.equal((await call(stack, 'GET', '/admin/api/hub?hub=e2e&gateway=gw-elsewhere', { headers: bearer() })).status, 404);
    assert.equal((await call(stack, 'GET', '/admin/api/hub', { headers: bearer() })).status, 400);
    assert.equal((await fetch(`${stack.gatewayUrl}/health/ready`)).status, 200);
  });

  test('a live-trace viewer that stops reading is dropped, not buffered; others carry on', async () => {
    const dropped = await metric(stack, 'switchboard_console_viewers_dropped_total');
    // A raw socket that asks for every event, with a generous budget, and never reads.
    const { port } = new URL(stack.gatewayUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /admin/api/trace?kinds=rest&budget=${16 * 1024 * 1024} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n\r\n`);
    let closed = false;
    socket.on('close', () => { closed = true; });
    socket.once('data', () => socket.pause());  // the head arrives; from now on nothing is read
    await until(async () => (await metric(stack, 'switchboard_console_viewers')) === 1, { what: 'the viewer registered' });

    // REST calls with long paths: each is a ~4 KB event.
    const long = 'g'.repeat(4000);
    let calls = 0;
    while ((await metric(stack, 'switchboard_console_viewers_dropped_total')) === dropped) {
      await Promise.all(Array.from({ length: 50 }, () => rest(stack, 'GET', `/api/v1/hubs/e2e/groups/${long}/connections/x`)));
      calls += 50;
      assert.ok(calls < 20_000, 'the slow viewer was never dropped');
    }
    assert.equal(await metric(stack, 'switchboard_console_viewers'), 0);
    socket.resume();  // reading again: the gateway closed it
    await until(() => closed, { what: 'the slow viewer socket closed' });
    assert.match(stack.gatewayLog(), /console viewer_dropped/);
    // A new viewer gets events.
    const controller = new AbortController();
    const res = await fetch(`${stack.gatewayUrl}/admin/api/trace?kinds=rest`, { headers: bearer(), signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body.getReader();
    await rest(stack, 'GET', '/api/v1/hubs/e2e/groups/after-drop/connections/x');
    let text = '';
    while (!text.includes('after-drop')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
  });
});

/** Reads SSE events from a console trace stream; resolves with the parsed event once `predicate` holds. */
async function openTrace(stack, query, key = ADMIN_KEY) {
  const controller = new AbortController();
  const res = await fetch(`${stack.gatewayUrl}/admin/api/trace?${query}`, { headers: bearer(key), signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const events = [];
  let buffered = '';
  const waiters = [];
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 4);
          for (const line of block.split('\r\n')) {
            if (!line.startsWith('data: ') || line.length === 6) continue;
            events.push(JSON.parse(line.slice(6)));
          }
          for (const w of [...waiters]) w();
        }
      }
    } catch { /* aborted */ }
  })();
  return {
    events,
    close: () => controller.abort(),
    waitFor(predicate, what) {
      return withTimeout(new Promise((resolve) => {
        const check = () => {
          const found = events.find(predicate);
          if (found) { waiters.splice(waiters.indexOf(check), 1); resolve(found); }
        };
        waiters.push(check);
        check();
      }), 10_000, what);
    },
  };
}

describe('live trace filters', { timeout: 60_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--threads', '2'] });
    clients = new Clients(stack);
  });
  after(async () => { await stack?.stop(); });
  afterEach(async (t) => { await clients.cleanUp(t); });

  test('a user filter shows only that user; every kind of event arrives with its trace id', async () => {
    const all = await openTrace(stack, '');
    const onlyAlice = await openTrace(stack, 'user=alice');
    await until(async () => (await metric(stack, 'switchboard_console_viewers')) === 2, { what: 'two viewers' });
    const bob = await clients.connect({ user: 'bob' });
    assert.equal(await bob.invoke('echo', 'from bob'), 'from bob');
    const alice = await clients.connect({ user: 'alice' });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    assert.equal(await alice.invoke('echo', 'from alice'), 'from alice');
    await rest(stack, 'POST', '/api/v1/hubs/e2e/:send', { json: { target: 't', arguments: [] }, headers: { traceparent } });
    await alice.stop();

    const disconnect = await onlyAlice.waitFor((e) => e.kind === 'disconnect', "alice's disconnect");
    assert.equal(disconnect.reason, 'client_close');
    // The unfiltered viewer saw bob; the filtered one saw alice only, and each kind of her events.
    await all.waitFor((e) => e.user === 'bob' && e.kind === 'reply', "bob's reply in the unfiltered view");
    const restEvent = await all.waitFor((e) => e.kind === 'rest' && e.path === '/api/v1/hubs/e2e/:send', 'the REST call');
    assert.equal(restEvent.trace, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(restEvent.status, 202);
    assert.equal(restEvent.hub, 'e2e');
    assert.deepEqual([...new Set(onlyAlice.events.map((e) => e.user))], ['alice']);
    const kinds = onlyAlice.events.map((e) => e.kind);
    for (const kind of ['connect', 'invocation', 'upstream', 'reply', 'disconnect']) assert.ok(kinds.includes(kind), `${kind} in ${kinds}`);
    const upstream = onlyAlice.events.find((e) => e.kind === 'upstream' && e.event === 'echo');
    assert.equal(upstream.status, 200);
    assert.equal(upstream.outcome, 'ok');
    assert.ok(upstream.latencyMs > 0);
    const invocation = onlyAlice.events.find((e) => e.kind === 'invocation');
    assert.equal(invocation.target, 'echo');
    assert.equal(invocation.trace, upstream.trace);
    assert.match(invocation.trace, /^[0-9a-f]{32}$/);
    all.close();
    onlyAlice.close();
    await until(async () => (await metric(stack, 'switchboard_console_viewers')) === 0, { what: 'the viewers gone' });
  });
});

describe('the read key (--admin-read-key)', { timeout: 60_000 }, () => {
  const READ_KEY = `read-${randomKey()}`;
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--admin-read-key', READ_KEY] });
    clients = new Clients(stack);
  });
  after(async () => { await stack?.stop(); });
  afterEach(async (t) => { await clients.cleanUp(t); });

  test('looks at every page, figure and the trace, but cannot close, send or drain', async () => {
    const kim = await clients.connect({ user: 'kim' });
    for (const path of ['/admin/', '/admin/console.js', '/admin/api/fleet', '/admin/api/hubs', '/admin/api/hub?hub=e2e',
      `/admin/api/connection?hub=e2e&id=${encodeURIComponent(kim.connectionId)}`]) {
      const res = await call(stack, 'GET', path, { headers: bearer(READ_KEY) });
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
      if (path.startsWith('/admin/api/')) assert.equal(res.headers.get('x-switchboard-console-access'), 'read');
    }
    const trace = await openTrace(stack, 'user=kim', READ_KEY);
    assert.equal(await kim.invoke('echo', 'seen'), 'seen');
    await trace.waitFor((e) => e.kind === 'reply', "kim's reply in the read key's trace");
    trace.close();

    // Every action is refused, and nothing happens.
    const actions = [
      ['/admin/api/close-connection', { hub: 'e2e', connectionId: kim.connectionId }],
      ['/admin/api/close-group', { hub: 'e2e', group: 'g' }],
      ['/admin/api/send', { hub: 'e2e', scope: 'user', id: 'kim', target: 'fromReader', arguments: [] }],
      ['/admin/api/drain', { gateway: 'local' }],
    ];
    let received = 0;
    kim.on('fromReader', () => { received += 1; });
    for (const [path, body] of actions) {
      const res = await post(stack, path, body, bearer(READ_KEY));
      assert.equal(res.status, 403, path);
      assert.equal(res.json().code, 'read_only');
    }
    assert.equal(await kim.invoke('echo', 'still open'), 'still open');
    assert.equal((await fetch(`${stack.gatewayUrl}/health/ready`)).status, 200, 'not draining');

    // Signed in through the form with the read key, the session looks but does not act either.
    const login = await call(stack, 'POST', '/admin/login', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `key=${encodeURIComponent(READ_KEY)}`,
    });
    assert.equal(login.status, 303);
    const session = login.headers.get('set-cookie').split(';')[0];
    assert.equal((await call(stack, 'GET', '/admin/api/hubs', { headers: { Cookie: session } })).status, 200);
    assert.equal((await post(stack, '/admin/api/close-connection', actions[0][1], { Cookie: session })).status, 403);
    assert.match(stack.gatewayLog(), /console signed_in access=read/);

    // The admin key still acts; its answers say so.
    const send = await post(stack, '/admin/api/send', { hub: 'e2e', scope: 'user', id: 'kim', target: 'fromReader', arguments: [] });
    assert.equal(send.status, 202);
    assert.equal(send.headers.get('x-switchboard-console-access'), 'full');
    await until(() => received === 1, { what: "the admin's message" });
    assert.ok(!stack.gatewayLog().includes(READ_KEY), 'the read key is in the gateway log');
  });

  test('is refused without --admin-key, or equal to it', async () => {
    await assert.rejects(startStack({ gatewayArgs: ['--admin-read-key', READ_KEY] }), /needs --admin-key/);
    await assert.rejects(startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--admin-read-key', ADMIN_KEY] }), /must differ/);
  });
});

describe('the console on its own address (--admin-listen)', { timeout: 60_000 }, () => {
  test('serves the console there only, still behind the key', async () => {
    const own = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--admin-listen', '127.0.0.1:0', '--shutdown-timeout', '1s'] });
    try {
      const printed = /switchboard console on (http:\/\/[^\s]+)\/admin\//.exec(own.gateway.stdout());
      assert.ok(printed, own.gateway.stdout());
      const admin = { gatewayUrl: printed[1] };
      assert.notEqual(admin.gatewayUrl, own.gatewayUrl);
      assert.equal((await call(admin, 'GET', '/admin/api/fleet', { headers: bearer() })).status, 200);
      assert.equal((await call(admin, 'GET', '/admin/api/fleet')).status, 401);
      assert.equal((await call(admin, 'GET', '/admin/', { headers: { Accept: 'text/html' } })).status, 401);
      // Not on the main listener; and the admin listener serves nothing but the console.
      assert.equal((await call(own, 'GET', '/admin/api/fleet', { headers: bearer() })).status, 404);
      assert.equal((await call(admin, 'GET', '/health/ready')).status, 404);
      assert.equal((await call(admin, 'POST', '/client/negotiate?hub=e2e')).status, 404);
    } finally {
      await own.stop();
    }
  });

  test('is refused without --admin-key', async () => {
    await assert.rejects(startStack({ gatewayArgs: ['--admin-listen', '127.0.0.1:0'] }), /--admin-listen serves the console, which needs --admin-key/);
  });
});

describe('a gateway stopping while someone watches', { timeout: 60_000 }, () => {
  test('exits cleanly with a live-trace stream open, and the stream ends', async () => {
    const own = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--shutdown-timeout', '1s'] });
    let viewer;
    try {
      viewer = await openTrace(own, '');
      await until(async () => (await metric(own, 'switchboard_console_viewers')) === 1, { what: 'the viewer registered' });
    } finally {
      await own.stop();  // throws when the gateway crashed or needed SIGKILL
    }
    viewer.close();
  });
});

describe('operator console over a fleet of two', { timeout: 120_000 }, () => {
  let fleet;
  let clients;
  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: ['--admin-key', ADMIN_KEY] });
    clients = fleetClients(fleet);
  });
  after(async () => { await fleet?.stop(); });
  afterEach(async (t) => { await clients.cleanUp(t); });

  test("a fleet-wide trace on one gateway shows the other's events, filtered there; a gateway-only one does not", async () => {
    const [g0, g1] = fleet.gateways;
    const fleetView = await until(async () => {
      const f = (await call(g0, 'GET', '/admin/api/fleet', { headers: bearer() })).json();
      return f.gateways.length === 2 && f;
    }, { what: 'both gateways in the fleet view' });
    const self = fleetView.gateways.find((g) => g.self).id;
    const other = fleetView.gateways.find((g) => !g.self).id;
    const viewersBefore = await metric(g1, 'switchboard_console_viewers');
    const fleetWide = await openTrace(g0, 'scope=fleet&user=dora');
    const gatewayOnly = await openTrace(g0, 'user=dora');
    // The other gateway watches on behalf of the fleet-wide viewer.
    await until(async () => (await metric(g1, 'switchboard_console_viewers')) === viewersBefore + 1, { what: 'a watch on the other gateway' });

    const eli = await clients.connect({ user: 'eli', baseUrl: g1.gatewayUrl });
    assert.equal(await eli.invoke('echo', 'eli'), 'eli');
    const doraThere = await clients.connect({ user: 'dora', baseUrl: g1.gatewayUrl });
    assert.equal(await doraThere.invoke('echo', 'there'), 'there');
    await doraThere.stop();
    const disconnect = await fleetWide.waitFor((e) => e.kind === 'disconnect' && e.gateway === other, "dora's disconnect on the other gateway");
    assert.equal(disconnect.reason, 'client_close');
    const doraHere = await clients.connect({ user: 'dora', baseUrl: g0.gatewayUrl });
    assert.equal(await doraHere.invoke('echo', 'here'), 'here');
    await fleetWide.waitFor((e) => e.kind === 'reply' && e.gateway === self, "dora's reply here, in the fleet-wide view");
    await gatewayOnly.waitFor((e) => e.kind === 'reply' && e.gateway === self, "dora's reply here, in the gateway's own view");

    const there = fleetWide.events.filter((e) => e.gateway === other);
    for (const kind of ['connect', 'invocation', 'upstream', 'reply', 'disconnect'])
      assert.ok(there.some((e) => e.kind === kind), `${kind} from the other gateway in ${there.map((e) => e.kind)}`);
    assert.deepEqual([...new Set(fleetWide.events.map((e) => e.user))], ['dora'], 'the filter applies on the other gateway too');
    assert.ok(!gatewayOnly.events.some((e) => e.gateway === other), "the gateway's own view has none of the other's events");
    // Each event arrives once.
    const keys = there.map((e) => JSON.stringify(e));
    assert.equal(new Set(keys).size, keys.length);

    fleetWide.close();
    gatewayOnly.close();
    // The other gateway lets go of its watch when the viewer leaves, not only when it stops being asked.
    await until(async () => (await metric(g1, 'switchboard_console_viewers')) === viewersBefore, { what: 'the watch let go' });
    await doraHere.stop();
  });

  test("each gateway's console sees the fleet, asks the other gateway, and acts on its clients", async () => {
    const [g0, g1] = fleet.gateways;
    const here = await clients.connect({ user: 'ann', baseUrl: g0.gatewayUrl });
    const there = [await clients.connect({ user: 'ben', baseUrl: g1.gatewayUrl }), await clients.connect({ user: 'cid', baseUrl: g1.gatewayUrl })];
    for (const c of [here, ...there]) assert.equal(await c.invoke('echo', 1), 1);

    // The fleet view lists both gateways with their own figures (each publishes a sample a second).
    const fleetView = await until(async () => {
      const f = (await call(g0, 'GET', '/admin/api/fleet', { headers: bearer() })).json();
      return f.gateways.length === 2 && f.gateways.every((g) => g.sample?.connections === (g.self ? 1 : 2)) && f;
    }, { what: 'both gateways in the fleet view' });
    assert.equal(fleetView.redis, 'ready');
    const other = fleetView.gateways.find((g) => !g.self).id;
    // The other gateway's hubs, asked through Redis.
    const hub = (await call(g0, 'GET', `/admin/api/hub?hub=e2e&gateway=${encodeURIComponent(other)}`, { headers: bearer() })).json();
    assert.equal(hub.gateway, other);
    assert.deepEqual(hub.connectionList.map((c) => c.user).sort(), ['ben', 'cid']);
    const history = await until(async () => {
      const h = (await call(g0, 'GET', '/admin/api/history?gateway=all', { headers: bearer() })).json();
      return h.samples.some((s) => s.connections === 3) && h;
    }, { what: 'a fleet sample with all three connections' });
    assert.ok(history.samples.length >= 1);

    // Closing one of the other gateway's connections from this console.
    assert.equal((await post(g0, '/admin/api/close-connection', { hub: 'e2e', connectionId: there[0].connectionId })).status, 202);
    await withTimeout(there[0].closed, 5_000, "ben's close");
    assert.equal(await there[1].invoke('echo', 2), 2);

    // Draining the other gateway from this console: it stops being ready.
    assert.equal((await post(g0, '/admin/api/drain', { gateway: other })).status, 202);
    await until(async () => (await fetch(`${g1.gatewayUrl}/health/ready`).catch(() => ({ status: 0 }))).status !== 200,
      { what: 'the other gateway draining' });
    assert.match(g1.gatewayLog(), /shutdown_started/);
    assert.equal((await fetch(`${g0.gatewayUrl}/health/ready`)).status, 200);
  });
});
