// The browser client on another origin than the gateway: headless Chromium (over the DevTools pipe) loads
// a page from a node:http server started here at http://localhost:<port A>; the page loads the real
// signalr.min.js (8.0.x and 10.0.x) and connects to the gateway at http://127.0.0.1:<port B> over WebSockets
// and over long polling with the JSON protocol. It invokes `echo` and receives a REST broadcast. The
// browser enforces CORS (negotiate is a credentialed, preflighted fetch), and the test also reads the
// gateway's answers as Chromium saw them: the Origin echoed (not `*`) and credentials allowed.

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, functionEvents, startStack, until } from './lib/processes.mjs';
import { Browser } from './lib/cdp.mjs';
import { clientToken } from './lib/tokens.mjs';
import { rest } from './lib/rest.mjs';

const SCRIPTS = {
  8: path.join(REPO_ROOT, 'node_modules/@microsoft/signalr/dist/browser/signalr.min.js'),
  10: path.join(REPO_ROOT, 'tests/e2e/clients/v10/node_modules/@microsoft/signalr/dist/browser/signalr.min.js'),
};

// The page: loads the client version named in ?v=, and offers the test a small API on window.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>cross-origin client</title>
<script>document.write('<script src="/signalr-' + new URLSearchParams(location.search).get('v') + '.min.js"><\\/script>');</script>
<script>
  window.e2e = {
    connection: undefined,
    broadcasts: [],
    waiters: [],
    closed: undefined,
    async start(url, token, transport, skipNegotiation = false) {
      const c = new signalR.HubConnectionBuilder()
        .withUrl(url, { accessTokenFactory: () => token, transport: signalR.HttpTransportType[transport], skipNegotiation })
        .configureLogging(signalR.LogLevel.Warning)
        .build();
      c.on('restBroadcast', (...args) => {
        window.e2e.broadcasts.push(args);
        for (const w of window.e2e.waiters.splice(0)) w();
      });
      window.e2e.closed = new Promise((resolve) => c.onclose((err) => resolve(err ? String(err) : 'clean')));
      window.e2e.connection = c;
      await c.start();
      return { connectionId: c.connectionId, version: signalR.VERSION };
    },
    /** Resolves once n broadcasts arrived (rejects after ms). */
    broadcastCount(n, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (window.e2e.broadcasts.length >= n) { clearTimeout(timer); resolve(window.e2e.broadcasts); return true; }
          return false;
        };
        const timer = setTimeout(() => reject(new Error('no broadcast within ' + ms + ' ms')), ms);
        if (!check()) window.e2e.waiters.push(check);
      });
    },
  };
