// The edges of a handoff (docs/scaling.md "Rolling restarts", "When it can't move"): a fleet of two
// gateways over one real redis-server behind lib/balancer.mjs, the e2e function behind both, clients of
// @microsoft/signalr 10 with withStatefulReconnect() and withAutomaticReconnect() over WebSockets.
// Gateway A is sent SIGTERM; its stateful clients' sockets drop without a Close and their stateful
// reconnect goes through the balancer to gateway B, which asks A through Redis for the connection.
// Here that move cannot happen, or not for everyone, and each connection must end cleanly, once:
//
// 1. The client is back after the reconnect window: the balancer parks its resume (hold(): a client
//    whose network is down) until A's window ended the connection and A exited. B answers the resume 404,
//    the client comes back through automatic reconnect as a new connection, and works; the function saw
//    exactly one `disconnected` for the old id.
// 2. The kept messages pass --max-send-queue-bytes while the client is away: REST group sends through B
//    fill the detached connection's buffer on A, which ends it once with send_queue_full; its resume
//    then gets 404 and the client comes back as a new connection.
// 3. Redis is restarted (SIGKILL, start again empty) as the first handoff lands, with ten clients of A
//    in a group and numbered group sends going on: once with every client dropped at once (handoffs in
//    flight), once with the drops spread over 2 s (most of them after Redis is back). Each client either
//    kept its id (resumed, no `disconnected`) or came back as a new connection with exactly one
//    `disconnected` for its old id; never both, never neither, never two. At the end every client is
//    connected and gets a new group message. How many resumed is reported, not asserted.
//
// The function's view comes from GET /events (lib/processes.mjs functionEvents); a gateway's exit code
// from its handle. Every wait is on an event or a bounded poll of something the test can't subscribe to.

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, until } from './lib/processes.mjs';
import { HubConnectionState, nextMessages, withTimeout } from './lib/client.mjs';
import { fleetClients, metric, readiness, startFleet } from './lib/fleet.mjs';
import { startBalancer } from './lib/balancer.mjs';
import { rest } from './lib/rest.mjs';
import { groupPath, recordStreams, startNumberedSender, tally } from './lib/delivery_counter.mjs';

const VERSION = 10; // the newest @microsoft/signalr in the matrix (tests/e2e/clients/v10)
// A drained gateway exits once its last connection ended and its `disconnected` went out (at most 5 s
// more). Here that is within a few seconds; past this the harness kills it (a finding, not a hang).
const EXIT_GRACE_MS = 20_000;

// Automatic reconnect (used only when a stateful resume fails): retry quickly for a while.
const quickRetry = { nextRetryDelayInMilliseconds: (ctx) => (ctx.elapsedMilliseconds < 30_000 ? 100 : null) };

const portOf = (gateway) => Number(new URL(gateway.gatewayUrl).port);
const lifecycle = (events) => events.filter((e) => e.event === 'connected' || e.event === 'disconnected');
const count = (events, name) => events.filter((e) => e.event === name).length;

