// Functions in any language: samples/node-function (node:http and node:crypto only) and
// samples/python-function (Python's standard library only) behind the real gateway. Neither uses any
// Switchboard code: each checks the upstream signatures itself, issues the client token at
// /api/negotiate and answers invocations with the action envelope (docs/functions.md).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import signalR from '@microsoft/signalr';
import { freePort } from './lib/fleet.mjs';
import { FETCH_BAD_PORTS, READY, REPO_ROOT, randomKey, startProgram, until } from './lib/processes.mjs';
import { withTimeout } from './lib/client.mjs';

const PYTHON = (process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'python3')).find((p) => existsSync(p));

const LANGUAGES = [
  {
    name: 'node',
    greeting: 'from Node',
    command: process.execPath,
    script: path.join(REPO_ROOT, 'samples/node-function/function.mjs'),
    ready: /node-function listening on (http:\/\/\S+)/,
  },
  {
    name: 'python',
    greeting: 'from Python',
    command: PYTHON,
    script: path.join(REPO_ROOT, 'samples/python-function/function.py'),
    ready: /python-function listening on (http:\/\/\S+)/,
  },
];

/** A port for a program that can't report the one it picked before the gateway needs it. */
async function usablePort() {
  for (;;) {
    const port = await freePort();
    if (!FETCH_BAD_PORTS.has(port)) return port;
  }
}

async function startFunction(language, { port = 0, gatewayPort = 1, key, env = {} }) {
  if (!language.command) throw new Error('python3 is not installed (scripts/setup.sh installs it)');
  return startProgram(language.command, [language.script], {
    ready: language.ready,
    name: `${language.name}-function`,
    env: {
      PORT: String(port),
      // The Port= form, as the gateway prints it in its ready block.
      SWITCHBOARD_CONNECTION_STRING: `Endpoint=http://127.0.0.1;Port=${gatewayPort};AccessKey=${key};Version=1.0;`,
      ...env,
    },
  });
}

// An upstream request as the gateway builds it (docs/upstream.md), signed with `key` at `timestamp`.
function signedEvent({ key, connectionId = 'AAAAAAAAAAAAAAAAAAAAAA', target = 'add', args = [2, 3],
  timestamp = Math.floor(Date.now() / 1000), userId = 'alice' }) {
  const body = JSON.stringify({ type: 1, invocationId: '0', target, arguments: args });
  const headers = {
    'Content-Type': 'application/json',
    'X-ASRS-Connection-Id': connectionId,
    'X-ASRS-Hub': 'chat',
    'X-ASRS-Category': 'messages',
    'X-ASRS-Event': target,
    'X-ASRS-User-Id': userId,
    'X-ASRS-User-Claims': `asrs.s.uid: ${userId}`,
    'X-Switchboard-Event-Id': crypto.randomBytes(16).toString('base64url'),
    'X-Switchboard-Timestamp': String(timestamp),
  };
  const hmac = (message) => crypto.createHmac('sha256', key).update(message).digest('hex');
  headers['X-ASRS-Signature'] = `sha256=${hmac(connectionId)}`;
  const signed = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value])
    .filter(([name]) => (name.startsWith('x-asrs-') && name !== 'x-asrs-signature') ||
      name === 'x-switchboard-event-id' || name === 'content-type')
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
  headers['X-Switchboard-Signature'] = `v2=${hmac(`v2\n${timestamp}\nPOST\n/upstream\n${signed}\n${body}`)}`;
  return { headers, body };
}

function post(url, { headers, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, text, json: text ? JSON.parse(text) : undefined }));
      });
    req.on('error', reject);
    req.end(body);
  });
}

