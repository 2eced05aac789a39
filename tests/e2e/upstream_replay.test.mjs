// Upstream signatures that cover identity, and replays (docs/security.md "What is replayable"; issue 14
// item 10). The gateway's request for a `connected` event is captured on its way to the function (a
// recording server stands in the function's place), then sent to the real e2e function (functions-
// runtime) as a replayer would: verbatim it runs once and is refused the second time (409 Replayed);
// with the user, hub or connection changed it is refused (401), though its body, path and time are
// the gateway's own.

import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, until } from './lib/processes.mjs';
import { Clients } from './lib/client.mjs';

/** A server that records each request in full and answers 200 {}. */
async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, stop: () => new Promise((r) => server.close(r)) };
}

/** Sends a captured request to the function, with `changes` to its headers. */
async function replay(functionsUrl, captured, changes = {}) {
  const headers = {};
  for (const [name, value] of Object.entries(captured.headers))
    if (name.startsWith('x-asrs-') || name.startsWith('x-switchboard-') || name === 'content-type') headers[name] = value;
  Object.assign(headers, changes);
  const res = await fetch(`${functionsUrl}${captured.url}`, { method: 'POST', headers, body: captured.body, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, text: await res.text() };
}

describe('upstream signatures and replays', { timeout: 60_000 }, () => {
  let recorder;
  let stack;
  let clients;
  before(async () => {
    recorder = await startRecorder();
    stack = await startStack({ upstream: `${recorder.url}/upstream` });
    clients = new Clients(stack);
  });
  after(async () => {
    await clients?.stopAll();
    await stack?.stop();
    await recorder?.stop();
  });

  test('a captured request runs once at the function; replayed or re-addressed it is refused', async () => {
    const c = await clients.connect({ user: 'alice' });
    await until(() => recorder.requests.some((r) => r.headers['x-asrs-connection-id'] === c.connectionId && r.headers['x-asrs-event'] === 'connected'),
      { what: 'the connected event captured' });
    const captured = recorder.requests.find((r) => r.headers['x-asrs-connection-id'] === c.connectionId);
    assert.equal(captured.headers['x-asrs-user-id'], 'alice');
    assert.match(captured.headers['x-switchboard-signature'], /^v2=[0-9a-f]{64},v1=[0-9a-f]{64}$/);

    for (const [name, value] of [['x-asrs-user-id', 'mallory'], ['x-asrs-hub', 'admin'], ['x-asrs-connection-id', 'someone-else'],
      ['x-asrs-user-claims', 'role: admin']]) {
      const changed = await replay(stack.functionsUrl, captured, { [name]: value });
      assert.equal(changed.status, 401, `${name} changed: ${changed.status} ${changed.text}`);
    }
    const first = await replay(stack.functionsUrl, captured);
    assert.equal(first.status, 200, first.text);  // the function never saw it: the recorder took the gateway's
    const again = await replay(stack.functionsUrl, captured);
    assert.equal(again.status, 409, again.text);
    assert.equal(JSON.parse(again.text).code, 'Replayed');
  });
});
