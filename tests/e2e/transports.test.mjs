// The same conversation for every client version × transport × hub protocol: @microsoft/signalr
// {8.0.x, 10.0.x} × {WebSockets, SSE, long polling} × {JSON, MessagePack} (SSE carries JSON only).
// Invoke results (unicode, floats, nulls, nested objects), errors, a group joined through the function
// and a group send from a reply action (the member gets it, an outsider does not), sends from a reply
// action and from REST (a JSON body, and the octet-stream body of per-protocol payloads), byte arrays over
// MessagePack, message order, and a clean stop with exactly one `disconnected`.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { CLIENT_VERSIONS, Clients, TRANSPORT_PROTOCOLS, nextMessages, recordMessages } from './lib/client.mjs';
import { rest, seg } from './lib/rest.mjs';
import { encode, frame } from './lib/msgpack.mjs';

// The class the client uses for each transport (read from HubConnection internals, so that a test
// notices if the client ever ended up on another transport than the one it asked for).
const TRANSPORT_CLASS = { WebSockets: 'WebSocketTransport', ServerSentEvents: 'ServerSentEventsTransport', LongPolling: 'LongPollingTransport' };

const VALUES = [
  'grüße — 你好 🌍 "quoted" \\ \n\t',
  3.25, -0.5, 1e-7, 1.7976931348623157e308, 9007199254740991, -42, 0,
  null, true, false, '', [], {},
  { text: 'ü', n: 2.5, none: null, list: [1, 'two', [3, [null]]], deep: { a: { b: { c: [{}, []] } } } },
];

/**
 * The REST octet-stream body (PROTOCOL part 2 §4.2): a MessagePack map of pre-framed payloads, one per
 * protocol. The two carry different arguments so that a test can tell which one a client got.
 */
function octetStreamBody(target, jsonArguments, messagepackArguments) {
  const json = Buffer.from(`${JSON.stringify({ type: 1, target, arguments: jsonArguments })}\x1e`, 'utf8');
  // Invocation without id: [1, Headers, InvocationId=nil, Target, Arguments].
  const messagepack = frame([1, {}, null, target, messagepackArguments]);
  return encode({ json, messagepack });
}

describe('every client version, transport and protocol', { timeout: 300_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack();
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  for (const version of CLIENT_VERSIONS) {
    for (const [transport, protocol] of TRANSPORT_PROTOCOLS) {
      const label = `v${version}-${transport}-${protocol}`;
      test(`client ${version} + ${transport} + ${protocol}`, async () => {
        const c = await clients.connect({ user: label, transport, protocol, version });
        assert.ok(c.clientVersion.startsWith(`${version}.`), `client version ${c.clientVersion}`);
        assert.equal(c.connection.transport?.constructor.name, TRANSPORT_CLASS[transport]);

        // Invocations with results, and an error.
        for (const value of VALUES) {
          assert.deepEqual(await c.invoke('echo', value), value, `echo(${JSON.stringify(value)})`);
        }
        assert.equal(await c.invoke('add', 40, 2), 42);
        assert.equal(await c.invoke('add', 0.1, 0.2), 0.1 + 0.2);
        await assert.rejects(c.invoke('fail'), /boom/);

        // A group action: the function puts the caller into a group; a group send from a reply action
        // reaches the member and not an outsider (fence: the outsider's later message arrives first).
        const outsider = await clients.connect({ user: `${label}-outsider`, transport, protocol, version });
        const outsiderGroupMessages = recordMessages(outsider, 'groupMessage');
        const group = `group-${label}`;
        assert.equal(await c.invoke('joinGroup', group), true);
        const toMember = nextMessages(c, 'groupMessage');
        assert.equal(await c.invoke('sendToGroup', group, { to: 'group', n: 1.5, none: null }, false), true);
        assert.deepEqual(await toMember, [[{ to: 'group', n: 1.5, none: null }]]);
        const fence = nextMessages(outsider, 'connectionMessage');
        assert.equal(await c.invoke('sendToConnection', outsider.connectionId, 'fence'), true);
        assert.deepEqual(await fence, [['fence']]);
        assert.deepEqual(outsiderGroupMessages, [], 'the outsider got no group message');

        // Server → client from a reply action, then from REST (JSON body, delivered in the client's protocol).
        const fromAction = nextMessages(c, 'connectionMessage');
        assert.equal(await c.invoke('sendToConnection', c.connectionId, { via: 'action', s: 'ñ' }), true);
        assert.deepEqual(await fromAction, [[{ via: 'action', s: 'ñ' }]]);
        const fromRest = nextMessages(c, 'restMessage');
        const res = await rest(stack, 'POST', `/api/v1/hubs/e2e/connections/${seg(c.connectionId)}`,
          { json: { target: 'restMessage', arguments: ['via rest ✓', 1.5, { k: [null, { d: -0.25 }] }] } });
        assert.equal(res.status, 202, res.text);
        assert.deepEqual(await fromRest, [['via rest ✓', 1.5, { k: [null, { d: -0.25 }] }]]);

        // REST octet-stream: each client gets the payload of its own protocol, verbatim.
        const bytes = new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]);
        const fromBinaryRest = nextMessages(c, 'restBinary');
        const binRes = await rest(stack, 'POST', `/api/hubs/e2e/connections/${seg(c.connectionId)}/:send?api-version=2022-06-01`, {
          body: octetStreamBody('restBinary', ['json payload', { k: 'ü' }], [bytes, 'messagepack payload', 2.5]),
          headers: { 'content-type': 'application/octet-stream' },
        });
        assert.equal(binRes.status, 202, binRes.text);
        const [binArgs] = await fromBinaryRest;
        if (protocol === 'messagepack') {
          assert.equal(binArgs.length, 3, JSON.stringify(binArgs));
          assert.ok(binArgs[0] instanceof Uint8Array, `a Uint8Array, got ${Object.prototype.toString.call(binArgs[0])}`);
          assert.deepEqual([...binArgs[0]], [...bytes]);
          assert.deepEqual(binArgs.slice(1), ['messagepack payload', 2.5]);
        } else {
          assert.deepEqual(binArgs, ['json payload', { k: 'ü' }]);
        }

        // Byte arrays over MessagePack reach the function as base64 strings (handlers see JSON).
        if (protocol === 'messagepack') {
          const base64 = Buffer.from(bytes).toString('base64');
          assert.equal(await c.invoke('echo', bytes), base64);
          const echoes = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'echo');
          assert.deepEqual(echoes.at(-1).arguments, [base64]);
        }

        // Order of fire-and-forget sends as the function sees them.
        await Promise.all(Array.from({ length: 50 }, (_, i) => c.send('seq', i)));
        assert.equal(await c.invoke('echo', 'fence'), 'fence');
        const id = c.connectionId;
        const seq = (await functionEvents(stack, id)).filter((e) => e.target === 'seq').map((e) => e.arguments[0]);
        assert.deepEqual(seq, Array.from({ length: 50 }, (_, i) => i));

        // A clean stop: onclose without an error, then exactly one `disconnected`, the last event.
        await c.stop();
        assert.equal(await c.closed, undefined, 'closed without an error');
        const events = await until(async () => {
          const all = await functionEvents(stack, id);
          return all.some((e) => e.event === 'disconnected') ? all : undefined;
        }, { what: 'disconnected' });
        assert.equal(events.at(-1).event, 'disconnected');
        assert.equal(events.filter((e) => e.event === 'disconnected').length, 1);
        assert.equal(events.filter((e) => e.event === 'connected').length, 1);
      });
    }
  }
});
