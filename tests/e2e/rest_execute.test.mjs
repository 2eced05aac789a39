// POST /api/hubs/{hub}/:execute?filter=… (Azure REST 2023-07+, kept in 2024-12-01; docs/rest-api.md
// "Commands"): commands run in order on every connection the OData filter selects, on one gateway and
// across a fleet, where a group joined this way is known to every gateway (existence, listings, sends).
// Each negative check is fenced: a later message to the same client has arrived first.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, until } from './lib/processes.mjs';
import { Clients, nextMessages, recordMessages, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { startFleet } from './lib/fleet.mjs';

const V24 = 'api-version=2024-12-01';

async function execute(gateway, commands, filter) {
  const query = filter === undefined ? '' : `&filter=${encodeURIComponent(filter)}`;
  return rest(gateway, 'POST', `/api/hubs/e2e/:execute?${V24}${query}`, { json: commands });
}

async function executeOk(gateway, commands, filter) {
  const res = await execute(gateway, commands, filter);
  assert.equal(res.status, 202, res.text);
}

/** A message to `c` alone, awaited: everything sent to it before has arrived. */
async function fence(gateway, c) {
  const arrived = nextMessages(c, 'fence');
  const res = await rest(gateway, 'POST', `/api/hubs/e2e/connections/${seg(c.connectionId)}/:send?${V24}`,
    { json: { target: 'fence', arguments: [] } });
  assert.equal(res.status, 202, res.text);
  await arrived;
}

const send = (target, ...args) => ({ type: 'SendMessage', target, arguments: args });

describe(':execute with a filter', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  test('a filter on userId reaches only that user\'s connections; no filter reaches everyone', async () => {
    const alice1 = await clients.connect({ user: 'alice' });
    const alice2 = await clients.connect({ user: 'alice', protocol: 'messagepack' });
    const bob = await clients.connect({ user: 'bob' });
    const anonymous = await clients.connect({});
    const seenByBob = recordMessages(bob, 'note');
    const seenByAnonymous = recordMessages(anonymous, 'note');
    const at1 = nextMessages(alice1, 'note');
    const at2 = nextMessages(alice2, 'note');
    await executeOk(stack, [send('note', { z: 1, a: 2 })], "userId eq 'alice'");
    assert.equal(JSON.stringify((await at1)[0][0]), '{"z":1,"a":2}');
    assert.equal(JSON.stringify((await at2)[0][0]), '{"z":1,"a":2}');
    await fence(stack, bob);
    await fence(stack, anonymous);
    assert.deepEqual(seenByBob, []);
    assert.deepEqual(seenByAnonymous, []);

    // userId eq null: the anonymous connection only.
    const nullSeen = nextMessages(anonymous, 'anon');
    const aliceAnon = recordMessages(alice1, 'anon');
    await executeOk(stack, [send('anon')], 'userId eq null');
    await nullSeen;
    await fence(stack, alice1);
    assert.deepEqual(aliceAnon, []);

    const everyone = [alice1, alice2, bob, anonymous].map((c) => nextMessages(c, 'all'));
    await executeOk(stack, [send('all', 1)]);
    for (const got of everyone) assert.deepEqual(await got, [[1]]);
  });

  test('commands run in order: join a group, then a group send reaches exactly the filtered members', async () => {
    const a = await clients.connect({ user: 'ua' });
    const b = await clients.connect({ user: 'ub' });
    const c = await clients.connect({ user: 'uc' });
    const seenByC = recordMessages(c, 'groupNote');
    const toA = nextMessages(a, 'welcome');
    const toB = nextMessages(b, 'welcome');
    await executeOk(stack, [{ type: 'JoinGroup', group: 'club' }, send('welcome', 'in')], "userId in ('ua', 'ub')");
    await toA;
    await toB;
    assert.equal((await rest(stack, 'HEAD', `/api/hubs/e2e/groups/club?${V24}`)).status, 200);

    const atA = nextMessages(a, 'groupNote');
    const atB = nextMessages(b, 'groupNote');
    const res = await rest(stack, 'POST', `/api/hubs/e2e/groups/club/:send?${V24}`, { json: { target: 'groupNote', arguments: ['hi'] } });
    assert.equal(res.status, 202, res.text);
    await atA;
    await atB;
    await fence(stack, c);
    assert.deepEqual(seenByC, []);

    // 'club' in groups and not userId eq 'ub': a leaves, b stays.
    await executeOk(stack, [{ type: 'LeaveGroup', group: 'club' }], "'club' in groups and not (userId eq 'ub')");
    const listed = await rest(stack, 'GET', `/api/hubs/e2e/groups/club/connections?${V24}`);
    assert.deepEqual(listed.json.value.map((e) => e.connectionId), [b.connectionId]);
  });

  test('CloseConnection closes the connection the filter names, with the reason', async () => {
    const target = await clients.connect({ user: 'closing' });
    const other = await clients.connect({ user: 'closing' });
    await executeOk(stack, [{ type: 'CloseConnection', reason: 'maintenance' }], `connectionId eq '${target.connectionId}'`);
    const error = await withTimeout(target.closed, 5_000, 'the close');
    assert.match(String(error), /maintenance/);
    await fence(stack, other);
    assert.equal(other.state, 'Connected');
  });

  test('bad filters, bodies and methods', async () => {
    const bad = await execute(stack, [send('x')], "userId eq 'unterminated");
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.code, 'InvalidFilter');
    assert.match(bad.json.message, /unterminated string/);
    for (const commands of [[], [{ type: 'Dance' }], [{ type: 'JoinGroup' }], { nope: 1 }]) {
      const res = await execute(stack, commands);
      assert.equal(res.status, 400, `${JSON.stringify(commands)}: ${res.text}`);
      assert.equal(res.json.code, 'InvalidBody');
    }
    assert.equal((await rest(stack, 'GET', `/api/hubs/e2e/:execute?${V24}`)).status, 405);
    const text = await rest(stack, 'POST', `/api/hubs/e2e/:execute?${V24}`, { body: '[]', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 415);
    assert.equal((await rest(stack, 'POST', `/api/hubs/e2e/:execute?${V24}`, { json: [send('x')], auth: false })).status, 401);
  });
});