</script></head><body>cross-origin client</body></html>`;

/** Serves the page and the two client bundles on an ephemeral port of 127.0.0.1. */
async function startPageServer() {
  const scripts = {};
  for (const [v, file] of Object.entries(SCRIPTS)) scripts[`/signalr-${v}.min.js`] = await readFile(file);
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (scripts[pathname]) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(scripts[pathname]);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

/** After each test: the gateway's log and the page's console when it failed, then the page closed. */
async function closePage(t, stack, browser, page) {
  if (t.passed === false) {
    console.log(`gateway stderr (tail):\n${stack.gatewayLog().slice(-4000)}\npage console:\n${page?.consoleLines?.join('\n')}`);
  }
  if (!page) return;
  await page.evaluate('window.e2e.connection?.stop()').catch(() => {});
  await browser.send('Target.closeTarget', { targetId: page.targetId }).catch(() => {});
}

async function stopAll(browser, pageServer, stack) {
  await browser?.close();
  if (pageServer) {
    const closed = new Promise((resolve) => pageServer.close(resolve));
    pageServer.closeAllConnections();
    await closed;
  }
  await stack?.stop();
}

describe('browser client on another origin', { timeout: 120_000 }, () => {
  let stack;
  let pageServer;
  let pageOrigin;
  let browser;
  let page;

  before(async () => {
    stack = await startStack();
    pageServer = await startPageServer();
    // localhost vs 127.0.0.1 and another port: a different origin from the gateway's.
    pageOrigin = `http://localhost:${pageServer.address().port}`;
    assert.notEqual(pageOrigin, new URL(stack.gatewayUrl).origin);
    browser = await Browser.launch();
  });

  afterEach(async (t) => {
    await closePage(t, stack, browser, page);
    page = undefined;
  });

  after(() => stopAll(browser, pageServer, stack));

  test('the origin null (sandboxed frames, file: pages) is never echoed unless listed', async () => {
    for (const method of ['OPTIONS', 'POST']) {
      const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, {
        method,
        headers: { origin: 'null', 'access-control-request-method': 'POST' },
      });
      await res.arrayBuffer();
      assert.equal(res.headers.get('access-control-allow-origin'), null, `${method}: ${res.status}`);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, method);
    }
  });

  test('the gateway answers a preflight from another origin with that origin and credentials', async () => {
    const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: {
        origin: pageOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,x-requested-with,x-signalr-user-agent',
      },
    });
    assert.ok(res.status >= 200 && res.status < 300, `preflight status ${res.status}`);
    assert.equal(res.headers.get('access-control-allow-origin'), pageOrigin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'x-requested-with', 'x-signalr-user-agent']) assert.ok(allowed.includes(h), `allows ${h}: ${allowed}`);
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
  });

  for (const version of [8, 10]) {
    for (const transport of ['WebSockets', 'LongPolling']) {
      test(`signalr.min.js ${version} over ${transport}: echo and a REST broadcast`, async () => {
        page = await browser.newPage(`${pageOrigin}/?v=${version}`);
        assert.equal(await page.evaluate('location.origin'), pageOrigin);

        // What Chromium sees on the wire: responses from the gateway and WebSockets it opens.
        const seen = { responses: [], sockets: [] };
        const listener = (m) => {
          if (m.sessionId !== page?.sessionId) return;
          if (m.method === 'Network.responseReceived' && m.params.response.url.startsWith(stack.gatewayUrl)) {
            const headers = Object.fromEntries(Object.entries(m.params.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
            seen.responses.push({ url: m.params.response.url, type: m.params.type, status: m.params.response.status, headers });
          } else if (m.method === 'Network.webSocketCreated') {
            seen.sockets.push(m.params.url);
          }
        };
        browser.listeners.add(listener);
        try {
          await browser.send('Network.enable', {}, page.sessionId);
          const url = `${stack.gatewayUrl}/client/?hub=e2e`;
          const token = clientToken(stack.gatewayUrl, stack.key, { user: `browser-${version}-${transport}` });
          const started = await page.evaluate(`window.e2e.start(${JSON.stringify(url)}, ${JSON.stringify(token)}, ${JSON.stringify(transport)})`);
          assert.ok(started.version.startsWith(`${version}.`), `page runs client ${started.version}`);
          assert.equal(typeof started.connectionId, 'string');

          const value = { text: 'grüße 🌍', n: 2.5, none: null, nested: { list: [1, [2, {}]] } };
          assert.deepEqual(await page.evaluate(`window.e2e.connection.invoke('echo', ${JSON.stringify(value)})`), value);

          const got = page.evaluate('window.e2e.broadcastCount(1, 10000)');
          const res = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: { target: 'restBroadcast', arguments: ['to everyone', { n: 1 }] } });
          assert.equal(res.status, 202, res.text);
          assert.deepEqual(await got, [['to everyone', { n: 1 }]]);

          // CORS as Chromium saw it: negotiate was preflighted, and both answers echo the page's origin and
          // allow credentials.
          const seenUrls = JSON.stringify(seen.responses.map((r) => `${r.type} ${r.status} ${r.url}`));
          const negotiates = seen.responses.filter((r) => r.url.includes('/client/negotiate'));
          const preflight = negotiates.find((r) => r.type === 'Preflight');
          const negotiate = negotiates.find((r) => r.type !== 'Preflight');
          assert.ok(preflight && negotiate, `a preflight and a negotiate response, saw ${seenUrls}`);
          assert.equal(negotiate.status, 200);
          for (const r of [preflight, negotiate]) {
            assert.equal(r.headers['access-control-allow-origin'], pageOrigin, `${r.type} ${r.url}`);
            assert.equal(r.headers['access-control-allow-credentials'], 'true', `${r.type} ${r.url}`);
          }

          const gatewayWs = stack.gatewayUrl.replace(/^http/, 'ws');
          if (transport === 'WebSockets') {
            assert.ok(seen.sockets.some((u) => u.startsWith(`${gatewayWs}/client/`)), `a WebSocket to the gateway, saw ${JSON.stringify(seen.sockets)}`);
          } else {
            assert.deepEqual(seen.sockets, [], 'no WebSocket on long polling');
            const polls = seen.responses.filter((r) => r.type !== 'Preflight' && /[?&]id=/.test(r.url) && r.url.includes('/client/'));
            assert.ok(polls.length >= 1, `poll responses, saw ${seenUrls}`);
            for (const p of polls) assert.equal(p.headers['access-control-allow-origin'], pageOrigin, p.url);
          }

          await page.evaluate('window.e2e.connection.stop()');
          assert.equal(await page.evaluate('window.e2e.closed'), 'clean');
          await until(async () => (await functionEvents(stack, started.connectionId)).some((e) => e.event === 'disconnected'),
            { what: 'disconnected at the function' });
        } finally {
          browser.listeners.delete(listener);
        }
      });
    }
  }
});

