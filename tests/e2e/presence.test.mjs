// Presence, a Switchboard extension (docs/rest-api.md "Presence"): counts and pages of the connections
// and users of a hub, a group and a user, merged over every gateway thread. The gateway runs three
// threads and accepts round-robin, so a user's connections sit on different threads (shards).

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, until } from './lib/processes.mjs';
import { Clients } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';

const V24 = 'api-version=2024-12-01';

describe('presence REST extension', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--threads', '3'] });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  async function get(pathAndQuery) {
    const res = await rest(stack, 'GET', pathAndQuery);
    assert.equal(res.status, 200, `GET ${pathAndQuery}: ${res.status} ${res.text}`);
    return res.json;
  }

  /** A nextLink as the path and query `get` takes; nextLinks are absolute URLs of this gateway (Azure's shape). */
  function pathOf(link) {
    if (!/^https?:/.test(link)) return link;
    const url = new URL(link);
    assert.equal(url.origin, new URL(stack.gatewayUrl).origin);
    return url.pathname + url.search;
  }

  /** Follows nextLink to the end; returns every entry and the number of pages. */
  async function walk(pathAndQuery) {
    const entries = [];
    let pages = 0;
    for (let link = pathAndQuery; link; ) {
      const page = await get(pathOf(link));
      entries.push(...page.value);
      pages += 1;
      link = page.nextLink;
      assert.ok(pages < 1000, 'nextLink loops');
    }
    return { entries, pages };
  }

  async function join(group, connection) {
    const res = await rest(stack, 'PUT', `/api/v1/hubs/e2e/groups/${seg(group)}/connections/${seg(connection.connectionId)}`);
    assert.equal(res.status, 200, res.text);
  }

  const byId = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

  /** Each test starts with an empty hub: the previous test's clients stopped, but leave asynchronously. */
  async function emptyHub() {
    await until(async () => (await get('/api/v1/hubs/e2e/connections?count=true&top=0')).count === 0,
      { what: 'the hub to be empty' });
  }

  test('counts and lists a hub, a group and a user, each user once', async () => {
    await emptyHub();
    const alice1 = await clients.connect({ user: 'alice' });
    const bob1 = await clients.connect({ user: 'bob' });
    const alice2 = await clients.connect({ user: 'alice' });
    const bob2 = await clients.connect({ user: 'bob' });
    const carol = await clients.connect({ user: 'carol' });
    const anonymous = await clients.connect({});
    for (const c of [alice1, bob1, bob2, anonymous]) await join('room1', c);
    await join('room2', carol);

    const all = [alice1, alice2, bob1, bob2, carol, anonymous];
    const expected = all.map((c, i) => ({ connectionId: c.connectionId, userId: ['alice', 'alice', 'bob', 'bob', 'carol', null][i] }))
      .sort((a, b) => byId(a.connectionId, b.connectionId));

    // Both prefixes; sorted by connection id; anonymous connections have userId null.
    const v1 = await get('/api/v1/hubs/e2e/connections?count=true');
    assert.deepEqual(v1, { value: expected, nextLink: null, count: 6 });
    const v24 = await get(`/api/hubs/e2e/connections?${V24}&count=true`);
    assert.deepEqual(v24, v1);

    const users = await get(`/api/hubs/E2E/users?${V24}&count=true`);
    assert.deepEqual(users, {
      value: [{ userId: 'alice', connectionCount: 2 }, { userId: 'bob', connectionCount: 2 }, { userId: 'carol', connectionCount: 1 }],
      nextLink: null,
      count: 3,
    });

    const room1 = await get('/api/v1/hubs/e2e/groups/room1/connections?count=true');
    assert.equal(room1.count, 4);
    assert.deepEqual(room1.value.map((e) => e.connectionId),
      [alice1, bob1, bob2, anonymous].map((c) => c.connectionId).sort(byId));
    const room1Users = await get('/api/v1/hubs/e2e/groups/room1/users?count=true');
    assert.deepEqual(room1Users.value, [{ userId: 'alice', connectionCount: 1 }, { userId: 'bob', connectionCount: 2 }]);
    assert.equal(room1Users.count, 2);

    const alice = await get(`/api/hubs/e2e/users/alice/connections?${V24}&count=true`);
    assert.equal(alice.count, 2);
    assert.deepEqual(alice.value.map((e) => e.connectionId), [alice1.connectionId, alice2.connectionId].sort(byId));
    assert.ok(alice.value.every((e) => e.userId === 'alice'));

    // Counts alone: top=0 lists nothing.
    assert.deepEqual(await get('/api/v1/hubs/e2e/users/bob/connections?count=true&top=0'), { value: [], nextLink: null, count: 2 });
    assert.deepEqual(await get('/api/v1/hubs/e2e/groups/nobody-here/users?count=true'), { value: [], nextLink: null, count: 0 });
    assert.deepEqual(await get('/api/v1/hubs/e2e/users/dave/connections'), { value: [], nextLink: null });

    // The existence checks on the same paths still answer as Azure does.
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/groups/room1')).status, 200);
    assert.equal((await rest(stack, 'HEAD', '/api/v1/hubs/e2e/users/alice')).status, 200);
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/users/dave')).status, 404);
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/groups/room1/users/bob')).status, 200);
    assert.equal((await rest(stack, 'GET', `/api/v1/hubs/e2e/connections/${seg(carol.connectionId)}`)).status, 200);

    // A stopped client disappears from every list and count.
    await bob2.stop();
    await until(async () => (await get('/api/v1/hubs/e2e/connections?count=true&top=0')).count === 5,
      { what: 'the connection count to drop to 5' });
    assert.deepEqual((await get('/api/v1/hubs/e2e/users/bob/connections')).value.map((e) => e.connectionId), [bob1.connectionId]);
    assert.equal((await get('/api/v1/hubs/e2e/groups/room1/connections?count=true')).count, 3);
    await carol.stop();
    await until(async () => (await get('/api/v1/hubs/e2e/users?count=true')).count === 2, { what: 'carol to go' });
    assert.deepEqual((await get('/api/v1/hubs/e2e/users')).value.map((e) => e.userId), ['alice', 'bob']);
    assert.deepEqual(await get('/api/v1/hubs/e2e/groups/room2/users?count=true'), { value: [], nextLink: null, count: 0 });
  });

  test('pages through more entries than maxpagesize, each exactly once', async () => {
    await emptyHub();
    // 24 users; every third has a second connection (on another thread: accepting is round-robin).
    const connected = [];
    for (let u = 0; u < 24; u++) {
      const user = `user${String(u).padStart(2, '0')}`;
      connected.push(await clients.connect({ user }));
      if (u % 3 === 0) connected.push(await clients.connect({ user }));
      await join('big', connected.at(-1));
    }
    const connectionIds = connected.map((c) => c.connectionId).sort(byId);

    const connections = await walk('/api/v1/hubs/e2e/connections?maxpagesize=7');
    assert.equal(connections.pages, Math.ceil(connectionIds.length / 7));
    assert.deepEqual(connections.entries.map((e) => e.connectionId), connectionIds);

    const users = await walk(`/api/hubs/e2e/users?${V24}&maxpagesize=5`);
    assert.equal(users.pages, 5);
    assert.deepEqual(users.entries.map((e) => e.userId), Array.from({ length: 24 }, (_, u) => `user${String(u).padStart(2, '0')}`));
    users.entries.forEach((e, u) => assert.equal(e.connectionCount, u % 3 === 0 ? 2 : 1, e.userId));

    // The group holds each user's last connection: 24 connections, 24 users.
    const group = await walk('/api/v1/hubs/e2e/groups/big/users?maxpagesize=10&count=true');
    assert.equal(group.entries.length, 24);
    assert.ok(group.entries.every((e) => e.connectionCount === 1));
    assert.equal((await get('/api/v1/hubs/e2e/groups/big/users?count=true&top=0')).count, 24);

    // top caps the whole walk; nextLink carries what is left of it.
    const first10 = await walk('/api/v1/hubs/e2e/connections?maxpagesize=4&top=10');
    assert.deepEqual(first10.entries.map((e) => e.connectionId), connectionIds.slice(0, 10));
    assert.equal(first10.pages, 3);

    // A page's nextLink stays valid while entries before it leave: nothing after it is skipped.
    const page1 = await get('/api/v1/hubs/e2e/connections?maxpagesize=5');
    const leaving = connected.find((c) => c.connectionId === connectionIds[0]);
    await leaving.stop();
    await until(async () => (await get('/api/v1/hubs/e2e/connections?count=true&top=0')).count === connectionIds.length - 1,
      { what: 'the stopped connection to leave' });
    const rest2 = await walk(page1.nextLink);
    assert.deepEqual(rest2.entries.map((e) => e.connectionId), connectionIds.slice(5));
  });

  test('401 without a token, 400 for bad paging parameters, 405 for other methods', async () => {
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/connections', { auth: false })).status, 401);
    assert.equal((await rest(stack, 'GET', `/api/hubs/e2e/users?${V24}`, { auth: false })).status, 401);
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/groups/g/users', { auth: false })).status, 401);
    for (const bad of ['maxpagesize=0', 'maxpagesize=201', 'maxpagesize=abc', 'maxpagesize=-1', 'top=x',
      'count=yes', 'continuationToken=%21%21']) {
      const res = await rest(stack, 'GET', `/api/v1/hubs/e2e/connections?${bad}`);
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.equal(res.json?.code, 'InvalidQuery', bad);
    }
    assert.equal((await rest(stack, 'GET', '/api/v1/hubs/e2e/users?maxpagesize=200')).status, 200);
    assert.equal((await rest(stack, 'DELETE', '/api/v1/hubs/e2e/users')).status, 405);
    assert.equal((await rest(stack, 'POST', '/api/v1/hubs/e2e/groups/g/users')).status, 405);
  });
});
