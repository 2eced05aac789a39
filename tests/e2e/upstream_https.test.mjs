// https:// upstreams (docs/upstream.md "HTTPS functions"): e2e-functions served over HTTPS by
// functions-runtime (AppOptions::tls_cert_file), the gateway calling it with --upstream-ca. Events,
// invocations and reply actions over TLS; pooled connections and resumed sessions; and each way the
// function's certificate can be wrong (another CA, another name, expired) or ours can be missing (mutual
// TLS): the caller gets an error Completion at once, the gateway logs why, nothing hangs, and the
// circuit breaker doesn't hide the reason. Certificates come from the openssl CLI, into a temp dir.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { READY, binPath, randomKey, startProgram, until } from './lib/processes.mjs';
import { Clients, HubConnectionState, nextMessages, withTimeout } from './lib/client.mjs';
import { makeCa } from './lib/tls.mjs';

const FUNCTIONS_READY = /e2e-functions listening on (https?:\/\/[^\s]+)/;

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A leaf certificate signed by `ca` (lib/tls.mjs makeCa): {certFile, keyFile}. `san` and `usage`
 * (serverAuth or clientAuth) go into its extensions; `startDate`/`endDate` (YYYYMMDDHHMMSSZ) make it
 * valid then, through `openssl ca` (OpenSSL 3.0's `x509` has no -not_after), else it is valid for 2 days.
 */
function signLeaf(ca, name, { san = 'IP:127.0.0.1,DNS:localhost', usage = 'serverAuth', startDate, endDate } = {}) {
  const { dir } = ca;
  const extensions = `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`;
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  if (startDate) {
    const db = path.join(dir, `${name}-db`);
    mkdirSync(db);
    writeFileSync(path.join(db, 'index.txt'), '');
    writeFileSync(path.join(db, 'serial'), '01\n');
    writeFileSync(path.join(dir, `${name}.cnf`), `[ca]\ndefault_ca = e2e\n[e2e]\ndatabase = ${db}/index.txt\n` +
      `new_certs_dir = ${db}\nserial = ${db}/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n` +
      `[any]\ncommonName = supplied\n[leaf]\n${extensions}`);
    openssl(['ca', '-batch', '-config', `${name}.cnf`, '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${name}.csr`,
      '-out', `${name}.pem`, '-startdate', startDate, '-enddate', endDate, '-extensions', 'leaf', '-notext'], dir);
  } else {
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  }
  return { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}.key`) };
}

/**
 * e2e-functions over HTTPS with `cert` (and `clientCa`: mutual TLS), then a gateway whose rules
 * `upstreams(functionsUrl)` names, with `gatewayArgs`. Resolves to a stack for lib/client.mjs's Clients.
 */
async function startHttpsStack({ cert, clientCa, upstreams = (url) => [`${url}/upstream`], gatewayArgs = [] }) {
  const key = randomKey();
  const functionArgs = ['--listen', '127.0.0.1:0', '--access-key', key, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile];
  if (clientCa) functionArgs.push('--tls-client-ca', clientCa.caFile);
  const functions = await startProgram('e2e-functions', functionArgs, { ready: FUNCTIONS_READY });
  assert.match(functions.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  let gateway;
  try {
    gateway = await startProgram('switchboard', ['--listen', '127.0.0.1:0', '--access-key', key, '--threads', '1',
      ...upstreams(functions.url).flatMap((rule) => ['--upstream', rule]), ...gatewayArgs], { ready: READY.gateway });
  } catch (err) {
    await functions.stop();
    throw err;
  }
  return {
    gatewayUrl: gateway.url,
    functionsUrl: functions.url,
    functionsPort: new URL(functions.url).port,
    key,
    gateway,
    functions,
    gatewayLog: () => gateway.stderr(),
    async stop() {
      const ends = [await gateway.stop(), await functions.stop()];
      for (const [i, end] of ends.entries()) {
        assert.ok(!end.killed && (!end.signal || end.signal === 'SIGTERM'), `${['gateway', 'functions'][i]} ended badly: ${JSON.stringify(end)}`);
      }
    },
  };
}

/**
 * The events e2e-functions recorded, fetched over HTTPS trusting `ca`; `clientCert` ({certFile,
 * keyFile}) for a function that wants one.
 */
function functionEventsOver(stack, ca, clientCert) {
  // The test reads its own function's log: the certificate cases make that certificate wrong on
  // purpose (another name, expired), so this one request doesn't check it. The gateway always does.
  const tlsOptions = { ca: ca.ca, rejectUnauthorized: false };
  if (clientCert) Object.assign(tlsOptions, { cert: readFileSync(clientCert.certFile), key: readFileSync(clientCert.keyFile) });
  return new Promise((resolve, reject) => {
    const req = https.get(`${stack.functionsUrl}/events`, { ...tlsOptions, agent: false, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`GET /events -> ${res.statusCode} ${text}`));
        resolve(JSON.parse(text));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('GET /events: no answer within 10 s')));
    req.on('error', reject);
  });
}

/** Sum of a metric's samples whose labels contain `labels` (e.g. 'result="full"'), from /metrics. */
async function metric(stack, name, labels = '') {
  const text = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Waits for a gateway log line matching `pattern` (stderr has no event to await; polled). */
function logLine(stack, pattern) {
  return until(() => stack.gatewayLog().split('\n').find((line) => pattern.test(line)),
    { timeoutMs: 10_000, what: () => `a gateway log line matching ${pattern}; got:\n${stack.gatewayLog().slice(-3000)}` });
}

/**
 * What a gateway that can't complete TLS with its function does: the client still connects (a failed
 * `connected` is only logged), every invoke() is answered at once with an error Completion (never a
 * hang, never "the function is unavailable": the circuit stays closed), the gateway logs `reason`, and
 * the function never sees an event.
 */
async function assertRefused(stack, clients, ca, reason, clientCert) {
  const c = await clients.connect({ user: 'refused' });
  for (let i = 0; i < 7; i++) {  // past --upstream-circuit-failures (5): the circuit would have opened
    await assert.rejects(withTimeout(c.invoke('echo', i), 5_000, `invoke ${i}`),
      (err) => /Invocation failed, status code 500/.test(err.message), `invoke ${i} gets the transport error`);
  }
  assert.equal(c.state, HubConnectionState.Connected, 'the connection stays open');
  const diagnostics = async () => `\n--- gateway log ---\n${stack.gatewayLog().slice(-3000)}\n--- metrics ---\n` +
    (await (await fetch(`${stack.gatewayUrl}/metrics`)).text()).split('\n').filter((l) => l.includes('upstream')).join('\n');
  const line = await logLine(stack, / warn upstream tls_failed /);
  assert.match(line, new RegExp(`function=https://127\\.0\\.0\\.1:${stack.functionsPort} `));
  assert.match(line, reason);
  assert.match(stack.gatewayLog(), /upstream request_failed .*outcome=tls_failed/);
  assert.doesNotMatch(stack.gatewayLog(), /circuit_opened/, 'a TLS failure does not open the circuit');
  assert.ok(await metric(stack, 'switchboard_upstream_requests_total', 'outcome="tls_failed"') >= 8,
    `connected and every invoke counted as tls_failed${await diagnostics()}`);
  assert.equal(await metric(stack, 'switchboard_upstream_retries_total'), 0, `a TLS failure is not retried${await diagnostics()}`);
  assert.deepEqual(await functionEventsOver(stack, ca, clientCert), [], 'the function received nothing');
}

describe('https upstreams', { timeout: 180_000 }, () => {
  let dir;
  let ca;
  let otherCa;
  let functionCert;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-upstream-https-'));
    ca = makeCa(dir);
    const otherDir = path.join(dir, 'other');
    mkdirSync(otherDir);
    otherCa = makeCa(otherDir);
    functionCert = signLeaf(ca, 'function');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('a function served over HTTPS by functions-runtime, trusted through --upstream-ca', () => {
    let stack;
    let clients;
    before(async () => {
      // whoami goes by host name (SNI, DNS name check), everything else by IP address (IP check).
      stack = await startHttpsStack({
        cert: functionCert,
        upstreams: (url) => [`event=whoami;url=${url.replace('127.0.0.1', 'localhost')}/upstream`, `${url}/upstream`],
        gatewayArgs: ['--upstream-ca', ca.caFile],
      });
      clients = new Clients(stack);
    });
    afterEach((t) => clients.cleanUp(t));
    after(() => stack?.stop());

    test('connected, invocations, sends and reply actions go over TLS; disconnected too', async () => {
      const alice = await clients.connect({ user: 'alice' });
      const bob = await clients.connect({ user: 'bob' });
      assert.equal(await alice.invoke('echo', 'über TLS'), 'über TLS');
      assert.equal(await alice.invoke('add', 2, 3), 5);
      await assert.rejects(alice.invoke('fail'), /boom/);
      const whoami = await alice.invoke('whoami');
      assert.equal(whoami.userId, 'alice');
      const arrived = nextMessages(bob, 'broadcast');
      assert.equal(await alice.invoke('broadcast', 'to all'), true);
      assert.deepEqual(await arrived, [['to all']]);
      await alice.send('seq', 1);
      const aliceId = alice.connectionId;
      await alice.stop();
      const events = await until(async () => {
        const all = (await functionEventsOver(stack, ca)).filter((e) => e.connectionId === aliceId);
        return all.some((e) => e.event === 'disconnected') && all;
      }, { what: 'alice\'s disconnected event at the function' });
      assert.deepEqual(events.map((e) => e.event), ['connected', 'echo', 'add', 'fail', 'whoami', 'broadcast', 'seq', 'disconnected']);
      assert.equal(await metric(stack, 'switchboard_upstream_requests_total', 'outcome="tls_failed"'), 0);
    });

    test('connections are pooled: calls in a row need no new handshake, and new connections resume', async () => {
      const c = await clients.connect({ user: 'pool' });
      assert.equal(await c.invoke('echo', 'warm'), 'warm');
      const handshakes = await metric(stack, 'switchboard_upstream_tls_handshakes_total');
      for (let i = 0; i < 20; i++) assert.equal(await c.invoke('echo', i), i);
      assert.equal(await metric(stack, 'switchboard_upstream_tls_handshakes_total'), handshakes,
        '20 calls in a row reused the pooled connection');
      // Six calls that overlap (the function holds each 300 ms) need more connections than the earlier
      // tests, never more than three calls at once, left in the pool: the new ones resume the session.
      const others = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => clients.connect({ user: `pool-${i}` })));
      const results = await Promise.all(others.map((o, i) => o.invoke('delay', 300, `parallel ${i}`)));
      assert.deepEqual(results, others.map((_, i) => `parallel ${i}`));
      assert.ok(await metric(stack, 'switchboard_upstream_tls_handshakes_total') > handshakes,
        'overlapping calls opened new connections');
      assert.ok(await metric(stack, 'switchboard_upstream_tls_handshakes_total', 'result="resumed"') >= 1,
        `a new connection resumed the session:\n${await (await fetch(`${stack.gatewayUrl}/metrics`)).text()}`);
      assert.equal(await metric(stack, 'switchboard_upstream_tls_handshakes_total', 'result="failed"'), 0);
    });
  });

  test('a function whose certificate another CA signed is refused', async () => {
    const stack = await startHttpsStack({ cert: functionCert, gatewayArgs: ['--upstream-ca', otherCa.caFile] });
    const clients = new Clients(stack);
    try {
      await assertRefused(stack, clients, ca, /error="handshake: certificate verify failed: unable to get local issuer certificate \(host 127\.0\.0\.1:\d+\)"/);
    } finally {
      await clients.stopAll();
      await stack.stop();
    }
  });

  test('without --upstream-ca the system trust store does not vouch for a private CA', async () => {
    const stack = await startHttpsStack({ cert: functionCert });
    const clients = new Clients(stack);
    try {
      await assertRefused(stack, clients, ca, /certificate verify failed: unable to get local issuer certificate/);
    } finally {
      await clients.stopAll();
      await stack.stop();
    }
  });

  test('a certificate for another name is refused, by IP address and by host name', async () => {
    const otherName = signLeaf(ca, 'other-name', { san: 'DNS:other.example' });
    const stack = await startHttpsStack({
      cert: otherName,
      upstreams: (url) => [`hub=byname;url=${url.replace('127.0.0.1', 'localhost')}/upstream`, `${url}/upstream`],
      gatewayArgs: ['--upstream-ca', ca.caFile],
    });
    const clients = new Clients(stack);
    try {
      await assertRefused(stack, clients, ca, /certificate verify failed: IP address mismatch \(host 127\.0\.0\.1:\d+\)/);
      const byName = await clients.connect({ user: 'byname', hub: 'byname' });
      // Each failure is another try at the log line, which shows at most once a second.
      const pattern = new RegExp(`tls_failed function=https://localhost:${stack.functionsPort} .*certificate verify failed: hostname mismatch \\(host localhost:${stack.functionsPort}\\)`);
      await until(async () => {
        await assert.rejects(byName.invoke('echo', 1), /Invocation failed, status code 500/);
        return stack.gatewayLog().split('\n').some((line) => pattern.test(line));
      }, { timeoutMs: 10_000, intervalMs: 100, what: () => `${pattern} in:\n${stack.gatewayLog().slice(-3000)}` });
    } finally {
      await clients.stopAll();
      await stack.stop();
    }
  });

  test('an expired certificate is refused', async () => {
    const expired = signLeaf(ca, 'expired', { startDate: '20240101000000Z', endDate: '20240102000000Z' });
    const check = spawnSync('openssl', ['x509', '-in', expired.certFile, '-noout', '-checkend', '0']);
    assert.equal(check.status, 1, `openssl x509 -checkend 0 says the certificate has expired: ${check.stdout}`);
    const stack = await startHttpsStack({ cert: expired, gatewayArgs: ['--upstream-ca', ca.caFile] });
    const clients = new Clients(stack);
    try {
      await assertRefused(stack, clients, ca, /certificate verify failed: certificate has expired \(host 127\.0\.0\.1:\d+\)/);
    } finally {
      await clients.stopAll();
      await stack.stop();
    }
  });

  describe('mutual TLS: the function asks for a client certificate its CA signed', () => {
    let gatewayCert;
    let strangerCert;
    before(() => {
      gatewayCert = signLeaf(ca, 'gateway-client', { san: 'DNS:gateway.example', usage: 'clientAuth' });
      strangerCert = signLeaf(otherCa, 'stranger-client', { san: 'DNS:gateway.example', usage: 'clientAuth' });
    });

    test('with --upstream-cert and --upstream-key the gateway gets through', async () => {
      const stack = await startHttpsStack({ cert: functionCert, clientCa: ca,
        gatewayArgs: ['--upstream-ca', ca.caFile, '--upstream-cert', gatewayCert.certFile, '--upstream-key', gatewayCert.keyFile] });
      const clients = new Clients(stack);
      try {
        const c = await clients.connect({ user: 'mtls' });
        assert.equal(await c.invoke('echo', 'mutual'), 'mutual');
        assert.equal(await c.invoke('add', 40, 2), 42);
        assert.equal(await metric(stack, 'switchboard_upstream_requests_total', 'outcome="tls_failed"'), 0);
        assert.doesNotMatch(stack.gatewayLog(), /BEGIN|PRIVATE KEY/, 'no key material in the log');
      } finally {
        await clients.stopAll();
        await stack.stop();
      }
    });

    test('without a client certificate the function refuses the gateway', async () => {
      const stack = await startHttpsStack({ cert: functionCert, clientCa: ca, gatewayArgs: ['--upstream-ca', ca.caFile] });
      const clients = new Clients(stack);
      try {
        // The function's alert, or (when a TCP reset overtook it) the gateway's reading of the drop.
        await assertRefused(stack, clients, ca,
          /tlsv13 alert certificate required|right after the function asked for a client certificate: none is configured \(--upstream-cert\)/,
          gatewayCert);
      } finally {
        await clients.stopAll();
        await stack.stop();
      }
    });

    test('a client certificate another CA signed is refused too', async () => {
      const stack = await startHttpsStack({ cert: functionCert, clientCa: ca,
        gatewayArgs: ['--upstream-ca', ca.caFile, '--upstream-cert', strangerCert.certFile, '--upstream-key', strangerCert.keyFile] });
      const clients = new Clients(stack);
      try {
        await assertRefused(stack, clients, ca,
          /alert unknown ca|right after the function asked for a client certificate: ours was probably refused/, gatewayCert);
      } finally {
        await clients.stopAll();
        await stack.stop();
      }
    });
  });

  test('TLS files the gateway cannot use stop it at start-up with exit code 2', () => {
    const run = (args) => spawnSync(binPath('switchboard'), ['--access-key', 'k', '--upstream', 'https://127.0.0.1:9/upstream', ...args],
      { encoding: 'utf8', timeout: 10_000 });
    const missing = run(['--upstream-ca', path.join(dir, 'missing.pem')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--upstream-ca '.*missing\.pem': cannot read it/);
    const alone = run(['--upstream-cert', functionCert.certFile]);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /--upstream-cert and --upstream-key go together/);
    const mismatch = run(['--upstream-cert', functionCert.certFile, '--upstream-key', path.join(otherCa.dir, 'ca.key')]);
    assert.equal(mismatch.status, 2);
    assert.match(mismatch.stderr, /--upstream-key '.*ca\.key': does not belong to the certificate/);
    assert.doesNotMatch(mismatch.stderr, /BEGIN|PRIVATE KEY/);
  });
});
