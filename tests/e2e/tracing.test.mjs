// One trace id end to end (W3C traceparent; docs/operations.md "Tracing"): a REST caller's and a
// client's trace context reach the function, come back on the answers, name the gateway's log lines,
// and the gateway's spans reach an OTLP collector (a tiny one in the harness) in the same trace.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, withTimeout } from './lib/client.mjs';
import { rest } from './lib/rest.mjs';
import { clientToken } from './lib/tokens.mjs';

const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
function traceparent() {
  const trace = hex(16);
  const span = hex(8);
  return { trace, span, header: `00-${trace}-${span}-01` };
}
const parse = (header) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header ?? '')?.slice(1);

/** An OTLP/HTTP JSON collector: keeps every span it is sent. */
async function startCollector() {
  const spans = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        for (const r of JSON.parse(body).resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, spans, stop: () => new Promise((r) => server.close(r)) };
}

describe('trace context end to end', { timeout: 120_000 }, () => {
  let collector;
  let stack;
  let clients;
  before(async () => {
    collector = await startCollector();
    stack = await startStack({ gatewayArgs: ['--otlp-endpoint', collector.url, '--upstream-timeout', '300ms'] });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await stack?.stop();
    await collector?.stop();
  });

  test("a REST caller's traceparent: the answer names the gateway's span in that trace, and it is exported", async () => {
    const caller = traceparent();
    const res = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { target: 'news', arguments: [1] }, headers: { traceparent: caller.header } });
    assert.equal(res.status, 202, res.text);
    const [trace, span] = parse(res.headers.get('traceparent'));
    assert.equal(trace, caller.trace);
    assert.notEqual(span, caller.span);
    const exported = await until(() => collector.spans.find((s) => s.spanId === span), { what: 'the REST span at the collector' });
    assert.equal(exported.traceId, caller.trace);
    assert.equal(exported.parentSpanId, caller.span);
    assert.equal(exported.name, 'REST POST');
    assert.equal(exported.kind, 2);
    assert.equal(exported.traceState, undefined);  // the caller sent none

    // A caller's tracestate goes with its traceparent into the span.
    const stated = traceparent();
    const withState = await rest(stack, 'POST', '/api/v1/hubs/e2e', {
      json: { target: 'news', arguments: [4] }, headers: { traceparent: stated.header, tracestate: 'rest=1' } });
    const [, statedSpan] = parse(withState.headers.get('traceparent'));
    const statedExport = await until(() => collector.spans.find((s) => s.spanId === statedSpan), { what: 'the REST span with its tracestate' });
    assert.equal(statedExport.traceState, 'rest=1');

    // Without one, a new trace each time.
    const a = parse((await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { target: 'news', arguments: [2] } })).headers.get('traceparent'));
    const b = parse((await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { target: 'news', arguments: [3] } })).headers.get('traceparent'));
    assert.ok(a && b && a[0] !== b[0]);
  });

  test("a client's traceparent at connect: its invocations reach the function in that trace, one span each", async () => {
    const client = traceparent();
    const c = await clients.connect({ user: 'traced', httpOptions: { headers: { traceparent: client.header } } });
    assert.equal(await withTimeout(c.invoke('echo', 'one'), 10_000, 'echo'), 'one');
    assert.equal(await withTimeout(c.invoke('echo', 'two'), 10_000, 'echo'), 'two');
    const events = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'echo');
    assert.equal(events.length, 2);
    const seen = events.map((e) => parse(e.traceParent));
    for (const [trace, span] of seen) {
      assert.equal(trace, client.trace);
      const exported = await until(() => collector.spans.find((s) => s.spanId === span), { what: 'the upstream span' });
      assert.equal(exported.traceId, client.trace);
      assert.equal(exported.parentSpanId, client.span);
      assert.equal(exported.name, 'upstream echo');
      assert.equal(exported.kind, 3);
      assert.ok(exported.attributes.some((a) => a.key === 'switchboard.connection_id' && a.value.stringValue === c.connectionId));
    }
    assert.notEqual(seen[0][1], seen[1][1]);  // a span per request
    const connected = (await functionEvents(stack, c.connectionId)).find((e) => e.event === 'connected');
    assert.equal(parse(connected.traceParent)[0], client.trace);
  });

  test("the tracestate that comes with a client's traceparent reaches the function; alone or malformed it does not", async () => {
    const client = traceparent();
    const state = 'vendor=abc, other=x y';
    const c = await clients.connect({ user: 'stated', httpOptions: { headers: { traceparent: client.header, tracestate: state } } });
    assert.equal(await withTimeout(c.invoke('echo', 1), 10_000, 'echo'), 1);
    const seen = await functionEvents(stack, c.connectionId);
    for (const e of seen) assert.equal(e.traceState, 'vendor=abc,other=x y', e.event);
    // The exported span of the call carries it too.
    const [, span] = parse(seen.find((e) => e.target === 'echo').traceParent);
    const exported = await until(() => collector.spans.find((s) => s.spanId === span), { what: 'the upstream span' });
    assert.equal(exported.traceState, 'vendor=abc,other=x y');

    const alone = await clients.connect({ user: 'stateless', httpOptions: { headers: { tracestate: state } } });
    const long = await clients.connect({ user: 'long', httpOptions: { headers: { traceparent: client.header, tracestate: `v=${'x'.repeat(600)}` } } });
    for (const d of [alone, long]) {
      assert.equal(await withTimeout(d.invoke('echo', 2), 10_000, 'echo'), 2);
      for (const e of await functionEvents(stack, d.connectionId)) assert.equal(e.traceState, '', `${e.event}: ${e.traceState}`);
    }
  });

  test('without a client trace, each invocation starts its own; a failing call logs its trace id', async () => {
    const c = await clients.connect({ user: 'untraced' });
    await withTimeout(c.invoke('echo', 1), 10_000, 'echo');
    await withTimeout(c.invoke('echo', 2), 10_000, 'echo');
    const traces = (await functionEvents(stack, c.connectionId)).filter((e) => e.target === 'echo').map((e) => parse(e.traceParent)[0]);
    assert.equal(new Set(traces).size, 2);

    // Past --upstream-timeout: the gateway's `upstream request_failed` line names the trace the function saw.
    await assert.rejects(c.invoke('delay', 1000, 'late'), /Invocation failed/);
    const delayed = await until(async () => (await functionEvents(stack, c.connectionId)).find((e) => e.target === 'delay'),
      { what: 'the function to get the slow call' });
    const [trace] = parse(delayed.traceParent);
    await until(() => stack.gatewayLog().split('\n').some((l) => l.includes('request_failed') && l.includes(`trace=${trace}`)),
      { what: 'the request_failed line with the trace id' });
  });

  test('a negotiate answers with its span in the caller\'s trace', async () => {
    const caller = traceparent();
    const token = clientToken(stack.gatewayUrl, stack.key, { user: 'n' });
    const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, traceparent: caller.header } });
    assert.equal(res.status, 200);
    const [trace, span] = parse(res.headers.get('traceparent'));
    assert.equal(trace, caller.trace);
    const exported = await until(() => collector.spans.find((s) => s.spanId === span), { what: 'the negotiate span' });
    assert.equal(exported.parentSpanId, caller.span);
    assert.equal(exported.name, 'negotiate POST');
    assert.equal(exported.kind, 2);
  });
});

