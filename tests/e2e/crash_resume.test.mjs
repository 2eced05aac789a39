// A crash without seams (docs/scaling.md "Crashes"; issue "A fleet without seams", part 3): two gateways
// over one real redis-server behind lib/balancer.mjs (round robin, no affinity), the fleet log on (the
// default), the e2e function behind both. 24 clients of @microsoft/signalr 10 with
// withStatefulReconnect() and withAutomaticReconnect() over WebSockets, each its own user, half on each
// gateway, all in one group. Numbered REST sends go through the balancer all along: a group stream
// (50/s) and one stream per user (100/s over all users).
//
// The crash: the balancer stops routing to G1 (its health check would), then G1 is SIGKILLed: no drain,
// no handoff, no Close. Its clients' stateful reconnect reaches G2, which finds G1 gone, takes each
// connection's checkpoint from Redis, rebuilds it (same id, groups, sequence numbers) and runs on it the
// fleet log's entries after the checkpoint, numbered as G1 numbered them: the client's own duplicate
// filter drops what it already had.
//
// Checked: for every client and stream none lost, duplicated or reordered; every client keeps its
// connection id; every client of G1 resumed from a checkpoint (G2's counter); the function saw one
// `connected` per client and no `disconnected`, also after G2 reaped G1's lease (the reaper leaves
// resumed connections alone).
//
// The second test: a client of a crashed gateway that comes back after its reconnect window gets a
// clean end: its old connection gets `disconnected` once (from the reaper), and the client starts
// afresh as a new connection.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, until } from './lib/processes.mjs';
import { HubConnectionState, withTimeout } from './lib/client.mjs';
import { fleetClients, metric, startFleet } from './lib/fleet.mjs';
import { startBalancer } from './lib/balancer.mjs';
import { groupPath, recordStreams, startNumberedSender, userPath } from './lib/delivery_counter.mjs';
import { seamChecks } from './lib/seam_checks.mjs';

const VERSION = 10;
const CLIENTS = 24;
const GROUP = 'crash-room';
const GROUP_STREAM = `group:${GROUP}`;
const TARGET = 'cr';
const GROUP_PER_SECOND = 50;
const USER_PER_SECOND = 100;
const LEASE = '2s'; // short, so that the reaper's pass over the dead gateway is part of the run
const SETTLE_MS = 30_000;
const FINAL_MS = 10_000;

const quickRetry = { nextRetryDelayInMilliseconds: (ctx) => (ctx.elapsedMilliseconds < 30_000 ? 100 : null) };
const portOf = (gateway) => Number(new URL(gateway.gatewayUrl).port);

