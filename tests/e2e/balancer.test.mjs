// Behind a load balancer WITHOUT affinity (PROTOCOL.md part 3 §3.8, docs/scaling.md): two gateways over
// a real redis-server behind lib/balancer.mjs in mode 'request', which sends every HTTP request, also
// each one on a kept-alive connection, to the next gateway in turn. The real @microsoft/signalr 10 client
// connects through it on every transport and protocol: negotiate and connect land on different gateways
// (the connection token is self-contained), and for SSE and long polling the follow-up requests (POST
// sends, GET polls, DELETE) keep landing on the gateway that does not hold the connection, which relays
// them through Redis to the owner (`switchboard_relayed_requests_total{kind="send|poll|stop"}` counts
// them). Echo results in order, a group joined through the function, numbered REST group sends through
// the balancer with none lost, duplicated or reordered, a clean stop, and exactly one `connected` and
// one `disconnected` at the function.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { functionEvents, until } from './lib/processes.mjs';
import { TRANSPORT_PROTOCOLS, nextMessages, recordMessages, withTimeout } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { fleetClients, startFleet } from './lib/fleet.mjs';
import { startBalancer } from './lib/balancer.mjs';

const VERSION = 10;
const RELAYED = 'switchboard_relayed_requests_total';
const NUMBERED = 40;

// The class the client uses for each transport (HubConnection internals), so that a fallback to another
// transport cannot pass unnoticed.
const TRANSPORT_CLASS = { WebSockets: 'WebSocketTransport', ServerSentEvents: 'ServerSentEventsTransport', LongPolling: 'LongPollingTransport' };

const portOf = (gateway) => Number(new URL(gateway.gatewayUrl).port);

