// The data-plane REST API (PROTOCOL part 2 §4) with tokens minted by npm jsonwebtoken: sends, group
// membership, existence checks and their x-ms-error-code, the 2022-06-01 forms, auth and input errors.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startStack, until } from './lib/processes.mjs';
import { Clients, HubConnectionState, nextMessages, recordMessages, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';

const V22 = 'api-version=2022-06-01';

describe('REST API', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  /** A REST send to one connection, awaited at the client: a later message to it than anything before. */
  async function fence(c) {
    const arrived = nextMessages(c, 'fence');
    const res = await rest(stack, 'POST', `/api/v1/hubs/e2e/connections/${seg(c.connectionId)}`,
      { json: { target: 'fence', arguments: [] } });
    assert.equal(res.status, 202, res.text);
    await arrived;
  }

  function assertErrorCode(res, status, code) {
    assert.equal(res.status, status, `status: ${res.text}`);
    assert.equal(res.headers.get('x-ms-error-code'), code);
  }

  test('GET /api/v1/health and HEAD /api/health need no token', async () => {
    assert.equal((await rest(stack, 'GET', '/api/v1/health', { auth: false })).status, 200);
    assert.equal((await rest(stack, 'HEAD', '/api/v1/health', { auth: false })).status, 200);
    assert.equal((await rest(stack, 'HEAD', `/api/health?${V22}`, { auth: false })).status, 200);
  });

  test('broadcast POST /api/v1/hubs/e2e is 202 and reaches every client', async () => {
    const a = await clients.connect({ user: 'ra' });
    const b = await clients.connect({ user: 'rb' });
    const atA = nextMessages(a, 'news');
    const atB = nextMessages(b, 'news');
    const res = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { target: 'news', arguments: ['x', 1, { y: null }] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await atA, [['x', 1, { y: null }]]);
    assert.deepEqual(await atB, [['x', 1, { y: null }]]);
  });

  test('message body keys are case-insensitive (Target/Arguments as the Management SDK sends them)', async () => {
    const a = await clients.connect({ user: 'ra' });
    const atA = nextMessages(a, 'news');
    const res = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { Target: 'news', Arguments: ['pascal'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await atA, [['pascal']]);
  });

  test('broadcast with ?excluded= skips that connection', async () => {
    const a = await clients.connect({ user: 'ra' });
    const b = await clients.connect({ user: 'rb' });
    const seenByA = recordMessages(a, 'news');
    const atB = nextMessages(b, 'news');
    const res = await rest(stack, 'POST', `/api/v1/hubs/e2e?excluded=${seg(a.connectionId)}`, { json: { target: 'news', arguments: ['not a'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await atB, [['not a']]);
    await fence(a);
    assert.deepEqual(seenByA, []);
  });

  test('send to a user reaches all of that user\'s connections only', async () => {
    const bob1 = await clients.connect({ user: 'bob' });
    const bob2 = await clients.connect({ user: 'bob' });
    const alice = await clients.connect({ user: 'alice' });
    const seenByAlice = recordMessages(alice, 'dm');
    const at1 = nextMessages(bob1, 'dm');
    const at2 = nextMessages(bob2, 'dm');
    const res = await rest(stack, 'POST', '/api/v1/hubs/e2e/users/bob', { json: { target: 'dm', arguments: ['hi bob'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await at1, [['hi bob']]);
    assert.deepEqual(await at2, [['hi bob']]);
    await fence(alice);
    assert.deepEqual(seenByAlice, []);
  });

  test('send to a connection reaches that connection only', async () => {
    const a = await clients.connect({ user: 'ra' });
    const b = await clients.connect({ user: 'rb' });
    const seenByB = recordMessages(b, 'direct');
    const atA = nextMessages(a, 'direct');
    const res = await rest(stack, 'POST', `/api/v1/hubs/e2e/connections/${seg(a.connectionId)}`, { json: { target: 'direct', arguments: [42] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await atA, [[42]]);
    await fence(b);
    assert.deepEqual(seenByB, []);
  });

  test('PUT a connection into a group, then a group send reaches members only; DELETE removes it', async () => {
    const member = await clients.connect({ user: 'm1' });
    const outsider = await clients.connect({ user: 'o1' });
    const seenByOutsider = recordMessages(outsider, 'room');
    const seenByMember = recordMessages(member, 'room');
    const put = await rest(stack, 'PUT', `/api/v1/hubs/e2e/groups/room%201/connections/${seg(member.connectionId)}`);
    assert.equal(put.status, 200, put.text);

    const atMember = nextMessages(member, 'room');
    const send = await rest(stack, 'POST', '/api/v1/hubs/e2e/groups/room%201', { json: { target: 'room', arguments: ['in room'] } });
    assert.equal(send.status, 202, send.text);
    assert.deepEqual(await atMember, [['in room']]);
    await fence(outsider);
    assert.deepEqual(seenByOutsider, []);

    const del = await rest(stack, 'DELETE', `/api/v1/hubs/e2e/groups/room%201/connections/${seg(member.connectionId)}`);
    assert.equal(del.status, 200, del.text);
    const again = await rest(stack, 'POST', '/api/v1/hubs/e2e/groups/room%201', { json: { target: 'room', arguments: ['after leave'] } });
    assert.equal(again.status, 202, again.text);
    await fence(member);
    assert.deepEqual(seenByMember, [['in room']]);
  });

  test('existence checks: 200 when present, 404 with x-ms-error-code when not', async () => {
    const c = await clients.connect({ user: 'exists-user' });
    const put = await rest(stack, 'PUT', `/api/v1/hubs/e2e/groups/exists-group/connections/${seg(c.connectionId)}`);
    assert.equal(put.status, 200, put.text);

    for (const method of ['GET', 'HEAD']) {
      assert.equal((await rest(stack, method, `/api/v1/hubs/e2e/connections/${seg(c.connectionId)}`)).status, 200, `${method} connection`);
      assert.equal((await rest(stack, method, '/api/v1/hubs/e2e/users/exists-user')).status, 200, `${method} user`);
      assert.equal((await rest(stack, method, '/api/v1/hubs/e2e/groups/exists-group')).status, 200, `${method} group`);

      assertErrorCode(await rest(stack, method, '/api/v1/hubs/e2e/connections/no-such-connection'), 404, 'Warning.Connection.NotExisted');
      assertErrorCode(await rest(stack, method, '/api/v1/hubs/e2e/users/no-such-user'), 404, 'Warning.User.NotExisted');
      assertErrorCode(await rest(stack, method, '/api/v1/hubs/e2e/groups/no-such-group'), 404, 'Warning.Group.NotExisted');
    }
    // 2022-06-01 forms of the same checks.
    assert.equal((await rest(stack, 'HEAD', `/api/hubs/e2e/connections/${seg(c.connectionId)}?${V22}`)).status, 200);
    assert.equal((await rest(stack, 'HEAD', `/api/hubs/e2e/users/exists-user?${V22}`)).status, 200);
    assert.equal((await rest(stack, 'HEAD', `/api/hubs/e2e/groups/exists-group?${V22}`)).status, 200);
    assertErrorCode(await rest(stack, 'HEAD', `/api/hubs/e2e/connections/no-such-connection?${V22}`), 404, 'Warning.Connection.NotExisted');
    assertErrorCode(await rest(stack, 'HEAD', `/api/hubs/e2e/users/no-such-user?${V22}`), 404, 'Warning.User.NotExisted');
    assertErrorCode(await rest(stack, 'HEAD', `/api/hubs/e2e/groups/no-such-group?${V22}`), 404, 'Warning.Group.NotExisted');
  });

  test('adding an unknown connection to a group is 404 with Error.Connection.NotExisted', async () => {
    assertErrorCode(await rest(stack, 'PUT', '/api/v1/hubs/e2e/groups/g/connections/no-such-connection'),
      404, 'Error.Connection.NotExisted');
  });

  test('2022-06-01: /api/hubs/e2e/:send broadcasts', async () => {
    const a = await clients.connect({ user: 'v22' });
    const atA = nextMessages(a, 'news22');
    const res = await rest(stack, 'POST', `/api/hubs/e2e/:send?${V22}`, { json: { target: 'news22', arguments: ['new api'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await atA, [['new api']]);
  });

  test('2022-06-01: user and connection :send', async () => {
    const a = await clients.connect({ user: 'v22-user' });
    const atUser = nextMessages(a, 'u22');
    assert.equal((await rest(stack, 'POST', `/api/hubs/e2e/users/v22-user/:send?${V22}`, { json: { target: 'u22', arguments: [1] } })).status, 202);
    assert.deepEqual(await atUser, [[1]]);
    const atConn = nextMessages(a, 'c22');
    assert.equal((await rest(stack, 'POST', `/api/hubs/e2e/connections/${seg(a.connectionId)}/:send?${V22}`, { json: { target: 'c22', arguments: [2] } })).status, 202);
    assert.deepEqual(await atConn, [[2]]);
  });

  test('2022-06-01: PUT/DELETE users/{u}/groups/{g} controls group delivery; membership check follows', async () => {
    const bob = await clients.connect({ user: 'ugbob' });
    const seenByBob = recordMessages(bob, 'ug');
    const put = await rest(stack, 'PUT', `/api/hubs/e2e/users/ugbob/groups/ug-group?${V22}`);
    assert.equal(put.status, 200, put.text);
    assert.equal((await rest(stack, 'GET', `/api/hubs/e2e/users/ugbob/groups/ug-group?${V22}`)).status, 200);
    assert.equal((await rest(stack, 'HEAD', `/api/hubs/e2e/users/ugbob/groups/ug-group?${V22}`)).status, 200);

    const atBob = nextMessages(bob, 'ug');
    const send = await rest(stack, 'POST', `/api/hubs/e2e/groups/ug-group/:send?${V22}`, { json: { target: 'ug', arguments: ['member'] } });
    assert.equal(send.status, 202, send.text);
    assert.deepEqual(await atBob, [['member']]);

    const del = await rest(stack, 'DELETE', `/api/hubs/e2e/users/ugbob/groups/ug-group?${V22}`);
    assert.equal(del.status, 204, del.text);
    assertErrorCode(await rest(stack, 'HEAD', `/api/hubs/e2e/users/ugbob/groups/ug-group?${V22}`), 404, 'Info.User.NotInGroup');
    const after = await rest(stack, 'POST', `/api/hubs/e2e/groups/ug-group/:send?${V22}`, { json: { target: 'ug', arguments: ['not a member'] } });
    assert.equal(after.status, 202, after.text);
    await fence(bob);
    assert.deepEqual(seenByBob, [['member']]);
  });

  test('2022-06-01: users/{u}/:closeConnections closes every connection of the user with the reason', async () => {
    const k1 = await clients.connect({ user: 'kicked' });
    const k2 = await clients.connect({ user: 'kicked' });
    const stays = await clients.connect({ user: 'stays' });
    const res = await rest(stack, 'POST', `/api/hubs/e2e/users/kicked/:closeConnections?${V22}&reason=go%20away`);
    assert.equal(res.status, 204, res.text);
    for (const c of [k1, k2]) {
      const err = await withTimeout(c.closed, 10_000, 'onclose after :closeConnections');
      assert.match(String(err?.message), /go away/);
    }
    assert.equal(stays.state, HubConnectionState.Connected);
    assert.equal(await stays.invoke('echo', 'still'), 'still');
  });

  test('2022-06-01: groups/{g}/:closeConnections closes the members only', async () => {
    const member = await clients.connect({ user: 'gm' });
    const outsider = await clients.connect({ user: 'go' });
    assert.equal((await rest(stack, 'PUT', `/api/hubs/e2e/groups/doomed/connections/${seg(member.connectionId)}?${V22}`)).status, 200);
    const res = await rest(stack, 'POST', `/api/hubs/e2e/groups/doomed/:closeConnections?${V22}`);
    assert.equal(res.status, 204, res.text);
    await withTimeout(member.closed, 10_000, 'member onclose');
    assert.equal(await outsider.invoke('echo', 'alive'), 'alive');
  });

  test('DELETE a connection closes the client with the reason; it no longer exists', async () => {
    const c = await clients.connect({ user: 'deleted' });
    const id = c.connectionId; // the client forgets it once closed
    assert.equal((await rest(stack, 'GET', `/api/v1/hubs/e2e/connections/${seg(id)}`)).status, 200);
    const res = await rest(stack, 'DELETE', `/api/v1/hubs/e2e/connections/${seg(id)}?reason=kicked%20out`);
    assert.ok([200, 202].includes(res.status), `status ${res.status}: ${res.text}`);
    const err = await withTimeout(c.closed, 10_000, 'onclose after DELETE');
    assert.match(String(err?.message), /kicked out/);
    // The client acts on the Close message, which may arrive before the gateway has finished removing
    // the connection; v1 answers 202 (accepted), so removal may complete just after.
    const gone = await until(async () => {
      const check = await rest(stack, 'GET', `/api/v1/hubs/e2e/connections/${seg(id)}`);
      return check.status === 404 ? check : undefined;
    }, { timeoutMs: 5_000, what: 'the closed connection to stop existing' });
    assertErrorCode(gone, 404, 'Warning.Connection.NotExisted');
  });

  test('no token, a garbage token, a wrong key, a wrong audience or an expired token: 401', async () => {
    const path = '/api/v1/hubs/e2e';
    const url = `${stack.gatewayUrl}${path}`;
    const body = { json: { target: 'x', arguments: [] } };
    const cases = {
      'no Authorization header': { auth: false },
      'garbage token': { token: 'not.a.jwt' },
      'signed with another key': { key: 'the-wrong-key-entirely' },
      'audience of another hub': { audience: `${stack.gatewayUrl}/api/v1/hubs/other` },
      'audience of another host': { audience: `http://example.invalid${path}` },
      expired: { token: jwt.sign({ aud: url, exp: Math.floor(Date.now() / 1000) - 3600 }, stack.key) },
      'alg none': { token: jwt.sign({ aud: url }, null, { algorithm: 'none', expiresIn: 3600 }) },
    };
    for (const [name, options] of Object.entries(cases)) {
      const res = await rest(stack, 'POST', path, { ...body, ...options });
      assert.equal(res.status, 401, `${name}: got ${res.status} ${res.text}`);
    }
    // The same token with the right audience is accepted (so the 401s above are about the token).
    assert.equal((await rest(stack, 'POST', path, body)).status, 202);
  });

  test('malformed JSON body: 400 (with a JSON error body on the 2022-06-01 API)', async () => {
    const bad = { body: '{"target": "x", "arguments": [', headers: { 'content-type': 'application/json' } };
    const v1 = await rest(stack, 'POST', '/api/v1/hubs/e2e', bad);
    assert.equal(v1.status, 400, v1.text);
    const v22 = await rest(stack, 'POST', `/api/hubs/e2e/:send?${V22}`, bad);
    assert.equal(v22.status, 400, v22.text);
    assert.ok(v22.json && typeof v22.json === 'object', `JSON error body, got ${JSON.stringify(v22.text)}`);
    const missingTarget = await rest(stack, 'POST', `/api/hubs/e2e/:send?${V22}`, { json: { arguments: [] } });
    assert.equal(missingTarget.status, 400, missingTarget.text);
  });

  test('a body over 1 MiB is refused with 413', async () => {
    const big = JSON.stringify({ target: 'x', arguments: ['a'.repeat(1024 * 1024)] });
    let res;
    try {
      res = await rest(stack, 'POST', '/api/v1/hubs/e2e', { body: big, headers: { 'content-type': 'application/json' } });
    } catch (err) {
      // A server that answers early must keep reading (and discarding) the body before it closes;
      // closing with unread input sends a TCP reset, and the client never sees the 413.
      assert.fail(`the client could not read the 413: ${err.message} (${err.cause?.code ?? err.cause?.message ?? ''}); ` +
        'the gateway closed the connection with the request body unread');
    }
    assert.equal(res.status, 413, res.text.slice(0, 200));
    // Just under the limit is fine.
    const ok = JSON.stringify({ target: 'x', arguments: ['a'.repeat(1024 * 1024 - 100)] });
    assert.ok(ok.length <= 1024 * 1024);
    assert.equal((await rest(stack, 'POST', '/api/v1/hubs/e2e', { body: ok, headers: { 'content-type': 'application/json' } })).status, 202);
  });
});
