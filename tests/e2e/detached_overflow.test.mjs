// A group send that overflows the buffers of detached stateful members (clients whose network dropped,
// waiting to resume) ends those members after the send, never inside it: the gateway once died here with
// bad_weak_ptr and SIGSEGV, because the member ended mid-walk and was erased from the group being walked.
// Here five stateful clients in a room lose their sockets (a cutting proxy that then refuses), a
// bystander in the same room stays, and a backend sends 4 KB messages to the room over REST until every
// detached buffer passes --max-send-queue-bytes.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, recordMessages } from './lib/client.mjs';
import { startProxy } from './lib/proxy.mjs';
import { rest, seg } from './lib/rest.mjs';

const QUEUE_BYTES = 65536;
const SENDS = 40;  // 40 × 4 KB: each detached buffer passes 64 KiB after ~16
const VICTIMS = 5;

async function metric(stack, pattern) {
  const text = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
  const m = text.match(pattern);
  return m ? Number(m[1]) : 0;
}

describe('a detached stateful client overflowing during a group send', { timeout: 120_000 }, () => {
  let stack;
  let proxy;
  let clients;
  before(async () => {
    stack = await startStack({
      gatewayArgs: ['--max-send-queue-bytes', String(QUEUE_BYTES), '--threads', '1', '--stateful-reconnect-window', '60s'],
    });
    proxy = await startProxy(new URL(stack.gatewayUrl).port);
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await proxy?.stop();
    await stack?.stop();  // throws if the gateway crashed
  });

  test('is closed once with send_queue_full; the gateway and the other members carry on', async () => {
    const victims = [];
    for (let i = 0; i < VICTIMS; i++) {
      victims.push(await clients.connect({ user: `victim-${i}`, stateful: true, baseUrl: proxy.url }));
    }
    // Not stateful: a stateful bystander's own unacknowledged buffer would pass the limit in this burst too.
    const bystander = await clients.connect({ user: 'bystander' });
    const victimIds = victims.map((c) => c.connectionId);
    for (const id of [...victimIds, bystander.connectionId]) {
      const res = await rest(stack, 'PUT', `/api/v1/hubs/e2e/groups/room/connections/${seg(id)}`);
      assert.equal(res.status, 200, res.text);
    }
    const received = recordMessages(bystander, 'num');
    const detachedBefore = await metric(stack, /^switchboard_stateful_detached_total (\d+)/m);

    // Drop every victim's socket and keep them from resuming: they stay detached, buffering.
    proxy.refuse(true);
    proxy.cutAll();
    await until(async () => (await metric(stack, /^switchboard_stateful_detached_total (\d+)/m)) >= detachedBefore + VICTIMS,
      { what: `${VICTIMS} detached connections` });

    const pad = 'x'.repeat(4096);
    for (let i = 1; i <= SENDS; i++) {
      const res = await rest(stack, 'POST', '/api/v1/hubs/e2e/groups/room', { json: { target: 'num', arguments: [i, pad] } });
      assert.equal(res.status, 202, res.text);
    }

    // Every victim ends with exactly one `disconnected`, carrying the overflow's reason.
    const eventsById = await until(async () => {
      const all = await Promise.all(victimIds.map((id) => functionEvents(stack, id)));
      return all.every((events) => events.some((e) => e.event === 'disconnected')) ? all : undefined;
    }, { what: 'disconnected for every victim', timeoutMs: 20_000 });
    for (const [i, events] of eventsById.entries()) {
      const disconnected = events.filter((e) => e.event === 'disconnected');
      assert.equal(disconnected.length, 1, `victim ${i}: one disconnected`);
      assert.match(disconnected[0].error ?? '', /did not acknowledge messages fast enough/, `victim ${i}: the reason`);
      assert.equal(events.at(-1).event, 'disconnected', `victim ${i}: disconnected last`);
    }
    assert.ok(await metric(stack, /^switchboard_disconnects_total\{reason="send_queue_full"\} (\d+)/m) >= VICTIMS,
      'counted as send_queue_full');

    // The bystander got every message once, in order, and its connection still works.
    await until(() => received.length >= SENDS, { what: `${SENDS} messages at the bystander` });
    assert.deepEqual(received.map((args) => args[0]), Array.from({ length: SENDS }, (_, i) => i + 1));
    assert.equal(await bystander.invoke('echo', 'still here'), 'still here');
    const group = await rest(stack, 'GET', '/api/v1/hubs/e2e/groups/room/connections');
    assert.equal(group.status, 200, group.text);
    assert.deepEqual(group.json.value.map((e) => e.connectionId), [bystander.connectionId], 'only the bystander is left in the room');
    proxy.refuse(false);
  });
});