/** The sum of a metric over all its label sets on one gateway's /metrics (0 when absent). */
async function metricSum(gateway, name) {
  const res = await fetch(`${gateway.gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, `GET ${gateway.gatewayUrl}/metrics`);
  let sum = 0;
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith(name)) continue;
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) rest = rest.slice(rest.indexOf('}') + 1);
    else if (!rest.startsWith(' ')) continue; // another metric whose name starts with this one
    sum += Number(rest.trim().split(/\s+/)[0]);
  }
  return sum;
}

/** Lost, duplicated and reordered among received numbers that should be 0, 1, … n-1 once each, in order. */
function tally(numbers, n) {
  const distinct = new Set(numbers.filter((x) => Number.isInteger(x) && x >= 0 && x < n));
  let reordered = 0;
  for (let i = 1; i < numbers.length; i += 1) if (numbers[i] < numbers[i - 1]) reordered += 1;
  return { received: numbers.length, lost: n - distinct.size, duplicated: numbers.length - distinct.size, reordered };
}

describe('behind a balancer without affinity', { timeout: 300_000 }, () => {
  let fleet;
  let balancer;
  let clients;
  let front; // REST through the balancer
  let routedBefore = 0; // the balancer's route count when the current test began

  before(async () => {
    fleet = await startFleet({ count: 2 });
    balancer = await startBalancer(fleet.gateways.map(portOf), { mode: 'request' });
    clients = fleetClients(fleet, { tail: 1_900 });
    front = { gatewayUrl: balancer.url, key: fleet.key };
  });
  afterEach(async (t) => {
    if (t.passed === false && balancer) {
      const mine = balancer.routes.filter((r) => r.n > routedBefore);
      console.log([`--- balancer routes of "${t.name}" (last 40 of ${mine.length}) ---`,
        ...mine.slice(-40).map((r) => `#${r.n} → ${r.port} ${r.kind} ${r.method ?? ''} ${r.path ?? ''} ${r.status ?? '(no status)'}`)].join('\n'));
    }
    await clients?.cleanUp(t);
  });
  after(async () => {
    await clients?.stopAll();
    await balancer?.stop();
    await fleet?.stop();
  });

  test('the balancer sends each request of one kept-alive connection to the next gateway', async () => {
    routedBefore = balancer.routed;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const reused = [];
      for (let i = 0; i < 4; i += 1) {
        const status = await withTimeout(new Promise((resolve, reject) => {
          const req = http.get(`${balancer.url}/health/ready`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', reject);
          reused.push(() => req.reusedSocket);
        }), 10_000, 'GET /health/ready through the balancer');
        assert.equal(status, 200);
      }
      assert.deepEqual(reused.map((f) => f()), [false, true, true, true], 'one client connection, kept alive');
      const ports = balancer.routes.filter((r) => r.n > routedBefore).map((r) => r.port);
      const [a, b] = fleet.gateways.map(portOf);
      assert.ok(ports[0] === a || ports[0] === b, `routed to a gateway: ${ports}`);
      const other = ports[0] === a ? b : a;
      assert.deepEqual(ports, [ports[0], other, ports[0], other]);
    } finally {
      agent.destroy();
    }
  });

  for (const [transport, protocol] of TRANSPORT_PROTOCOLS) {
    const label = `v${VERSION}-${transport}-${protocol}`;
    test(`client ${VERSION} + ${transport} + ${protocol}`, { timeout: 90_000 }, async () => {
      routedBefore = balancer.routed;
      const countsBefore = { ...balancer.counts };
      const relayedBefore = await Promise.all(fleet.gateways.map((g) => metricSum(g, RELAYED)));

      const c = await clients.connect({ user: label, transport, protocol, version: VERSION, baseUrl: balancer.url });
      const id = c.connectionId;
      assert.ok(c.clientVersion.startsWith(`${VERSION}.`), `client version ${c.clientVersion}`);
      assert.equal(c.connection.transport?.constructor.name, TRANSPORT_CLASS[transport]);

      // The REST API through the balancer sees it from either gateway (twice: both get one).
      for (let i = 0; i < 2; i += 1)
        assert.equal((await rest(front, 'HEAD', `/api/v1/hubs/e2e/connections/${seg(id)}`)).status, 200, 'exists via the balancer');

      // Invocations one after another, then ten at once: each result to its invocation, in order.
      for (const value of ['one', 2, { three: [3, null] }, 'vier ü']) {
        assert.deepEqual(await withTimeout(c.invoke('echo', value), 10_000, `echo(${JSON.stringify(value)})`), value);
      }
      const many = Array.from({ length: 10 }, (_, i) => `echo ${i}`);
      assert.deepEqual(await withTimeout(Promise.all(many.map((v) => c.invoke('echo', v))), 10_000, '10 echoes at once'), many);

      // A group joined through the function, then numbered REST group sends from one gateway: order is
      // promised per sender (docs/scaling.md), and the client may sit on either gateway.
      const group = `balanced-${label}`;
      assert.equal(await withTimeout(c.invoke('joinGroup', group), 10_000, 'joinGroup'), true);
      const got = recordMessages(c, 'numbered');
      for (let i = 0; i < NUMBERED; i += 1) {
        const res = await rest(fleet.gateways[0], 'POST', `/api/v1/hubs/e2e/groups/${seg(group)}`, { json: { target: 'numbered', arguments: [i] } });
        assert.equal(res.status, 202, `group send ${i}: ${res.status} ${res.text}`);
      }
      // A loss shows as a count below, not as this wait's timeout.
      await until(() => got.length >= NUMBERED, { timeoutMs: 10_000, what: `${NUMBERED} numbered messages` }).catch(() => {});
      // Fence: a later message to the connection; a duplicate still on its way would have come first.
      const fence = nextMessages(c, 'fence', 1, { timeoutMs: 10_000 });
      const fenceRes = await rest(fleet.gateways[0], 'POST', `/api/v1/hubs/e2e/connections/${seg(id)}`, { json: { target: 'fence', arguments: ['end'] } });
      assert.equal(fenceRes.status, 202, fenceRes.text);
      await fence;
      const numbers = got.map(([n]) => n);
      assert.deepEqual(tally(numbers, NUMBERED), { received: NUMBERED, lost: 0, duplicated: 0, reordered: 0 },
        `received ${JSON.stringify(numbers)}`);

      // A clean stop: onclose without an error; the function saw one connected and one disconnected.
      const stoppedAt = balancer.routed;
      await withTimeout(c.stop(), 10_000, 'stop()');
      assert.equal(await c.closed, undefined, 'closed without an error');
      const events = await until(async () => {
        const all = await functionEvents(fleet, id);
        return all.some((e) => e.event === 'disconnected') ? all : undefined;
      }, { what: `disconnected for ${id}` });
      const lifecycle = events.filter((e) => e.event === 'connected' || e.event === 'disconnected').map((e) => e.event);
      assert.deepEqual(lifecycle, ['connected', 'disconnected'], JSON.stringify(events));
      assert.equal(events.at(-1).event, 'disconnected');

      // The balancer spread the requests over both gateways, the client's own ones included.
      const mine = balancer.routes.filter((r) => r.n > routedBefore);
      for (const port of fleet.gateways.map(portOf)) {
        assert.ok(balancer.counts[port] - (countsBefore[port] ?? 0) > 0, `requests routed to gateway port ${port}`);
        assert.ok(mine.some((r) => r.port === port && r.path?.startsWith('/client/')),
          `client-endpoint requests routed to gateway port ${port}: ${JSON.stringify(mine.filter((r) => r.path?.startsWith('/client/')))}`);
      }
      // None answered with an error. Once stop() began, the client sends its Close message without
      // waiting (best effort) while it ends the transport, so that POST, like the DELETE, may find the
      // connection gone: 404, which the client ignores. A poll the client aborted has no status.
      const isStopping404 = (r) => r.n > stoppedAt && r.status === 404 && ['POST', 'DELETE'].includes(r.method);
      assert.deepEqual(mine.filter((r) => r.status >= 400 && !isStopping404(r)), [], 'routed requests answered with an error');

      // SSE and long polling: follow-ups that reached the gateway without the connection were relayed.
      if (transport !== 'WebSockets') {
        const relayedAfter = await Promise.all(fleet.gateways.map((g) => metricSum(g, RELAYED)));
        const deltas = relayedAfter.map((v, i) => v - relayedBefore[i]);
        assert.ok(deltas.some((d) => d > 0), `${RELAYED} grew on a gateway (per gateway: ${JSON.stringify(deltas)})`);
      }
    });
  }
});
