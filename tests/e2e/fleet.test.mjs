// Many gateways over Redis (PROTOCOL.md part 3 §3.8, docs/scaling.md): a real redis-server and two
// gateways (a third where one must die). REST calls and reply actions on one gateway reach clients of
// the other; order holds per sender; existence and presence answer for the fleet; Redis going away
// leaves local service up and delivery across gateways resumes when it is back; a gap in the fan-out
// closes connections with allowReconnect; a killed gateway's connections get `disconnected` once.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, until } from './lib/processes.mjs';
import { Clients, MessageType, nextMessages, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { metric, readiness, startFleet } from './lib/fleet.mjs';

const LEASE = ['--redis-lease', '1500ms'];

describe('many gateways over Redis', { timeout: 180_000 }, () => {
  let fleet;
  let a;
  let b;
  let clientsA;
  let clientsB;
  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: LEASE });
    [a, b] = fleet.gateways;
    clientsA = new Clients(a);
    clientsB = new Clients(b);
  });
  afterEach(async (t) => {
    await clientsA.cleanUp(t);
    await clientsB.cleanUp(t);
  });
  after(() => fleet?.stop());

  async function send(gateway, path, target, ...args) {
    const res = await rest(gateway, 'POST', path, { json: { target, arguments: args } });
    assert.equal(res.status, 202, `POST ${path}: ${res.status} ${res.text}`);
  }

  async function status(gateway, method, path) {
    return (await rest(gateway, method, path)).status;
  }

  test('REST on one gateway reaches a user, a group and everyone on the other', async () => {
    const bob = await clientsB.connect({ user: 'bob' });

    let arrived = nextMessages(bob, 'note');
    await send(a, '/api/v1/hubs/e2e/users/bob', 'note', 'to the user');
    assert.deepEqual(await arrived, [['to the user']]);

    // The connection lives on B; adding it to a group through A finds it (Redis knows the fleet).
    const join = await rest(a, 'PUT', `/api/v1/hubs/e2e/groups/room/connections/${seg(bob.connectionId)}`);
    assert.equal(join.status, 200, join.text);
    arrived = nextMessages(bob, 'note');
    await send(a, '/api/v1/hubs/e2e/groups/room', 'note', 'to the group');
    assert.deepEqual(await arrived, [['to the group']]);

    arrived = nextMessages(bob, 'note');
    await send(a, '/api/v1/hubs/e2e', 'note', 'to everyone');
    assert.deepEqual(await arrived, [['to everyone']]);

    // A connection no gateway holds is still unknown.
    const missing = await rest(a, 'PUT', '/api/v1/hubs/e2e/groups/room/connections/nobody');
    assert.equal(missing.status, 404, missing.text);
  });

  test('existence checks and presence answer for the whole fleet', async () => {
    const alice = await clientsA.connect({ user: 'alice' });
    const bob = await clientsB.connect({ user: 'bob' });
    assert.equal(await bob.invoke('joinGroup', 'lobby'), true);

    for (const gateway of [a, b]) {
      assert.equal(await status(gateway, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(alice.connectionId)}`), 200);
      assert.equal(await status(gateway, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(bob.connectionId)}`), 200);
      assert.equal(await status(gateway, 'HEAD', '/api/v1/hubs/e2e/users/bob'), 200);
      assert.equal(await status(gateway, 'HEAD', '/api/v1/hubs/e2e/groups/lobby'), 200);
      assert.equal(await status(gateway, 'HEAD', '/api/v1/hubs/e2e/users/nobody'), 404);
      assert.equal(await status(gateway, 'HEAD', '/api/v1/hubs/e2e/groups/empty'), 404);

      const connections = (await rest(gateway, 'GET', '/api/v1/hubs/e2e/connections?count=true')).json;
      const expected = [
        { connectionId: alice.connectionId, userId: 'alice' },
        { connectionId: bob.connectionId, userId: 'bob' },
      ].sort((x, y) => (x.connectionId < y.connectionId ? -1 : 1));
      assert.deepEqual(connections, { value: expected, nextLink: null, count: 2 });
      const users = (await rest(gateway, 'GET', '/api/v1/hubs/e2e/users?count=true')).json;
      assert.deepEqual(users, {
        value: [{ userId: 'alice', connectionCount: 1 }, { userId: 'bob', connectionCount: 1 }], nextLink: null, count: 2,
      });
      const lobby = (await rest(gateway, 'GET', '/api/v1/hubs/e2e/groups/lobby/users?count=true')).json;
      assert.deepEqual(lobby, { value: [{ userId: 'bob', connectionCount: 1 }], nextLink: null, count: 1 });
    }
  });

  test('reply actions cross gateways, and user memberships reach the user\'s later connections', async () => {
    const alice = await clientsA.connect({ user: 'alice' });
    const bob = await clientsB.connect({ user: 'bob' });

    let arrived = nextMessages(bob, 'userMessage');
    assert.equal(await alice.invoke('sendToUser', 'bob', 'hello bob'), true);
    assert.deepEqual(await arrived, [['hello bob']]);

    assert.equal(await bob.invoke('joinGroup', 'g-cross'), true);
    arrived = nextMessages(bob, 'groupMessage');
    assert.equal(await alice.invoke('sendToGroup', 'g-cross', 'hello group'), true);
    assert.deepEqual(await arrived, [['hello group']]);

    // A user membership made on A applies to the user's connection opened later on B.
    assert.equal(await alice.invoke('addUserToGroup', 'carol', 'g-carol'), true);
    const carol = await clientsB.connect({ user: 'carol' });
    arrived = nextMessages(carol, 'groupMessage');
    await until(async () => (await status(a, 'HEAD', '/api/v1/hubs/e2e/groups/g-carol')) === 200,
      { what: 'carol\'s new connection in g-carol' });
    assert.equal(await alice.invoke('sendToGroup', 'g-carol', 'hello carol'), true);
    assert.deepEqual(await arrived, [['hello carol']]);
  });

  test('300 sequential sends from one sender arrive in order on the other gateway', async () => {
    const alice = await clientsA.connect({ user: 'alice' });
    const bob = await clientsB.connect({ user: 'bob' });
    const count = 300;

    // One REST client, one request after another.
    let arrived = nextMessages(bob, 'seq', count, { timeoutMs: 30_000 });
    for (let i = 0; i < count; i += 1) await send(a, '/api/v1/hubs/e2e/users/bob', 'seq', i);
    assert.deepEqual((await arrived).map(([i]) => i), [...Array(count).keys()]);

    // One connection, its invocations fired without waiting: each reply's action crosses in order.
    arrived = nextMessages(bob, 'userMessage', count, { timeoutMs: 30_000 });
    for (let i = 0; i < count; i += 1) alice.send('sendToUser', 'bob', i);
    assert.deepEqual((await arrived).map(([i]) => i), [...Array(count).keys()]);
  });

  test('without Redis each gateway serves its own; with Redis back, delivery across resumes', async () => {
    const alice = await clientsA.connect({ user: 'alice' });
    const bob = await clientsB.connect({ user: 'bob' });

    await fleet.redis.kill();
    await until(async () => (await readiness(a)) === 'degraded' && (await readiness(b)) === 'degraded',
      { what: 'both gateways degraded' });

    let arrived = nextMessages(alice, 'note');
    await send(a, '/api/v1/hubs/e2e/users/alice', 'note', 'local on A');
    assert.deepEqual(await arrived, [['local on A']]);
    arrived = nextMessages(bob, 'userMessage');
    assert.equal(await bob.invoke('sendToUser', 'bob', 'local on B'), true);
    assert.deepEqual(await arrived, [['local on B']]);
    // Existence answers from the gateway's own connections meanwhile.
    assert.equal(await status(a, 'HEAD', '/api/v1/hubs/e2e/users/alice'), 200);

    await fleet.redis.start();
    await until(async () => (await readiness(a)) === 'ready' && (await readiness(b)) === 'ready',
      { timeoutMs: 15_000, what: 'both gateways back in sync' });

    // Redis restarted empty: each gateway wrote its connections back.
    assert.equal(await status(b, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(alice.connectionId)}`), 200);
    // The connections from before the outage are still there and reachable across (no false gap).
    arrived = nextMessages(bob, 'note');
    await send(a, '/api/v1/hubs/e2e/users/bob', 'note', 'bob again');
    assert.deepEqual(await arrived, [['bob again']]);
    const carol = await clientsB.connect({ user: 'carol' });
    arrived = nextMessages(carol, 'note');
    await send(a, '/api/v1/hubs/e2e/users/carol', 'note', 'across again');
    assert.deepEqual(await arrived, [['across again']]);
    const dave = await clientsA.connect({ user: 'dave' });
    arrived = nextMessages(dave, 'userMessage');
    assert.equal(await carol.invoke('sendToUser', 'dave', 'back to A'), true);
    assert.deepEqual(await arrived, [['back to A']]);
  });

  test('a gateway SIGKILLed: its connections get disconnected once and leave every membership', async () => {
    const c = await fleet.startGateway();
    try {
      const clientsC = new Clients(c);
      const erin = await clientsC.connect({ user: 'erin' });
      const erinId = erin.connectionId;
      assert.equal(await erin.invoke('joinGroup', 'doomed'), true);
      assert.equal(await status(a, 'HEAD', '/api/v1/hubs/e2e/groups/doomed'), 200);
      const reapedBefore = (await metric(a, 'switchboard_backplane_reaped_total')) +
        (await metric(b, 'switchboard_backplane_reaped_total'));

      c.handle.child.kill('SIGKILL');
      await c.handle.exited;

      const events = await until(async () => {
        const all = await functionEvents(c, erinId);
        return all.some((e) => e.event === 'disconnected') ? all : undefined;
      }, { timeoutMs: 15_000, what: 'the reaper\'s disconnected for erin' });
      // Exactly one gateway claimed the dead lease (the claim is one atomic script).
      const reaped = (await metric(a, 'switchboard_backplane_reaped_total')) +
        (await metric(b, 'switchboard_backplane_reaped_total')) - reapedBefore;
      assert.equal(reaped, 1);
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 1, JSON.stringify(events));
      assert.equal(await status(a, 'HEAD', '/api/v1/hubs/e2e/groups/doomed'), 404);
      assert.equal(await status(b, 'HEAD', '/api/v1/hubs/e2e/users/erin'), 404);
      assert.equal(await status(b, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(erinId)}`), 404);
      erin.stop().catch(() => {});
    } finally {
      fleet.gateways.splice(fleet.gateways.indexOf(c), 1);
    }
  });
});