describe('a gateway of a fleet crashes', { timeout: 300_000 }, () => {
  let fleet;
  let balancer;
  let clients;
  let front;
  let senders = [];

  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: ['--redis-lease', LEASE] });
    balancer = await startBalancer(fleet.gateways.map(portOf), { mode: 'request' });
    clients = fleetClients(fleet);
    front = { gatewayUrl: balancer.url, key: fleet.key };
  });
  afterEach(async (t) => {
    await Promise.all(senders.map((s) => s.stop()));
    senders = [];
    await clients?.cleanUp(t);
  });
  after(async () => {
    await clients?.stopAll();
    await fleet?.stop();
    await balancer?.stop();
  });

  test('SIGKILL: its stateful clients resume on another gateway with the same ids, nothing lost, duplicated or reordered', { timeout: 180_000 }, async (t) => {
    const [g1, g2] = fleet.gateways;
    const members = [];
    for (let i = 0; i < CLIENTS; i += 1) {
      const user = `crash-${String(i).padStart(2, '0')}`;
      const home = i % 2 === 0 ? g1 : g2;
      balancer.setTargets([portOf(home)]);
      const c = clients.build({ user, transport: 'WebSockets', version: VERSION, stateful: true, reconnect: quickRetry, baseUrl: balancer.url });
      const member = { user, c, home: home.handle.name, streams: recordStreams(c, TARGET), reconnecting: [], reconnectedIds: [] };
      c.onreconnecting((error) => member.reconnecting.push(String(error)));
      c.onreconnected((id) => {
        member.reconnectedIds.push(id);
        c.invoke('joinGroup', GROUP).catch(() => {});
      });
      await withTimeout(c.start(), 10_000, `start() for ${user}`);
      member.id = c.connectionId;
      assert.equal(c.connection.features.reconnect, true, `${user}: stateful reconnect granted`);
      assert.equal(await withTimeout(c.invoke('joinGroup', GROUP), 10_000, `joinGroup for ${user}`), true);
      members.push(member);
    }
    balancer.setTargets([g1, g2].map(portOf));

    const groupSender = startNumberedSender(front, {
      target: TARGET, perSecond: GROUP_PER_SECOND, route: () => ({ stream: GROUP_STREAM, path: groupPath(GROUP) }),
    });
    const userSender = startNumberedSender(front, {
      target: TARGET,
      perSecond: USER_PER_SECOND,
      route: (i) => ({ stream: `user:${members[i % members.length].user}`, path: userPath(members[i % members.length].user) }),
    });
    senders = [groupSender, userSender];
    const highestGroup = (m) => Math.max(-1, ...(m.streams.get(GROUP_STREAM) ?? []));
    const everyoneAt = (mark) => members.every((m) => m.c.state === HubConnectionState.Connected && highestGroup(m) >= mark);
    const behind = (mark) => members.filter((m) => !(m.c.state === HubConnectionState.Connected && highestGroup(m) >= mark))
      .map((m) => `${m.user} (${m.c.state}, highest ${highestGroup(m)})`).join(', ');

    // Long enough for checkpoints (1 s apart) to lag behind what the clients got: the replay matters.
    await until(() => everyoneAt(60), { timeoutMs: 15_000, what: () => `60 group messages everywhere; behind: ${behind(60)}` });

    // The crash. The balancer routes to G2 from now on; requests already on their way end first.
    balancer.setTargets([portOf(g2)]);
    await Promise.all(senders.map((s) => s.inFlight));
    g1.handle.child.kill('SIGKILL');
    await g1.handle.exited;
    const notes = [];
    const mark = groupSender.next(GROUP_STREAM) + 20;
    const settled = await until(() => everyoneAt(mark), { timeoutMs: SETTLE_MS, what: 'settled' }).then(() => true, () => false);
    if (!settled) notes.push(`not every client was back within ${SETTLE_MS} ms: ${behind(mark)}`);

    // The reaper's pass over G1 (its lease lapses after LEASE): nothing may reach the function for the
    // resumed connections.
    await until(() => g2.gatewayLog().includes('gateway_reaped'), { timeoutMs: 15_000, what: 'G2 reaped G1' });

    await groupSender.stop();
    await userSender.stop();
    const expectedOf = (m) => [
      [GROUP_STREAM, groupSender.accepted.get(GROUP_STREAM) ?? []],
      [`user:${m.user}`, userSender.accepted.get(`user:${m.user}`) ?? []],
    ];
    const complete = (m) => expectedOf(m).every(([stream, expected]) => !expected.length || (m.streams.get(stream) ?? []).includes(expected.at(-1)));
    const finished = await until(() => members.every(complete), { timeoutMs: FINAL_MS, what: 'last numbers' }).then(() => true, () => false);
    if (!finished) notes.push(`within ${FINAL_MS} ms of the last send, ${members.filter((m) => !complete(m)).length} client(s) lacked a last number`);

    const events = await functionEvents(fleet);
    const resumedFromCheckpoint = await metric(g2, 'switchboard_checkpoint_resumes_total');
    const { findings, check, totals } = seamChecks({ members, expectedOf, senders, events });
    check('every client of the crashed gateway resumed from its checkpoint', () => {
      assert.equal(resumedFromCheckpoint, CLIENTS / 2);
    });
    check('each client\'s joinGroup reached the function once, keyed by its connection id and sequence id 1', () => {
      const odd = members.filter((m) => {
        const joins = events.filter((e) => e.userId === m.user && e.target === 'joinGroup');
        return joins.length !== 1 || joins[0].idempotencyKey !== `${m.id}:1`;
      }).map((m) => `  ${m.user}: ${JSON.stringify(events.filter((e) => e.userId === m.user && e.target === 'joinGroup')
        .map((e) => e.idempotencyKey))}`);
      assert.equal(odd.length, 0, odd.join('\n'));
    });
    t.diagnostic(`clients ${members.length}, sends: group ${groupSender.sent}, user ${userSender.sent}; totals ${JSON.stringify(totals)}; ` +
      `resumed from checkpoints ${resumedFromCheckpoint}; ids kept ${members.filter((m) => m.c.connectionId === m.id).length}/${members.length}`);
    for (const n of notes) t.diagnostic(n);
    if (findings.length) assert.fail(`${findings.length} finding(s):\n${[...findings, ...notes.map((n) => `note: ${n}`)].join('\n')}`);
  });
});

describe('a client of a crashed gateway comes back after its window', { timeout: 120_000 }, () => {
  let fleet;
  let balancer;
  let clients;

  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: ['--redis-lease', '1s', '--stateful-reconnect-window', '3s'] });
    balancer = await startBalancer(fleet.gateways.map(portOf), { mode: 'request' });
    clients = fleetClients(fleet);
  });
  afterEach(async (t) => clients?.cleanUp(t));
  after(async () => {
    await clients?.stopAll();
    await fleet?.stop();
    await balancer?.stop();
  });

  test('its old connection gets `disconnected` once, from the reaper, and the client starts afresh', async () => {
    const [g1, g2] = fleet.gateways;
    balancer.setTargets([portOf(g1)]);
    const c = await clients.connect({ user: 'late', transport: 'WebSockets', version: VERSION, stateful: true, reconnect: quickRetry, baseUrl: balancer.url });
    const id = c.connectionId;
    assert.equal(await c.invoke('joinGroup', 'late-room'), true);
    // Its checkpoint is written within a second of the join.
    await until(async () => (await metric(g1, 'switchboard_checkpoints_written_total')) >= 1, { what: 'a checkpoint' });
    const reconnected = new Promise((resolve) => c.onreconnected((newId) => resolve(newId)));

    // The client's network is down (the balancer holds its requests) while G1 dies and the window passes.
    balancer.hold();
    balancer.setTargets([portOf(g2)]);
    g1.handle.child.kill('SIGKILL');
    await g1.handle.exited;
    const events = await until(async () => {
      const all = await functionEvents(fleet, id);
      return all.some((e) => e.event === 'disconnected') ? all : undefined;
    }, { timeoutMs: 20_000, what: `disconnected for ${id} after the window` });
    balancer.release();

    const newId = await withTimeout(reconnected, 30_000, 'onreconnected');
    assert.notEqual(newId, id, 'a new connection');
    assert.equal(await withTimeout(c.invoke('echo', 'back'), 10_000, 'echo'), 'back');
    // Once only, however long one waits (the resume that came too late sends none).
    await until(() => g2.gatewayLog().includes('parked_reaped'), { what: 'the parked connection reaped' });
    const later = await functionEvents(fleet, id);
    assert.deepEqual(later.filter((e) => e.event === 'connected' || e.event === 'disconnected').map((e) => e.event),
      ['connected', 'disconnected'], JSON.stringify(events));
  });
});