// --cors-origins: only the listed origins. The same page is served on two origins of one server:
// http://localhost:<port> (listed) and http://127.0.0.1:<port> (not listed).
describe('a gateway with --cors-origins', { timeout: 120_000 }, () => {
  let stack;
  let pageServer;
  let allowedOrigin;
  let otherOrigin;
  let browser;
  let page;

  before(async () => {
    pageServer = await startPageServer();
    const port = pageServer.address().port;
    allowedOrigin = `http://localhost:${port}`;
    otherOrigin = `http://127.0.0.1:${port}`;
    stack = await startStack({ gatewayArgs: ['--cors-origins', `https://example.test,${allowedOrigin}`] });
    browser = await Browser.launch();
  });

  afterEach(async (t) => {
    await closePage(t, stack, browser, page);
    page = undefined;
  });

  after(() => stopAll(browser, pageServer, stack));

  const start = (origin, transport, skipNegotiation = false) => {
    const url = `${stack.gatewayUrl}/client/?hub=e2e`;
    const token = clientToken(stack.gatewayUrl, stack.key, { user: `cors-${transport}` });
    return page.evaluate(`window.e2e.start(${JSON.stringify(url)}, ${JSON.stringify(token)}, ${JSON.stringify(transport)}, ${skipNegotiation})`
      + `.then((r) => ({ ok: r }), (e) => ({ error: String(e) }))`);
  };

  for (const transport of ['WebSockets', 'LongPolling']) {
    test(`a page on a listed origin connects over ${transport}`, async () => {
      page = await browser.newPage(`${allowedOrigin}/?v=10`);
      const started = await start(allowedOrigin, transport);
      assert.ok(started.ok, `start() failed: ${started.error}`);
      assert.equal(await page.evaluate(`window.e2e.connection.invoke('echo', 'hi')`), 'hi');
    });

    test(`a page on another origin is refused over ${transport}`, async () => {
      page = await browser.newPage(`${otherOrigin}/?v=10`);
      assert.equal(await page.evaluate('location.origin'), otherOrigin);
      const started = await start(otherOrigin, transport);
      assert.ok(started.error, `start() should fail, got ${JSON.stringify(started.ok)}`);
    });
  }

  test('a page on another origin cannot skip negotiate to open a WebSocket', async () => {
    page = await browser.newPage(`${otherOrigin}/?v=10`);
    const started = await start(otherOrigin, 'WebSockets', true);
    assert.ok(started.error, `start() should fail, got ${JSON.stringify(started.ok)}`);
    // The same from the listed origin works: the refusal is the origin's, not skipNegotiation's.
    await page.evaluate('window.e2e.connection?.stop()').catch(() => {});
    await browser.send('Target.closeTarget', { targetId: page.targetId });
    page = await browser.newPage(`${allowedOrigin}/?v=10`);
    const allowed = await start(allowedOrigin, 'WebSockets', true);
    assert.ok(allowed.ok, `start() from the listed origin failed: ${allowed.error}`);
  });

  test('answers carry CORS headers for listed origins only, compared case-insensitively', async () => {
    const preflight = (origin) => fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    const listed = await preflight(allowedOrigin.toUpperCase().replace('HTTP://', 'http://'));
    assert.ok(listed.headers.get('access-control-allow-origin'), 'a listed origin in other case is echoed');
    for (const origin of [otherOrigin, 'null', 'https://example.test.evil']) {
      const res = await preflight(origin);
      assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
    }
  });
});
