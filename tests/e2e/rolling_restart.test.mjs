// A rolling restart without seams (PROTOCOL.md part 3 §3.8, "Connections outlive their gateway"; issue
// "A fleet without seams", part 2): two gateways over one real redis-server behind lib/balancer.mjs
// (round robin per request, no affinity), the e2e function behind both. 24 clients of @microsoft/signalr
// 10 with withStatefulReconnect() and withAutomaticReconnect() over WebSockets, each its own user, half
// on each gateway, all in one group joined through the function. Numbered REST sends go through the
// balancer all along: a group stream (50/s) and one stream per user (100/s over all users), each
// message `rr(stream, number)`.
//
// The restart, as an orchestrator does it: take G1 out of the balancer's rotation, SIGTERM it (default
// shutdown mode `reconnect`), wait for it to exit, start its successor G1' (a new port) and put it in
// rotation; then the same for G2. A draining gateway hands each stateful connection over through Redis
// and drops its socket without a Close: the client's stateful reconnect goes through the balancer to a
// live gateway, which resumes the same connection id with its groups and replays what was not acked.
//
// Checked: for every client and stream none lost, duplicated or reordered; every client keeps its
// connection id (a resume fires neither onreconnecting nor onreconnected; a new connection would fire
// onreconnected with a new id); the function saw exactly one `connected` per client and no
// `disconnected` during the run; every client's socket did move (the restart was exercised) and every
// REST send was accepted. All findings are gathered and reported together.
//
// The second test: a client WITHOUT stateful reconnect is closed on SIGTERM as before (a Close with
// allowReconnect:true) and comes back through automatic reconnect as a new connection.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { functionEvents, until } from './lib/processes.mjs';
import { HubConnectionState, MessageType, withTimeout } from './lib/client.mjs';
import { fleetClients, metric, startFleet } from './lib/fleet.mjs';
import { startBalancer } from './lib/balancer.mjs';
import { groupPath, recordStreams, startNumberedSender, userPath } from './lib/delivery_counter.mjs';
import { seamChecks } from './lib/seam_checks.mjs';

const VERSION = 10; // the newest @microsoft/signalr in the matrix (tests/e2e/clients/v10)
const CLIENTS = 24;
const GROUP = 'rolling-room';
const GROUP_STREAM = `group:${GROUP}`;
const TARGET = 'rr';
const GROUP_PER_SECOND = 50;
const USER_PER_SECOND = 100;
// How long a drained gateway may take to exit: --shutdown-timeout (30 s default) plus the 5 s it gives
// the last `disconnected` events, plus slack. Past it the harness kills it (a finding, not a hang).
const EXIT_GRACE_MS = 40_000;
// After a restart, how long every client gets to be back and receiving.
const SETTLE_MS = 30_000;
// After the last send, how long every client gets to receive the last number of each of its streams.
const FINAL_MS = 10_000;

// Automatic reconnect (used only when a stateful resume fails): retry quickly for a while.
const quickRetry = { nextRetryDelayInMilliseconds: (ctx) => (ctx.elapsedMilliseconds < 30_000 ? 100 : null) };

const portOf = (gateway) => Number(new URL(gateway.gatewayUrl).port);
const isRunning = (gateway) => gateway.handle.child.exitCode === null && gateway.handle.child.signalCode === null;

// The `ws` package client 10 uses in Node, subclassed per client to count its sockets: each stateful
// resume or reconnect opens a new one, so the count shows that a client's socket really moved.
const requireV10 = createRequire(new URL('./clients/v10/node_modules/@microsoft/signalr/package.json', import.meta.url));
let WebSocketV10;
try {
  WebSocketV10 = requireV10('ws');
} catch {
  WebSocketV10 = undefined; // clientModules(10) reports the missing install when a client is built
}

/** A WebSocket class for withUrl's `WebSocket` option that counts into `sockets`: {opened, open}. */
function countingWebSocket(sockets) {
  return class CountingWebSocket extends WebSocketV10 {
    constructor(...args) {
      super(...args);
      sockets.opened += 1;
      this.once('open', () => { sockets.open += 1; });
    }
  };
}