describe('a gap in the fan-out', { timeout: 120_000 }, () => {
  let fleet;
  after(() => fleet?.stop());

  test('closes the receiver\'s connections with allowReconnect and counts it, never drops silently', async () => {
    // A tiny queue: while Redis is down, A can hold only a few actions; the rest are dropped.
    fleet = await startFleet({ count: 2, gatewayArgs: [...LEASE, '--redis-queue-bytes', '1KiB'] });
    const [a, b] = fleet.gateways;
    const clientsB = new Clients(b);
    const bob = await clientsB.connect({ user: 'bob' });
    try {
      // B has seen A's sequence once: the baseline.
      const arrived = nextMessages(bob, 'note');
      const first = await rest(a, 'POST', '/api/v1/hubs/e2e/users/bob', { json: { target: 'note', arguments: ['before'] } });
      assert.equal(first.status, 202);
      await arrived;

      await fleet.redis.kill();
      await until(async () => (await readiness(a)) === 'degraded', { what: 'A degraded' });
      for (let i = 0; i < 40; i += 1) {
        const res = await rest(a, 'POST', '/api/v1/hubs/e2e/users/bob', { json: { target: 'note', arguments: [`lost ${i}`] } });
        assert.equal(res.status, 202);
      }
      assert.ok(await metric(a, 'switchboard_backplane_dropped_total') > 0, 'A dropped what its queue could not hold');

      await fleet.redis.start();
      const closeError = await withTimeout(bob.closed, 15_000, 'bob closed after the gap');
      assert.ok(closeError, 'closed with an error, not cleanly');
      const close = bob.received.find((m) => m.type === MessageType.Close);
      assert.ok(close, 'a Close message');
      assert.equal(close.allowReconnect, true);
      assert.ok(await metric(b, 'switchboard_backplane_gaps_total') >= 1, 'B counted the gap');
    } finally {
      await clientsB.stopAll();
    }
  });
});
