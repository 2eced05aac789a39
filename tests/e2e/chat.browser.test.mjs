// The chat sample in a real browser: headless Chromium (driven over the DevTools pipe) opens a chat page
// for alice and one for bob against gateway + chat-sample; each signs in through the page's form, and a
// line typed in alice's page shows up in bob's. The session cookie is per browser, as in real life, so
// alice and bob each get a Chromium of their own. Without a browser, the sample's sign-in and negotiate
// routes are checked against forged, tampered, expired and cross-origin requests.

import { createHmac } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { READY, randomKey, startProgram } from './lib/processes.mjs';
import { Browser } from './lib/cdp.mjs';

/** A port that was free a moment ago (bound to port 0, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A session cookie's value as samples/chat/README.md describes it: user.expiry.HMAC-SHA256, base64url. */
function sessionValue(secret, user, expiry) {
  const signed = `${Buffer.from(user).toString('base64url')}.${expiry}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** The asrs.s.uid of a client token. */
function tokenUser(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())['asrs.s.uid'];
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('chat sample in Chromium', { timeout: 120_000 }, () => {
  let gateway;
  let chat;
  let aliceBrowser;
  let bobBrowser;
  const key = randomKey();
  const sessionSecret = randomKey();

  before(async () => {
    // The two processes point at each other: chat-sample needs the gateway's port in its connection
    // string, the gateway needs chat-sample's upstream URL. So reserve a free port for the gateway,
    // start chat-sample (port 0) with it, then the gateway on the reserved port.
    const port = await freePort();
    chat = await startProgram('chat-sample', ['--listen', '127.0.0.1:0', '--connection-string',
      `Endpoint=http://127.0.0.1;Port=${port};AccessKey=${key};Version=1.0;`],
    { ready: READY.chat, env: { SWITCHBOARD_SESSION_SECRET: sessionSecret } });
    gateway = await startProgram('switchboard', ['--listen', `127.0.0.1:${port}`, '--access-key', key,
      '--upstream', `${chat.url}/upstream`], { ready: READY.gateway });
    [aliceBrowser, bobBrowser] = await Promise.all([Browser.launch(), Browser.launch()]);
  });

  after(async () => {
    await aliceBrowser?.close();
    await bobBrowser?.close();
    await chat?.stop();
    await gateway?.stop();
  });

  /** Opens the page, signs in through its form as `user` and waits until it is connected. */
  async function signIn(browser, user) {
    const page = await browser.newPage(`${chat.url}/`);
    await page.waitFor(`document.body.dataset.state === 'signed-out'`, { what: `the sign-in form for ${user}` });
    await page.type('#name', user);
    await page.pressEnter();
    await page.waitFor(`document.body.dataset.state === 'connected'`, { what: `${user}'s page connected` });
    return page;
  }

  /** POST /api/sign-in outside a browser; resolves to the response. */
  function postSignIn(user, headers = {}) {
    return fetch(`${chat.url}/api/sign-in`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ user }),
    });
  }

  const negotiate = (headers = {}, query = '') => fetch(`${chat.url}/api/negotiate${query}`, { method: 'POST', headers });

  test('a message typed in alice\'s page appears in bob\'s page', async () => {
    const alice = await signIn(aliceBrowser, 'alice');
    const bob = await signIn(bobBrowser, 'bob');
    assert.equal(await alice.evaluate(`document.querySelector('#me').textContent`), 'alice');
    await alice.type('#message', 'hello from alice');
    await alice.pressEnter();
    await bob.waitFor(`document.querySelector('#messages').textContent.includes('hello from alice')`,
      { what: "bob's #messages to show alice's line" });
    const text = await bob.evaluate(`document.querySelector('#messages').textContent`);
    assert.match(text, /alice: hello from alice/, 'shown as "<from>: <text>"');
    // The sender sees her own line too (it went through the gateway, not just into the DOM).
    await alice.waitFor(`document.querySelector('#messages').textContent.includes('hello from alice')`);
  });

  test('/api/negotiate names the user of a valid session cookie, and nobody without one', async () => {
    // No cookie: no token, whatever the query asks for (the old ?user= route).
    let res = await negotiate({}, '?user=alice');
    assert.equal(res.status, 401);
    assert.equal((await res.json()).code, 'NotSignedIn');

    res = await postSignIn('mallory');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { user: 'mallory' });
    const setCookie = res.headers.get('set-cookie');
    assert.match(setCookie, /^chat_session=[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0];

    res = await negotiate({ Cookie: cookie }, '?user=alice');
    assert.equal(res.status, 200);
    assert.equal(tokenUser((await res.json()).accessToken), 'mallory', 'the query is ignored');
    res = await fetch(`${chat.url}/api/me`, { headers: { Cookie: `theme=dark; ${cookie}` } });
    assert.deepEqual(await res.json(), { user: 'mallory' });

    const [user, expiry, signature] = cookie.slice('chat_session='.length).split('.');
    assert.equal(Buffer.from(user, 'base64url').toString(), 'mallory');
    const b64 = (text) => Buffer.from(text).toString('base64url');
    const forged = {
      'another user under mallory\'s signature': `${b64('alice')}.${expiry}.${signature}`,
      'a later expiry under mallory\'s signature': `${user}.${Number(expiry) + 60}.${signature}`,
      'one character of the signature changed': `${user}.${expiry}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
      'no signature': `${b64('alice')}.${expiry}.`,
      'signed with another secret': sessionValue(randomKey(), 'alice', nowSeconds() + 600),
      'expired, signed with the secret': sessionValue(sessionSecret, 'alice', nowSeconds() - 1),
      'a name only': 'alice',
    };
    for (const [what, value] of Object.entries(forged)) {
      res = await negotiate({ Cookie: `chat_session=${value}` });
      assert.equal(res.status, 401, what);
      res = await fetch(`${chat.url}/api/me`, { headers: { Cookie: `chat_session=${value}` } });
      assert.equal(res.status, 401, what);
    }

    // --session-secret (here SWITCHBOARD_SESSION_SECRET) is the secret, and the format is as documented.
    res = await negotiate({ Cookie: `chat_session=${sessionValue(sessionSecret, 'carol', nowSeconds() + 600)}` });
    assert.equal(res.status, 200);
    assert.equal(tokenUser((await res.json()).accessToken), 'carol');
  });

  test('sign-in checks the name, refuses other origins, and marks the cookie Secure behind https', async () => {
    for (const [user, code] of [['a:b', 'InvalidUser'], ['x,y', 'InvalidUser'], ['', 'InvalidUser'], [' ', 'InvalidUser'],
      ['n'.repeat(65), 'InvalidUser'], [42, 'InvalidUser']]) {
      const res = await postSignIn(user);
      assert.equal(res.status, 400, JSON.stringify(user));
      assert.equal((await res.json()).code, code);
      assert.equal(res.headers.get('set-cookie'), null);
    }
    let res = await fetch(`${chat.url}/api/sign-in`, { method: 'POST', body: 'user=alice' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).code, 'InvalidBody');

    // A page on another origin (also another port of this host: the same site to SameSite) cannot
    // sign this browser in or out.
    for (const origin of ['http://evil.example', `http://127.0.0.1:${Number(new URL(chat.url).port) + 1}`, 'null']) {
      res = await postSignIn('mallory', { Origin: origin });
      assert.equal(res.status, 403, origin);
      assert.equal((await res.json()).code, 'CrossOrigin');
      assert.equal(res.headers.get('set-cookie'), null);
      res = await fetch(`${chat.url}/api/sign-out`, { method: 'POST', headers: { Origin: origin } });
      assert.equal(res.status, 403, origin);
    }
    res = await postSignIn('mallory', { Origin: chat.url });
    assert.equal(res.status, 200, 'its own origin');

    res = await postSignIn('mallory', { 'X-Forwarded-Proto': 'https' });
    assert.match(res.headers.get('set-cookie'), /; SameSite=Strict; Secure$/);
  });

  test('another tab of alice\'s browser is signed in already; signing out ends the session', async () => {
    const tab = await aliceBrowser.newPage(`${chat.url}/`);
    await tab.waitFor(`document.body.dataset.state === 'connected'`, { what: "alice's second tab connected" });
    assert.equal(await tab.evaluate(`document.querySelector('#me').textContent`), 'alice');

    const reloaded = aliceBrowser.waitForEvent('Page.loadEventFired', tab.sessionId);
    await tab.evaluate(`document.querySelector('#sign-out').click()`);
    await reloaded;
    await tab.waitFor(`document.body.dataset.state === 'signed-out'`, { what: 'the sign-in form after signing out' });
    const statuses = await tab.evaluate(`Promise.all([fetch('/api/me'), fetch('/api/negotiate', { method: 'POST' })]
      .map((request) => request.then((response) => response.status)))`);
    assert.deepEqual(statuses, [401, 401], '/api/me and /api/negotiate in the signed-out browser');
  });
});
