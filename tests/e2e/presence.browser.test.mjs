// The presence sample in a real browser: headless Chromium opens two tabs as alice (she signs in through
// the first tab's form; the second has her session cookie already) and, in a Chromium of its own (the
// cookie is per browser), one as bob, against gateway + presence-sample. bob sees alice online while
// either of her tabs is open, and offline once both are closed. The gateway runs two threads, so
// alice's tabs may sit on different ones. /api/online and /api/negotiate refuse requests without a
// signed-in session.

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

describe('presence sample in Chromium', { timeout: 120_000 }, () => {
  let gateway;
  let sample;
  let aliceBrowser;
  let bobBrowser;
  const key = randomKey();

  before(async () => {
    // The gateway needs the sample's upstream URL and the sample the gateway's port: reserve the
    // gateway's port first (as chat.browser.test.mjs does).
    const port = await freePort();
    sample = await startProgram('presence-sample', ['--listen', '127.0.0.1:0', '--connection-string',
      `Endpoint=http://127.0.0.1;Port=${port};AccessKey=${key};Version=1.0;`], { ready: READY.presence });
    gateway = await startProgram('switchboard', ['--listen', `127.0.0.1:${port}`, '--access-key', key,
      '--threads', '2', '--upstream', `${sample.url}/upstream`], { ready: READY.gateway });
    [aliceBrowser, bobBrowser] = await Promise.all([Browser.launch(), Browser.launch()]);
  });

  after(async () => {
    await aliceBrowser?.close();
    await bobBrowser?.close();
    await sample?.stop();
    await gateway?.stop();
  });

  const entry = (user) => `document.querySelector('#online li[data-user=${JSON.stringify(user)}]')`;

  /** Opens the page, signs in through its form as `user` and waits until it is connected. */
  async function signIn(browser, user) {
    const page = await browser.newPage(`${sample.url}/`);
    await page.waitFor(`document.body.dataset.state === 'signed-out'`, { what: `the sign-in form for ${user}` });
    await page.type('#name', user);
    await page.pressEnter();
    await page.waitFor(`document.body.dataset.state === 'connected'`, { what: `${user}'s page connected` });
    return page;
  }

  test('alice stays online until her last tab closes', async () => {
    const alice1 = await signIn(aliceBrowser, 'alice');
    // Her second tab needs no sign-in: the browser has her session cookie.
    const alice2 = await aliceBrowser.newPage(`${sample.url}/`);
    await alice2.waitFor(`document.body.dataset.state === 'connected'`, { what: 'alice tab 2 connected' });
    assert.equal(await alice2.evaluate(`document.querySelector('#me').textContent`), 'alice');
    const bob = await signIn(bobBrowser, 'bob');

    // bob's list on load comes from the gateway: alice with two connections, and bob himself.
    await bob.waitFor(`${entry('alice')}?.dataset.count === '2'`, { what: 'bob to see alice online with 2 connections' });
    await bob.waitFor(`${entry('bob')}?.dataset.count === '1'`, { what: 'bob to see himself' });
    // alice's tabs heard bob come online.
    await alice1.waitFor(`${entry('bob')} !== null`, { what: "alice's first tab to see bob" });

    await alice1.close();
    // The count drops to 1 (the announcement after her disconnect), and she is still listed.
    await bob.waitFor(`${entry('alice')}?.dataset.count === '1'`, { what: 'alice down to 1 connection, still online' });
    await alice2.waitFor(`${entry('alice')}?.dataset.count === '1'`, { what: "alice's other tab to see 1 connection" });

    await alice2.close();
    await bob.waitFor(`${entry('alice')} === null`, { what: 'alice to go offline in bob\'s page' });
    await bob.waitFor(`document.querySelector('#events').textContent.includes('alice went offline')`);
    await bob.waitFor(`${entry('bob')} !== null`, { what: 'bob still listed' });
  });

  test('/api/online and /api/negotiate need a signed-in session', async () => {
    let res = await fetch(`${sample.url}/api/online`);
    assert.equal(res.status, 401, 'who is online is not for whoever reaches the sample');
    assert.equal((await res.json()).code, 'NotSignedIn');
    res = await fetch(`${sample.url}/api/negotiate?user=alice`, { method: 'POST' });
    assert.equal(res.status, 401, 'no token without a session, whatever the query asks for');

    res = await fetch(`${sample.url}/api/sign-in`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'carol' }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie').split(';')[0];
    assert.match(cookie, /^presence_session=/);
    res = await fetch(`${sample.url}/api/online`, { headers: { Cookie: cookie } });
    assert.equal(res.status, 200);
    assert.ok(Array.isArray((await res.json()).users));

    // The same cookie with its user swapped for another keeps the signature, which no longer matches.
    const [, expiry, signature] = cookie.slice('presence_session='.length).split('.');
    const forged = `presence_session=${Buffer.from('alice').toString('base64url')}.${expiry}.${signature}`;
    res = await fetch(`${sample.url}/api/online`, { headers: { Cookie: forged } });
    assert.equal(res.status, 401);
    res = await fetch(`${sample.url}/api/negotiate`, { method: 'POST', headers: { Cookie: forged } });
    assert.equal(res.status, 401);
  });
});
