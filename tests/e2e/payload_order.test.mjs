// Payloads pass through untouched (docs/compatibility.md "Payloads"): an object whose keys are not in
// sorted order reaches the client in the order its sender wrote it, through an invocation's result, a
// function's reply actions, REST sends to a connection and to a group, and the function's own view of
// the arguments; for JSON and MessagePack clients. A gateway that re-sorted keys (nlohmann's default
// json) fails every one of these.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/processes.mjs';
import { Clients, nextMessages } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';

const ORDERED = '{"zeta":1,"alpha":{"y":2,"b":[3,{"k":"v","c":null}]},"mid":"m"}';
const value = () => JSON.parse(ORDERED);

// JSON.stringify writes keys in the order the client's parser met them.
const asText = (v) => JSON.stringify(v);

describe('payloads keep their key order', { timeout: 120_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  for (const protocol of ['json', 'messagepack']) {
    test(`${protocol}: the function's result and its reply's send, as the function wrote them`, async () => {
      const c = await clients.connect({ user: 'po', protocol });
      const sent = nextMessages(c, 'ordered');
      const result = await c.invoke('ordered');
      assert.equal(asText(result), ORDERED);
      assert.equal(asText((await sent)[0][0]), ORDERED);
    });

    test(`${protocol}: the client's arguments reach the function and come back in order (echo)`, async () => {
      const c = await clients.connect({ user: 'po', protocol });
      assert.equal(asText(await c.invoke('echo', value())), ORDERED);
    });

    test(`${protocol}: REST sends to a connection and to a group, as the caller wrote them`, async () => {
      const c = await clients.connect({ user: 'po', protocol });
      const toConnection = nextMessages(c, 'direct');
      // The body is written by hand: the test controls its bytes, spacing included.
      let res = await rest(stack, 'POST', `/api/hubs/e2e/connections/${seg(c.connectionId)}/:send?api-version=2022-06-01`, {
        body: `{"target":"direct","arguments":[${ORDERED}, 1.50]}`, headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, res.text);
      const [[first, number]] = await toConnection;
      assert.equal(asText(first), ORDERED);
      assert.equal(number, 1.5);

      await c.invoke('joinGroup', 'ordered-group');
      const toGroup = nextMessages(c, 'grouped');
      res = await rest(stack, 'POST', '/api/hubs/e2e/groups/ordered-group/:send?api-version=2022-06-01', {
        body: `{"arguments":[${ORDERED}],"target":"grouped"}`, headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 202, res.text);
      assert.equal(asText((await toGroup)[0][0]), ORDERED);
    });

    test(`${protocol}: a group send from a function's reply`, async () => {
      const c = await clients.connect({ user: 'po', protocol });
      await c.invoke('joinGroup', 'reply-group');
      const arrived = nextMessages(c, 'groupMessage');
      await c.invoke('sendToGroup', 'reply-group', value());
      assert.equal(asText((await arrived)[0][0]), ORDERED);
    });
  }

  test('a JSON client sees the REST arguments byte for byte (numbers as written)', async () => {
    const c = await clients.connect({ user: 'po' });
    const raw = [];
    // The transport's raw text, before the client parses it.
    const onreceive = c.connection.transport.onreceive;
    c.connection.transport.onreceive = (data) => {
      raw.push(String(data));
      onreceive(data);
    };
    const arrived = nextMessages(c, 'exact');
    const args = `[${ORDERED},1.50,1e2,"\\u00e9"]`;
    const res = await rest(stack, 'POST', `/api/hubs/e2e/connections/${seg(c.connectionId)}/:send?api-version=2022-06-01`, {
      body: `{"target":"exact","arguments":${args}}`, headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 202, res.text);
    await arrived;
    assert.ok(raw.some((text) => text.includes(`"arguments":${args}`)), `raw frames: ${raw.join(' | ')}`);
  });
});