/** The lines of a gateway's /metrics whose name starts with `prefix` (labelled series included). */
async function metricLines(gateway, prefix) {
  const text = await (await fetch(`${gateway.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

/** The lines of a gateway's stderr that name `connectionId`. */
const logLinesOf = (gateway, connectionId) => gateway.gatewayLog().split('\n').filter((l) => l.includes(connectionId));

describe('handoff edges: a stateful connection that cannot move ends once', { timeout: 180_000 }, () => {
  let env; // {fleet, balancer, clients} of the running test

  /** Two gateways with `gatewayArgs`, a balancer in front (targets: A), and a Clients for it. */
  async function setUp(gatewayArgs) {
    const fleet = await startFleet({ count: 2, gatewayArgs });
    env = { fleet }; // stopped by afterEach even if what follows fails
    const balancer = await startBalancer([portOf(fleet.gateways[0])], { mode: 'request' });
    env.balancer = balancer;
    const clients = fleetClients(fleet, {
      tail: 3_000,
      moreLog: () => `[balancer routes (last 20)]\n${balancer.routes.slice(-20).map((r) => JSON.stringify(r)).join('\n')}`,
    });
    env = { fleet, balancer, clients };
    return env;
  }

  afterEach(async (t) => {
    if (!env) return;
    const { fleet, balancer, clients } = env;
    env = undefined;
    await clients?.cleanUp(t);
    // The fleet first: the gateways' exit closes every upstream socket, and the balancer then closes
    // their client sides (and any request still parked).
    await fleet.stop();
    await balancer?.stop();
  });

  /**
   * A started stateful client of user `user` through the balancer, in `group` when given, tracked:
   * {user, c, id (its first connection id), reconnecting (onreconnecting errors), reconnectedIds
   * (onreconnected ids), rejoins (per new connection, the promise of its joinGroup result)}.
   */
  async function statefulMember(user, group) {
    const { balancer, clients } = env;
    const c = clients.build({ user, transport: 'WebSockets', version: VERSION, stateful: true, reconnect: quickRetry, baseUrl: balancer.url });
    const member = { user, c, reconnecting: [], reconnectedIds: [], rejoins: [] };
    c.onreconnecting((error) => member.reconnecting.push(String(error)));
    c.onreconnected((id) => {
      member.reconnectedIds.push(id);
      // A new connection is not in the group: join again, as an app would.
      if (group) member.rejoins.push(c.invoke('joinGroup', group).then((ok) => ok, (err) => String(err)));
    });
    await withTimeout(c.start(), 10_000, `start() for ${user}`);
    member.id = c.connectionId;
    assert.equal(c.connection.features.reconnect, true, `${user}: the gateway granted stateful reconnect`);
    if (group) assert.equal(await withTimeout(c.invoke('joinGroup', group), 10_000, `joinGroup for ${user}`), true);
    return member;
  }

  /** Resolves to the new connection id at the member's next onreconnected. */
  const nextReconnect = (member) => new Promise((resolve) => member.c.onreconnected((id) => resolve(id)));

  /**
   * After the member's resume was refused and it came back as a new connection `newId`: checks the
   * new connection works (echo; a group joined and a REST group send through the balancer reaching it)
   * and what the function saw of both ids.
   */
  async function checkFreshConnection(member, newId, group, disconnectText) {
    const { fleet, balancer } = env;
    const { c, id: oldId } = member;
    assert.notEqual(newId, oldId, 'a new connection id');
    assert.equal(c.connectionId, newId);
    assert.equal(c.state, HubConnectionState.Connected);
    assert.equal(await withTimeout(c.invoke('echo', 'still here'), 10_000, 'echo on the new connection'), 'still here');
    const rejoined = await withTimeout(Promise.all(member.rejoins), 10_000, 'joinGroup on the new connection');
    assert.deepEqual(rejoined, [true], 'the new connection joined the group (once)');
    const arrived = nextMessages(c, 'afterwards', 1, { timeoutMs: 10_000 });
    const res = await rest({ gatewayUrl: balancer.url, key: fleet.key }, 'POST', groupPath(group),
      { json: { target: 'afterwards', arguments: ['to the group'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await arrived, [['to the group']]);

    // The function: the old connection connected and ended once; the new one connected and lives. Read
    // after the round trips above, which came after the old connection's end.
    const old = lifecycle(await functionEvents(fleet, oldId));
    assert.deepEqual(old.map((e) => e.event), ['connected', 'disconnected'], `old connection ${oldId}: ${JSON.stringify(old)}`);
    assert.match(old[1].error ?? '', disconnectText, 'the disconnected names why it ended');
    const fresh = lifecycle(await functionEvents(fleet, newId));
    assert.deepEqual(fresh.map((e) => e.event), ['connected'], `new connection ${newId}: ${JSON.stringify(fresh)}`);
    assert.deepEqual(member.reconnectedIds, [newId], 'onreconnected once, with the new id');
    assert.equal(member.reconnecting.length, 1, `onreconnecting once: ${JSON.stringify(member.reconnecting)}`);
  }

  /** The upgrades the balancer routed to `gateway` since routed number `since` (the resume is the first). */
  const upgradesTo = (gateway, since) =>
    env.balancer.routes.filter((r) => r.n > since && r.kind === 'upgrade' && r.port === portOf(gateway));

  test('a client back after the reconnect window gets 404 and comes back as a new connection; the old one ends once', { timeout: 60_000 }, async (t) => {
    const WINDOW_MS = 2_000;
    const GROUP = 'late-room';
    const { fleet, balancer } = await setUp(['--stateful-reconnect-window', `${WINDOW_MS}ms`]);
    const [a, b] = fleet.gateways;
    const member = await statefulMember('late-1', GROUP);
    const back = nextReconnect(member);

    // The client's network goes away: its resume waits at the balancer, unrouted, past A's window.
    balancer.hold();
    const routedBefore = balancer.routed;
    const began = Date.now();
    const aEnd = a.handle.stop({ graceMs: EXIT_GRACE_MS });
    await until(() => balancer.parked >= 1, { timeoutMs: 5_000, what: 'the client\'s stateful reconnect reaching the balancer' });
    const end = await aEnd;
    const drainMs = Date.now() - began;
    assert.deepEqual({ code: end.code, killed: end.killed }, { code: 0, killed: false }, `A's exit: ${JSON.stringify(end)}`);
    // The window is checked by a 1 s heartbeat against a clock read at the last beat (docs/lifecycle.md
    // "Timers": each fires within a second of its deadline), so A may end it up to a second early.
    assert.ok(drainMs >= WINDOW_MS - 1_000, `A waited out the window before exiting (${drainMs} ms)`);
    // A exited once the connection had ended: its `disconnected` is at the function.
    const ended = await until(async () => {
      const events = await functionEvents(fleet, member.id);
      return events.some((e) => e.event === 'disconnected') ? events : undefined;
    }, { timeoutMs: 5_000, what: `the disconnected of ${member.id}` });
    assert.equal(count(ended, 'disconnected'), 1, JSON.stringify(ended));

    // The network is back and B in rotation: the resume reaches B, which finds nobody holding the id.
    balancer.setTargets([portOf(b)]);
    balancer.release();
    const newId = await withTimeout(back, 15_000, 'onreconnected (a new connection through automatic reconnect)');
    const [resume, ...later] = upgradesTo(b, routedBefore);
    assert.equal(resume?.status, 404, `B refused the resume: ${JSON.stringify([resume, ...later])}`);
    assert.ok(logLinesOf(b, member.id).some((l) => /handoff/.test(l) && /404/.test(l)),
      `B logged the refusal:\n${logLinesOf(b, member.id).join('\n')}`);
    await checkFreshConnection(member, newId, GROUP, /not resumed within the reconnect window/);
    t.diagnostic(`A drained in ${drainMs} ms (window ${WINDOW_MS} ms); ${member.id} → ${newId}; B: ${logLinesOf(b, member.id).map((l) => l.trim()).join(' | ')}`);
  });

  test('a connection older than --negotiate-timeout (its token can no longer open one) is still handed over', { timeout: 60_000 }, async () => {
    const { fleet, balancer } = await setUp(['--negotiate-timeout', '1s']);
    const [a, b] = fleet.gateways;
    const member = await statefulMember('elder', 'elders');
    // Its age is the point: past the token's opening window, as every connection of a real deploy is.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    balancer.setTargets([portOf(b)]);
    const exited = a.handle.stop({ graceMs: 40_000 });
    await until(async () => (await metric(b, 'switchboard_handoffs_in_total')) >= 1, { what: 'the handoff at B', timeoutMs: 10_000 });
    assert.equal((await exited).code, 0);
    assert.equal(member.c.connectionId, member.id, 'same connection id');
    assert.deepEqual(member.reconnectedIds, [], 'no new connection');
    const arrived = nextMessages(member.c, 'afterwards', 1, { timeoutMs: 10_000 });
    const res = await rest({ gatewayUrl: balancer.url, key: fleet.key }, 'POST', groupPath('elders'),
      { json: { target: 'afterwards', arguments: ['still a member'] } });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(await arrived, [['still a member']], 'its group came along');
    assert.deepEqual(lifecycle(await functionEvents(fleet, member.id)).map((e) => e.event), ['connected']);
  });

  test('kept messages passing --max-send-queue-bytes while the client is away end the connection on A once (send_queue_full)', { timeout: 60_000 }, async (t) => {
    const LIMIT = 20_000;
    const GROUP = 'busy-room';
    const PAYLOAD = 'x'.repeat(3_000);
    const SENDS = 14; // about twice the limit
    const { fleet, balancer } = await setUp(['--max-send-queue-bytes', String(LIMIT)]);
    const [a, b] = fleet.gateways;
    const member = await statefulMember('busy-1', GROUP);
    const bulk = [];
    member.c.on('bulk', (i) => bulk.push(i));
    const back = nextReconnect(member);

    balancer.hold();
    const routedBefore = balancer.routed;
    const aEnd = a.handle.stop({ graceMs: EXIT_GRACE_MS });
    await until(() => balancer.parked >= 1, { timeoutMs: 5_000, what: 'the client\'s stateful reconnect reaching the balancer' });

    // The connection is detached on A (the client is parked at the balancer); its group gets busy.
    const statuses = [];
    for (let i = 0; i < SENDS; i += 1) {
      const res = await rest(b, 'POST', groupPath(GROUP), { json: { target: 'bulk', arguments: [i, PAYLOAD] } });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, Array(SENDS).fill(202), 'every group send through B accepted');
    const ended = await until(async () => {
      const events = await functionEvents(fleet, member.id);
      return events.some((e) => e.event === 'disconnected') ? events : undefined;
    }, { timeoutMs: 10_000, what: `the disconnected of ${member.id} after ${SENDS} × ${PAYLOAD.length} bytes` });
    const end = await aEnd;
    assert.deepEqual({ code: end.code, killed: end.killed }, { code: 0, killed: false }, `A's exit: ${JSON.stringify(end)}`);
    assert.equal(count(ended, 'disconnected'), 1, JSON.stringify(ended));
    const overflow = logLinesOf(a, member.id).filter((l) => l.includes('send_queue_full'));
    assert.ok(overflow.length >= 1, `A logged send_queue_full for ${member.id}:\n${logLinesOf(a, member.id).join('\n')}`);

    balancer.setTargets([portOf(b)]);
    balancer.release();
    const newId = await withTimeout(back, 15_000, 'onreconnected (a new connection through automatic reconnect)');
    const [resume, ...later] = upgradesTo(b, routedBefore);
    assert.equal(resume?.status, 404, `B refused the resume: ${JSON.stringify([resume, ...later])}`);
    await checkFreshConnection(member, newId, GROUP, /did not acknowledge messages fast enough/);
    t.diagnostic(`${SENDS} sends of ${PAYLOAD.length} bytes; A: ${overflow.map((l) => l.trim()).join(' | ')}; ` +
      `bulk messages the client received: ${bulk.length}; ${member.id} → ${newId}`);
  });

  // Two timings of the same restart: with --shutdown-spread 0 A drops every client at once, so Redis goes
  // away while handoffs are in flight; with 2s the first handoff lands, Redis restarts, and the other
  // clients move one by one after both gateways are back in sync with the empty Redis.
  for (const { spread, when } of [
    { spread: '0', when: 'while the handoffs are in flight (--shutdown-spread 0)' },
    { spread: '2s', when: 'after the first handoff, the rest moving once it is back (--shutdown-spread 2s)' },
  ]) {
    test(`redis restarted ${when}: each client resumed or came back new with one disconnected, never both or neither`, { timeout: 60_000 }, (t) => redisRestarted(t, spread));
  }

  async function redisRestarted(t, spread) {
    const CLIENTS = 10;
    const GROUP = 'restless-room';
    const STREAM = `group:${GROUP}`;
    // A short window: a client refused while Redis is away leaves its old connection on A, which A ends
    // at the window; A exits after that.
    const { fleet, balancer } = await setUp(['--stateful-reconnect-window', '3s', '--shutdown-spread', spread]);
    const [a, b] = fleet.gateways;
    const members = [];
    for (let i = 0; i < CLIENTS; i += 1) {
      const m = await statefulMember(`restless-${String(i).padStart(2, '0')}`, GROUP);
      m.streams = recordStreams(m.c, 'edge');
      members.push(m);
    }
    balancer.setTargets([portOf(b)]); // A out of rotation, as an orchestrator does before SIGTERM

    const sender = startNumberedSender({ gatewayUrl: b.gatewayUrl, key: fleet.key }, {
      target: 'edge', perSecond: 50, route: () => ({ stream: STREAM, path: groupPath(GROUP) }),
    });
    try {
      const highest = (m) => Math.max(-1, ...(m.streams.get(STREAM) ?? []));
      await until(() => members.every((m) => highest(m) >= 5), { timeoutMs: 10_000, what: 'group messages at every client' });

      const aEnd = a.handle.stop({ graceMs: EXIT_GRACE_MS });
      const began = Date.now();
      await until(async () => (await metric(b, 'switchboard_handoffs_in_total')) > 0,
        { timeoutMs: 10_000, intervalMs: 5, what: 'the first handoff at B' });
      const firstHandoffMs = Date.now() - began;
      await fleet.redis.kill();
      await fleet.redis.start();
      const redisBackMs = Date.now() - began;

      const end = await aEnd;
      const exitMs = Date.now() - began;
      assert.deepEqual({ code: end.code, killed: end.killed }, { code: 0, killed: false }, `A's exit: ${JSON.stringify(end)}`);
      await until(async () => (await readiness(b)) === 'ready', { timeoutMs: 15_000, what: 'B back in sync with Redis' });

      // Everyone back: connected, and a client that came back as a new connection in the group again.
      const settled = (m) => m.c.state === HubConnectionState.Connected && m.rejoins.length === m.reconnectedIds.length;
      await until(() => members.every(settled), {
        timeoutMs: 20_000,
        what: () => `every client connected; not: ${members.filter((m) => !settled(m)).map((m) => `${m.user} (${m.c.state})`).join(', ')}`,
      });
      const rejoins = await withTimeout(Promise.all(members.flatMap((m) => m.rejoins)), 10_000, 'group joins of new connections');
      assert.ok(rejoins.every((ok) => ok === true), `joinGroup results: ${JSON.stringify(rejoins)}`);
      await sender.stop();

      // A new group message reaches every client.
      const arrivals = members.map((m) => nextMessages(m.c, 'final', 1, { timeoutMs: 10_000 }));
      const res = await rest(b, 'POST', groupPath(GROUP), { json: { target: 'final', arguments: ['after the storm'] } });
      assert.equal(res.status, 202, res.text);
      const finals = await Promise.allSettled(arrivals);
      const missing = members.filter((m, i) => finals[i].status !== 'fulfilled').map((m) => `${m.user} (${m.c.connectionId})`);

      // What the function saw. A has exited, so every `disconnected` it owed went out before it did; but
      // an old connection that reached B and was never resumed there ends on B's clock (its window, or
      // B's close), which the test does not otherwise wait for: wait for those, then count.
      const fresh = members.filter((m) => !(m.c.connectionId === m.id && m.reconnectedIds.length === 0));
      await until(async () => {
        const seen = await functionEvents(fleet);
        return fresh.every((m) => seen.some((e) => e.connectionId === m.id && e.event === 'disconnected'));
      }, { timeoutMs: 10_000, what: 'a disconnected for the old id of every client that came back new' }).catch(() => {});
      const events = await functionEvents(fleet);
      const rows = [];
      const wrong = [];
      let resumed = 0;
      let restarted = 0;
      for (const m of members) {
        const old = lifecycle(events.filter((e) => e.connectionId === m.id));
        const disconnects = count(old, 'disconnected');
        const kept = m.c.connectionId === m.id && m.reconnectedIds.length === 0;
        const counts = tally(m.streams.get(STREAM), sender.accepted.get(STREAM));
        const row = `${m.user} ${m.id} → ${m.c.connectionId}: ${kept ? 'resumed' : 'new connection'}, ` +
          `onreconnecting ×${m.reconnecting.length}, onreconnected ×${m.reconnectedIds.length}, ` +
          `old id connected ×${count(old, 'connected')} disconnected ×${disconnects} (${old.filter((e) => e.event === 'disconnected').map((e) => e.error).join(' | ')}); ` +
          `group stream received ${counts.received} lost ${counts.lost} duplicated ${counts.duplicated} reordered ${counts.reordered}`;
        rows.push(row);
        if (count(old, 'connected') !== 1) wrong.push(`${row} — not exactly one connected for the old id`);
        if (kept) {
          resumed += 1;
          if (disconnects !== 0) wrong.push(`${row} — resumed AND ended at the function`);
        } else {
          restarted += 1;
          if (m.c.connectionId === m.id) wrong.push(`${row} — onreconnected yet the same id`);
          if (disconnects !== 1) wrong.push(`${row} — a new connection, yet ${disconnects} disconnected for the old id`);
          for (const id of m.reconnectedIds) {
            const fresh = lifecycle(events.filter((e) => e.connectionId === id));
            const expected = id === m.c.connectionId ? ['connected'] : ['connected', 'disconnected'];
            if (JSON.stringify(fresh.map((e) => e.event)) !== JSON.stringify(expected)) {
              wrong.push(`${row} — its connection ${id}: ${JSON.stringify(fresh.map((e) => e.event))}`);
            }
          }
        }
      }
      const bMetrics = await metricLines(b, 'switchboard_handoff');
      // How B answered the resumes it did not take over, as far as its log says (lines are throttled).
      const bLines = members.filter((m) => m.c.connectionId !== m.id).flatMap((m) => logLinesOf(b, m.id))
        .map((l) => /\b(connection \w+|handoff \w+|client \w+)\b/.exec(l)?.[1] ?? l);
      const tallied = new Map();
      for (const l of bLines) tallied.set(l, (tallied.get(l) ?? 0) + 1);
      const bSaid = [...tallied].map(([line, n]) => `${line} ×${n}`).join(', ');
      t.diagnostic(`first handoff at B ${firstHandoffMs} ms after SIGTERM, Redis back at ${redisBackMs} ms, A exited at ${exitMs} ms; ` +
        `resumed ${resumed}, new connections ${restarted} of ${CLIENTS}; group sends ${sender.sent} (failed ${sender.failures.length}); ` +
        `B: ${bMetrics.join(', ')}; B's log for the old ids of new connections: ${bSaid || '(nothing)'}`);
      for (const row of rows) t.diagnostic(row);

      assert.deepEqual(wrong, [], `${wrong.length} client(s) ended wrongly:\n${wrong.join('\n')}`);
      assert.deepEqual(missing, [], 'every client received the group message sent after the restart');
    } finally {
      await sender.stop();
    }
  }
});