describe("a negotiate's blocking connect call", { timeout: 60_000 }, () => {
  let collector;
  let stack;
  let server;
  const calls = [];
  before(async () => {
    collector = await startCollector();
    server = http.createServer((req, res) => {
      calls.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connectUrl = `http://127.0.0.1:${server.address().port}/connect`;
    stack = await startStack({ gatewayArgs: ['--otlp-endpoint', collector.url, '--upstream', `hub=*;category=connections;event=connect;url=${connectUrl}`] });
  });
  after(async () => {
    await stack?.stop();
    await collector?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  test('is a span under the negotiate\'s, with the caller\'s tracestate, and both are exported', async () => {
    const caller = traceparent();
    const token = clientToken(stack.gatewayUrl, stack.key, { user: 'gated' });
    const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, traceparent: caller.header, tracestate: 'gate=1' } });
    assert.equal(res.status, 200);
    const [trace, negotiateSpan] = parse(res.headers.get('traceparent'));
    assert.equal(trace, caller.trace);
    const call = calls.find((h) => h['x-asrs-user-id'] === 'gated');
    assert.ok(call, 'the connect function was called');
    const [callTrace, callSpan] = parse(call.traceparent);
    assert.equal(callTrace, caller.trace);
    assert.equal(call.tracestate, 'gate=1');

    const negotiate = await until(() => collector.spans.find((s) => s.spanId === negotiateSpan), { what: 'the negotiate span' });
    assert.equal(negotiate.parentSpanId, caller.span);
    assert.equal(negotiate.traceState, 'gate=1');
    const connect = await until(() => collector.spans.find((s) => s.spanId === callSpan), { what: 'the connect call span' });
    assert.equal(connect.parentSpanId, negotiateSpan);
    assert.equal(connect.traceId, caller.trace);
    assert.equal(connect.name, 'upstream connect');
    assert.equal(connect.kind, 3);
    assert.ok(connect.attributes.some((a) => a.key === 'http.response.status_code' && a.value.stringValue === '204'));
  });
});