describe(':execute over a fleet', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let clientsA;
  let clientsB;
  before(async () => {
    fleet = await startFleet({ count: 2 });
    [a, b] = fleet.gateways;
    clientsA = new Clients(a);
    clientsB = new Clients(b);
  });
  afterEach(async (t) => {
    await clientsA.cleanUp(t);
    await clientsB.cleanUp(t);
  });
  after(() => fleet?.stop());

  test('a filter at A selects connections on B; a group joined there is known to the whole fleet', async () => {
    const far = await clientsB.connect({ user: 'far' });
    const near = await clientsA.connect({ user: 'near' });
    const seenByNear = recordMessages(near, 'hello');
    const arrived = nextMessages(far, 'hello');
    await executeOk(a, [{ type: 'JoinGroup', group: 'remote-club' }, send('hello', 'from A')], "userId eq 'far'");
    assert.deepEqual(await arrived, [['from A']]);
    await fence(a, near);
    assert.deepEqual(seenByNear, []);

    // B tells Redis (its own write, after the join ran there): A's existence check and listing see the
    // membership once it lands, and A's group send reaches it.
    await until(async () => (await rest(a, 'HEAD', `/api/hubs/e2e/groups/remote-club?${V24}`)).status === 200,
      { what: 'A to see the group B joined' });
    const listed = await rest(a, 'GET', `/api/hubs/e2e/groups/remote-club/connections?${V24}`);
    assert.deepEqual(listed.json.value, [{ connectionId: far.connectionId, userId: 'far' }]);
    const groupSend = nextMessages(far, 'clubNews');
    const res = await rest(a, 'POST', `/api/hubs/e2e/groups/remote-club/:send?${V24}`, { json: { target: 'clubNews', arguments: [1] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await groupSend, [[1]]);

    // And leaving through :execute is known too.
    await executeOk(a, [{ type: 'LeaveGroup', group: 'remote-club' }], "'remote-club' in groups");
    await until(async () => (await rest(a, 'HEAD', `/api/hubs/e2e/groups/remote-club?${V24}`)).status === 404,
      { what: 'A to see the group left' });
  });
});