for (const language of LANGUAGES) {
  describe(`a ${language.name} function without Switchboard code`, { timeout: 60_000 }, () => {
    const key = randomKey();
    let gateway;
    let fn;
    before(async () => {
      const functionPort = await usablePort();
      gateway = await startProgram('switchboard', [
        '--listen', '127.0.0.1:0', '--access-key', key, '--upstream', `http://127.0.0.1:${functionPort}/upstream`,
      ], { ready: READY.gateway });
      fn = await startFunction(language, { port: functionPort, gatewayPort: new URL(gateway.url).port, key });
    });
    after(async () => {
      const ends = [await fn?.stop(), await gateway?.stop()];
      for (const end of ends) assert.ok(!end || (!end.killed && (end.signal === null || end.signal === 'SIGTERM')),
        `a program did not end cleanly: ${JSON.stringify(ends)}`);
    });

    test('a client negotiates through the function, invokes its methods and gets the answers', async () => {
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(`${fn.url}/api`)  // the client appends /negotiate
        .configureLogging(signalR.LogLevel.None)
        .build();
      const messages = [];
      connection.on('message', (...args) => messages.push(args));
      await withTimeout(connection.start(), 10_000, 'start');
      try {
        const id = connection.connectionId;
        assert.match(id, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(await connection.invoke('hello', 'Ada'), `Hello, Ada! (${language.greeting}, connection ${id})`);
        assert.equal(await connection.invoke('add', 2, 3), 5);
        await assert.rejects(connection.invoke('nope'), /Unknown method 'nope'\./);
        // A reply's actions run before the caller's result arrives.
        assert.equal(await connection.invoke('say', 'hi all'), true);
        assert.deepEqual(messages, [[id, 'hi all']]);
        await until(() => fn.stderr().includes(`connected conn=${id}`), { what: 'connected at the function' });
        await connection.stop();
        await until(() => fn.stderr().includes(`disconnected conn=${id}`), { what: 'disconnected at the function' });
        assert.doesNotMatch(fn.stderr(), /bad_signature/);
      } finally {
        await connection.stop();
      }
    });

    test('pointing the client at /api/negotiate fails with the client\'s 404 message', async () => {
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(`${fn.url}/api/negotiate`)
        .configureLogging(signalR.LogLevel.None)
        .build();
      await assert.rejects(withTimeout(connection.start(), 10_000, 'start'),
        /Status code '404'.*Either this is not a SignalR endpoint/s);
    });

    test('the function refuses requests that are not signed with the access key, and replays', async () => {
      const url = `${fn.url}/upstream`;
      const valid = signedEvent({ key });
      const control = await post(url, valid);
      assert.equal(control.status, 200, control.text);
      assert.deepEqual(control.json, { result: 5 });
      assert.equal((await post(url, valid)).status, 409, 'the same request again is a replay');

      const otherKey = await post(url, signedEvent({ key: randomKey() }));
      assert.equal(otherKey.status, 401, otherKey.text);

      const unsigned = signedEvent({ key });
      delete unsigned.headers['X-ASRS-Signature'];
      delete unsigned.headers['X-Switchboard-Signature'];
      assert.equal((await post(url, unsigned)).status, 401, 'no signature');

      const asrsOnly = signedEvent({ key });
      delete asrsOnly.headers['X-Switchboard-Signature'];
      assert.equal((await post(url, asrsOnly)).status, 401, 'X-ASRS-Signature alone signs only the connection id');

      const otherUser = signedEvent({ key });
      otherUser.headers['X-ASRS-User-Id'] = 'mallory';
      assert.equal((await post(url, otherUser)).status, 401, 'the identity headers are signed');

      const otherBody = signedEvent({ key });
      otherBody.body = otherBody.body.replace('[2,3]', '[2,4]');
      assert.equal((await post(url, otherBody)).status, 401, 'the body is signed');

      const old = await post(url, signedEvent({ key, timestamp: Math.floor(Date.now() / 1000) - 600 }));
      assert.equal(old.status, 401, 'a timestamp ten minutes old');

      assert.match(fn.stderr(), /bad_signature/);
    });
  });

  describe(`a ${language.name} function in Azure mode`, { timeout: 30_000 }, () => {
    const key = randomKey();
    let fn;
    before(async () => { fn = await startFunction(language, { key, env: { SIGNATURE_MODE: 'azure' } }); });
    after(async () => { await fn?.stop(); });

    test('checks X-ASRS-Signature, the one Azure SignalR Service sends', async () => {
      const url = `${fn.url}/upstream`;
      const azure = signedEvent({ key });
      delete azure.headers['X-Switchboard-Signature'];
      delete azure.headers['X-Switchboard-Timestamp'];
      const accepted = await post(url, azure);
      assert.equal(accepted.status, 200, accepted.text);
      assert.deepEqual(accepted.json, { result: 5 });
      const forged = signedEvent({ key: randomKey() });
      delete forged.headers['X-Switchboard-Signature'];
      assert.equal((await post(url, forged)).status, 401);
      const otherConnection = signedEvent({ key });
      otherConnection.headers['X-ASRS-Connection-Id'] = 'BBBBBBBBBBBBBBBBBBBBBB';
      assert.equal((await post(url, otherConnection)).status, 401, 'the connection id is signed');
    });
  });
}