describe('rolling restart of a fleet behind a balancer', { timeout: 300_000 }, () => {
  let fleet;
  let balancer;
  let clients;
  let front; // REST through the balancer
  let senders = [];

  before(async () => {
    fleet = await startFleet({ count: 2 });
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
    // The fleet first: the gateways' exit closes every upstream socket, and the balancer then closes
    // their client sides, so its stop() finds little or nothing still open.
    await fleet?.stop();
    await balancer?.stop();
  });

  /**
   * One step of the rolling restart: `old` out of rotation, SIGTERM, wait for its exit, a successor
   * in rotation next to `stays`. REST requests already on their way to `old` are answered first, so
   * no send is cut by the restart itself. Resolves to {end (how `old` ended), successor, ms}.
   *
   * Out of rotation BEFORE the signal, as an orchestrator does: client 10's stateful reconnect makes
   * one attempt (HttpConnection's transport onclose: one transport.connect(), and on failure a new
   * connection through withAutomaticReconnect), so a resume the balancer sent to the draining
   * gateway's closed port (502) would fail because of the harness, not the handoff.
   */
  async function restartOne(old, stays) {
    const began = Date.now();
    balancer.setTargets(stays.map(portOf));
    await Promise.all(senders.map((s) => s.inFlight));
    const end = await old.handle.stop({ graceMs: EXIT_GRACE_MS });
    const successor = await fleet.startGateway();
    balancer.setTargets([...stays, successor].map(portOf));
    return { end, successor, ms: Date.now() - began };
  }

  test('SIGTERM hands stateful connections over: same ids, groups kept, nothing lost, duplicated or reordered', { timeout: 240_000 }, async (t) => {
    const [g1, g2] = fleet.gateways;
    const members = [];

    // 24 clients, half on each gateway: the balancer is pointed at one gateway while a client connects
    // (round robin alone would put every WebSocket on the same gateway: negotiate, then upgrade).
    for (let i = 0; i < CLIENTS; i += 1) {
      const user = `rolling-${String(i).padStart(2, '0')}`;
      const home = i % 2 === 0 ? g1 : g2;
      balancer.setTargets([portOf(home)]);
      const sockets = { opened: 0, open: 0 };
      const c = clients.build({
        user, transport: 'WebSockets', version: VERSION, stateful: true, reconnect: quickRetry, baseUrl: balancer.url,
        httpOptions: { WebSocket: countingWebSocket(sockets) },
      });
      const member = { user, c, sockets, home: home.handle.name, streams: recordStreams(c, TARGET), reconnecting: [], reconnectedIds: [], rejoin: [] };
      c.onreconnecting((error) => member.reconnecting.push(String(error)));
      // A new connection is not in the group: rejoin as an app would, so that the counts below show the
      // seam itself rather than everything after it (a resume keeps the group and never gets here).
      c.onreconnected((id) => {
        member.reconnectedIds.push(id);
        c.invoke('joinGroup', GROUP).then((ok) => member.rejoin.push(ok), (err) => member.rejoin.push(String(err)));
      });
      await withTimeout(c.start(), 10_000, `start() for ${user}`);
      member.id = c.connectionId;
      assert.equal(c.connection.features.reconnect, true, `${user}: the gateway granted stateful reconnect`);
      assert.equal(await withTimeout(c.invoke('joinGroup', GROUP), 10_000, `joinGroup for ${user}`), true);
      members.push(member);
    }
    balancer.setTargets([g1, g2].map(portOf));
    const upgrades = balancer.routes.filter((r) => r.kind === 'upgrade' && r.status === 101);
    const perGateway = [g1, g2].map((g) => upgrades.filter((r) => r.port === portOf(g)).length);
    assert.deepEqual(perGateway, [CLIENTS / 2, CLIENTS / 2], 'half of the clients on each gateway');

    // Steady traffic through the balancer: one group stream, and per-user streams round robin.
    const groupSender = startNumberedSender(front, {
      target: TARGET, perSecond: GROUP_PER_SECOND, route: () => ({ stream: GROUP_STREAM, path: groupPath(GROUP) }),
    });
    const userSender = startNumberedSender(front, {
      target: TARGET,
      perSecond: USER_PER_SECOND,
      route: (i) => {
        const { user } = members[i % members.length];
        return { stream: `user:${user}`, path: userPath(user) };
      },
    });
    senders = [groupSender, userSender];

    const highestGroup = (m) => Math.max(-1, ...(m.streams.get(GROUP_STREAM) ?? []));
    /** Every client connected and holding a group number at or above `mark` (sent after a step ended). */
    const everyoneAt = (mark) => members.every((m) => m.c.state === HubConnectionState.Connected && highestGroup(m) >= mark);
    const behind = (mark) => members.filter((m) => !(m.c.state === HubConnectionState.Connected && highestGroup(m) >= mark))
      .map((m) => `${m.user} (${m.c.state}, highest ${highestGroup(m)})`).join(', ');

    // Before the restart, everyone receives.
    await until(() => everyoneAt(10), { timeoutMs: 10_000, what: () => `10 group messages at every client; behind: ${behind(10)}` });

    // The rolling restart. A step that does not settle is noted, not thrown: the counts below say why.
    const steps = [];
    const notes = [];
    for (const [old, stays] of [[g1, [g2]], [g2, null]]) {
      const others = stays ?? [steps[0].successor]; // G2 is restarted next to G1's successor
      const step = await restartOne(old, others);
      steps.push(step);
      const mark = groupSender.next(GROUP_STREAM);
      const settled = await until(() => everyoneAt(mark), { timeoutMs: SETTLE_MS, what: 'settled' }).then(() => true, () => false);
      if (!settled) notes.push(`after restarting ${old.handle.name}, not every client was back within ${SETTLE_MS} ms: ${behind(mark)}`);
      t.diagnostic(`${old.handle.name} → ${step.successor.handle.name}: exit ${JSON.stringify(step.end)}, ${step.ms} ms to successor in rotation, settled: ${settled}`);
    }

    // The end: stop sending, then wait until every client has the last number of each of its streams
    // (per-sender order makes that last number the fence: a duplicate still on its way comes first).
    await groupSender.stop();
    await userSender.stop();
    const expectedOf = (m) => [
      [GROUP_STREAM, groupSender.accepted.get(GROUP_STREAM) ?? []],
      [`user:${m.user}`, userSender.accepted.get(`user:${m.user}`) ?? []],
    ];
    const complete = (m) => expectedOf(m).every(([stream, expected]) => !expected.length || (m.streams.get(stream) ?? []).includes(expected.at(-1)));
    const finished = await until(() => members.every(complete), { timeoutMs: FINAL_MS, what: 'last numbers' }).then(() => true, () => false);
    if (!finished) notes.push(`within ${FINAL_MS} ms of the last send, ${members.filter((m) => !complete(m)).length} client(s) lacked a last number`);

    // What the function saw, before the clients stop (their stop is after the run).
    const events = await functionEvents(fleet);
    const resumes = await Promise.all(fleet.gateways.filter(isRunning).map(async (g) =>
      `${g.handle.name}=${await metric(g, 'switchboard_stateful_resumes_total')}`));

    // Gather every finding, then report them together.
    const { findings, check, totals } = seamChecks({ members, expectedOf, senders, events });
    check('the drained gateways exited on their own with code 0', () => {
      const ends = steps.map((s) => s.end);
      assert.deepEqual(ends.map((e) => ({ code: e.code, killed: e.killed })), ends.map(() => ({ code: 0, killed: false })), JSON.stringify(ends));
    });
    check('every client\'s socket moved at least once (the restart reached every connection)', () => {
      const unmoved = members.filter((m) => m.sockets.open < 2).map((m) => `${m.user} (${m.sockets.open} open of ${m.sockets.opened})`);
      assert.equal(unmoved.length, 0, unmoved.join(', '));
    });

    for (const line of [
      `clients ${members.length} (${perGateway.join(' + ')}), sends: group ${groupSender.sent}, user ${userSender.sent}; ` +
        `totals ${JSON.stringify(totals)}; sockets opened per client ${[...new Set(members.map((m) => m.sockets.open))].sort().join('/')}; ` +
        `ids kept ${members.filter((m) => m.c.connectionId === m.id).length}/${members.length}; stateful resumes ${resumes.join(' ')}`,
      ...notes,
    ]) t.diagnostic(line);
    if (findings.length) assert.fail(`${findings.length} finding(s):\n${[...findings, ...notes.map((n) => `note: ${n}`)].join('\n')}`);
  });

  test('a connection without stateful reconnect is still closed with allowReconnect and comes back as a new one', { timeout: 90_000 }, async () => {
    const live = fleet.gateways.filter(isRunning);
    while (live.length < 2) live.push(await fleet.startGateway());
    const [victim, other] = live.slice(-2);

    balancer.setTargets([portOf(victim)]);
    const c = await clients.connect({ user: 'rolling-plain', transport: 'WebSockets', version: VERSION, reconnect: quickRetry, baseUrl: balancer.url });
    const id = c.connectionId;
    assert.notEqual(c.connection.features.reconnect, true, 'no stateful reconnect');
    const reconnecting = new Promise((resolve) => c.onreconnecting((error) => resolve(error)));
    const reconnected = new Promise((resolve) => c.onreconnected((newId) => resolve(newId)));

    balancer.setTargets([portOf(other)]);
    const end = await victim.handle.stop({ graceMs: EXIT_GRACE_MS });
    assert.deepEqual({ code: end.code, killed: end.killed }, { code: 0, killed: false }, JSON.stringify(end));

    const error = await withTimeout(reconnecting, 10_000, 'onreconnecting');
    assert.match(String(error), /Server is shutting down/);
    const closes = c.received.filter((m) => m.type === MessageType.Close);
    assert.deepEqual(closes.map((m) => m.allowReconnect), [true], JSON.stringify(closes));
    const newId = await withTimeout(reconnected, 30_000, 'onreconnected');
    assert.notEqual(newId, id, 'a new connection');
    assert.equal(await withTimeout(c.invoke('echo', 'back'), 10_000, 'echo'), 'back');

    const events = await until(async () => {
      const all = await functionEvents(fleet, id);
      return all.some((e) => e.event === 'disconnected') ? all : undefined;
    }, { what: `disconnected for ${id}` });
    assert.deepEqual(events.filter((e) => e.event === 'connected' || e.event === 'disconnected').map((e) => e.event),
      ['connected', 'disconnected'], JSON.stringify(events));
    const fresh = await functionEvents(fleet, newId);
    assert.deepEqual(fresh.filter((e) => e.event === 'connected' || e.event === 'disconnected').map((e) => e.event), ['connected']);
  });
});
