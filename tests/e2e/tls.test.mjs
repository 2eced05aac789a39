// TLS termination (--tls-cert, --tls-key): the gateway's only listener speaks TLS, for every endpoint.
// Certificates are made with the openssl CLI into a temp dir; the clients trust our own CA through
// their options. Covers @microsoft/signalr over wss, SSE and long polling, REST, health and metrics over
// https; a stateful resume over TLS that lands on another thread than its connection; SIGHUP swapping
// the certificate for new handshakes while an open connection keeps working, and a failed reload
// keeping the current one; plaintext and garbage on the TLS port closing only their own socket.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { functionEvents, startStack, until } from './lib/processes.mjs';
import { Clients, nextMessages, recordMessages, withTimeout } from './lib/client.mjs';
import { startProxy } from './lib/proxy.mjs';
import { restToken } from './lib/tokens.mjs';
import { httpsRequest, makeCa, makeLeaf, peerFingerprint, signalrTlsOptions } from './lib/tls.mjs';

describe('TLS', { timeout: 150_000 }, () => {
  let dir;
  let ca;
  let first;
  let second;
  let certFile;
  let keyFile;
  let stack;
  let clients;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-tls-'));
    ca = makeCa(dir);
    first = makeLeaf(ca, 'first');
    second = makeLeaf(ca, 'second');
    // The gateway reads these paths; the reload test replaces their contents.
    certFile = path.join(dir, 'server.pem');
    keyFile = path.join(dir, 'server.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    stack = await startStack({ gatewayArgs: ['--tls-cert', certFile, '--tls-key', keyFile, '--threads', '2',
      '--stateful-reconnect-window', '10s'] });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tlsClient = (options) => clients.connect({ ...options, httpOptions: signalrTlsOptions(ca.ca) });

  async function restSend(base, user, target, args) {
    const url = `${base}/api/v1/hubs/e2e/users/${encodeURIComponent(user)}`;
    return httpsRequest(url, {
      ca: ca.ca,
      method: 'POST',
      headers: { authorization: `Bearer ${restToken(url, stack.key)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ target, arguments: args }),
    });
  }

  test('the ready line and the connection string say https', () => {
    assert.match(stack.gatewayUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(stack.gateway.stdout(), /^connection string: Endpoint=https:\/\/127\.0\.0\.1;Port=\d+;AccessKey=\*\*\*;/m);
    // Issue 14: stdout lands in `docker logs` and log pipelines; the key is masked unless asked for.
    assert.ok(!stack.gateway.stdout().includes(stack.key), 'the access key is not printed');
  });

  for (const transport of ['WebSockets', 'ServerSentEvents', 'LongPolling']) {
    test(`@microsoft/signalr over ${transport}: invoke, and a REST send over https arrives`, async () => {
      const user = `tls-${transport}`;
      const c = await tlsClient({ user, transport });
      assert.equal(await c.invoke('echo', 'über TLS'), 'über TLS');
      const arrived = nextMessages(c, 'news');
      const res = await restSend(stack.gatewayUrl, user, 'news', ['hello', 1]);
      assert.equal(res.status, 202, res.text);
      assert.deepEqual(await arrived, [['hello', 1]]);
    });
  }

  /** A TLS 1.2 handshake offering only `ciphers`: the suite agreed on, or the error. */
  function handshake12(ciphers) {
    const { hostname, port } = new URL(stack.gatewayUrl);
    return new Promise((resolve) => {
      const socket = tls.connect({ host: hostname, port: Number(port), ca: ca.ca, maxVersion: 'TLSv1.2', ciphers }, () => {
        const agreed = socket.getCipher().standardName ?? socket.getCipher().name;
        socket.end();
        resolve({ agreed });
      });
      socket.on('error', (err) => resolve({ error: err.code ?? String(err) }));
    });
  }

  test('TLS 1.2 offers only forward-secret AEAD suites: static RSA and CBC suites are refused', async () => {
    const good = await handshake12('ECDHE-RSA-AES128-GCM-SHA256');
    assert.ok(good.agreed, `ECDHE-RSA-AES128-GCM-SHA256: ${JSON.stringify(good)}`);
    for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA']) {
      const result = await handshake12(weak);
      assert.ok(result.error, `${weak} should be refused, agreed ${result.agreed}`);
    }
  });

  test('a response that closes the connection ends with close_notify, not a bare TCP close', () => {
    // openssl s_client reports "unexpected eof" when the server closes without close_notify.
    const { port } = new URL(stack.gatewayUrl);
    const result = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet', '-ign_eof', '-CAfile', ca.caFile], {
      input: 'GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.match(result.stdout, /HTTP\/1\.1 200/, result.stderr);
    assert.doesNotMatch(result.stderr, /unexpected eof/i, result.stderr);
  });

  test('health and metrics answer over https, and plain http on the port gets no answer', async () => {
    const health = await httpsRequest(`${stack.gatewayUrl}/health/ready`, { ca: ca.ca });
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ready' });
    const metrics = await httpsRequest(`${stack.gatewayUrl}/metrics`, { ca: ca.ca });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^switchboard_connections /m);
    await assert.rejects(fetch(stack.gatewayUrl.replace('https:', 'http:') + '/health/ready',
      { signal: AbortSignal.timeout(10_000) }));
  });

  /** Writes `bytes` on a raw TCP socket to the gateway; resolves to what came back once it closed. */
  function rawExchange(bytes) {
    const { port } = new URL(stack.gatewayUrl);
    return withTimeout(new Promise((resolve, reject) => {
      const chunks = [];
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(bytes));
      socket.on('data', (c) => chunks.push(c));
      socket.on('error', () => {});  // a reset is as good as a close here
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.on('timeout', () => reject(new Error('the socket stayed open')));
    }), 15_000, 'the gateway closing the socket');
  }

  test('plaintext HTTP and garbage on the TLS port are closed; a bystander keeps working', async () => {
    const bystander = await tlsClient({ user: 'tls-bystander' });
    const plain = await rawExchange('GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(!plain.toString('latin1').includes('ready'), 'no HTTP answer over plaintext');
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    await rawExchange(garbage);
    // A ClientHello that stops halfway is cut by the request deadline; not awaited here (30 s).
    assert.equal(await bystander.invoke('echo', 'still here'), 'still here');
    const metrics = await httpsRequest(`${stack.gatewayUrl}/metrics`, { ca: ca.ca });
    const failures = Number(/^switchboard_rejected_input_total\{reason="tls_handshake"\} (\d+)/m.exec(metrics.text)?.[1] ?? 0);
    assert.ok(failures >= 2, `tls_handshake rejections counted: ${failures}`);
    assert.match(stack.gatewayLog(), /tls_handshake_failed/);
  });

  test('a stateful connection resumes over TLS, also when the new socket lands on another thread', async () => {
    const proxy = await startProxy(new URL(stack.gatewayUrl).port);
    try {
      const c = await tlsClient({ user: 'tls-stateful', stateful: true, baseUrl: `https://127.0.0.1:${proxy.port}` });
      const id = c.connectionId;
      const received = recordMessages(c, 'num');
      let sent = 0;
      // Accepted sockets go to the two threads in turn. Each resume must deliver everything, on the
      // connection's own thread or across.
      for (let round = 0; round < 4 && !/tls_resume_across_threads/.test(stack.gatewayLog()); round++) {
        proxy.cutAll();
        // Four REST calls (four sockets) and the resume make five sockets a round: odd, so consecutive resumes
        // land on different threads and at most two rounds are needed.
        for (let i = 0; i < 4; i++) {
          const res = await restSend(stack.gatewayUrl, 'tls-stateful', 'num', [++sent]);
          assert.equal(res.status, 202, res.text);
        }
        await until(() => received.length >= sent, { what: `${sent} messages after resume ${round + 1}`, timeoutMs: 20_000 });
        assert.equal(await c.invoke('echo', `round ${round}`), `round ${round}`);
      }
      assert.match(stack.gatewayLog(), /tls_resume_across_threads/, 'a resume crossed threads');
      assert.deepEqual(received.map((args) => args[0]), Array.from({ length: sent }, (_, i) => i + 1));
      assert.equal(c.connectionId, id);
      const events = await functionEvents(stack, id);
      assert.equal(events.filter((e) => e.event === 'connected').length, 1);
      assert.equal(events.filter((e) => e.event === 'disconnected').length, 0);
    } finally {
      await proxy.stop();
    }
  });

  test('SIGHUP: new handshakes get the new certificate, an open connection keeps working, a bad reload keeps it', async () => {
    const before = await tlsClient({ user: 'tls-before-reload' });
    assert.equal(await peerFingerprint(stack.gatewayUrl, ca.ca), first.fingerprint256);

    copyFileSync(second.certFile, certFile);
    copyFileSync(second.keyFile, keyFile);
    stack.gateway.child.kill('SIGHUP');
    await until(() => stack.gatewayLog().includes(second.fingerprint256), { what: 'the tls_reloaded line' });
    assert.equal(await peerFingerprint(stack.gatewayUrl, ca.ca), second.fingerprint256);
    assert.equal(await before.invoke('echo', 'opened before the reload'), 'opened before the reload');
    const after = await tlsClient({ user: 'tls-after-reload' });
    assert.equal(await after.invoke('echo', 'opened after'), 'opened after');

    writeFileSync(certFile, 'not a certificate\n');
    stack.gateway.child.kill('SIGHUP');
    await until(() => /error gateway tls_reload_failed/.test(stack.gatewayLog()), { what: 'the tls_reload_failed line' });
    assert.equal(await peerFingerprint(stack.gatewayUrl, ca.ca), second.fingerprint256, 'the last good pair stays');
    const metrics = await httpsRequest(`${stack.gatewayUrl}/metrics`, { ca: ca.ca });
    assert.match(metrics.text, /^switchboard_tls_reload_failures_total 1$/m);
    assert.equal(await before.invoke('echo', 'still fine'), 'still fine');
  });
});
