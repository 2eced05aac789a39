// The notifications sample on a fleet: a real redis-server, two gateways (A and B, no upstream), the
// sample, and headless Chromium with a page for bob and one for alice, each signed in through the
// page's form in a Chromium of its own (the session cookie is per browser). /api/negotiate hands out
// the gateways in turn, so bob's page lands on A and alice's on B; /api/notify always sends through A.
// A notification for alice therefore crosses Redis to reach her, and bob's page never shows it.
// /api/notify takes only requests with the notify key; the page's form, only a signed-in user.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { READY, randomKey, startProgram } from './lib/processes.mjs';
import { startFleet } from './lib/fleet.mjs';
import { Browser } from './lib/cdp.mjs';

describe('notifications sample on two gateways, in Chromium', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let sample;
  let aliceBrowser;
  let bobBrowser;
  const notifyKey = randomKey();

  before(async () => {
    fleet = await startFleet({ count: 2, functions: false });
    [a, b] = fleet.gateways;
    sample = await startProgram('notifications-sample', [
      '--listen', '127.0.0.1:0', '--gateway', a.gatewayUrl, '--gateway', b.gatewayUrl,
    ], { ready: READY.notifications, env: { SWITCHBOARD_ACCESS_KEY: fleet.key, SWITCHBOARD_NOTIFY_KEY: notifyKey } });
    [aliceBrowser, bobBrowser] = await Promise.all([Browser.launch(), Browser.launch()]);
  });

  after(async () => {
    await aliceBrowser?.close();
    await bobBrowser?.close();
    await sample?.stop();
    await fleet?.stop();
  });

  /** POST /api/notify as a backend does; resolves to the response. */
  function postNotify(body, headers = { Authorization: `Bearer ${notifyKey}` }, url = sample.url) {
    return fetch(`${url}/api/notify`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body,
    });
  }

  async function notify(user, text) {
    const res = await postNotify(JSON.stringify({ user, text }));
    const body = await res.json();
    assert.equal(res.status, 202, `POST /api/notify: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  const texts = (page) => page.evaluate(
    `[...document.querySelectorAll('#notifications li .text')].map((e) => e.textContent)`);
  const shown = (id) => `document.querySelector('#notifications li[data-id="${id}"]')`;

  /** Opens the page in `browser`, signs in through its form as `user` and waits until it is connected. */
  async function openPage(browser, user) {
    const page = await browser.newPage(`${sample.url}/`);
    await page.waitFor(`document.body.dataset.state === 'signed-out'`, { what: `the sign-in form for ${user}` });
    await page.type('#name', user);
    await page.pressEnter();
    await page.waitFor(`document.body.dataset.state === 'connected'`, { what: `${user}'s page connected` });
    return page;
  }

  /** POST /api/sign-in outside a browser; resolves to the session cookie as "name=value". */
  async function sessionCookie(user) {
    const res = await fetch(`${sample.url}/api/sign-in`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
    });
    assert.equal(res.status, 200, `sign in as ${user}`);
    return res.headers.get('set-cookie').split(';')[0];
  }

  // Opened by the first test and used by the next: the pages stay connected throughout.
  let alice;
  let bob;

  test('a notification sent through gateway A reaches alice on gateway B, and only her', async () => {
    // One page at a time, so that the round-robin order is known: bob gets A, alice gets B.
    bob = await openPage(bobBrowser, 'bob');
    alice = await openPage(aliceBrowser, 'alice');
    assert.equal(await bob.evaluate('document.body.dataset.gateway'), a.gatewayUrl, 'bob is on gateway A');
    assert.equal(await alice.evaluate('document.body.dataset.gateway'), b.gatewayUrl, 'alice is on gateway B');

    const id = await notify('alice', 'Your build is green');
    await alice.waitFor(`${shown(id)}?.querySelector('.text').textContent === 'Your build is green'`,
      { what: "alice's page to show the notification" });
    assert.equal(await alice.evaluate(`${shown(id)}.querySelector('.via').textContent`), a.gatewayUrl,
      'it says it was sent through gateway A');

    // Fences (tests/e2e/README.md): a later notification to each page, through the same gateway, in
    // order; anything stray or doubled would have arrived before it.
    const bobFence = await notify('bob', 'fence for bob');
    await bob.waitFor(`${shown(bobFence)} !== null`, { what: "bob's fence" });
    assert.deepEqual(await texts(bob), ['fence for bob'], "bob's page shows none of alice's notifications");
    const aliceFence = await notify('alice', 'fence for alice');
    await alice.waitFor(`${shown(aliceFence)} !== null`, { what: "alice's fence" });
    assert.deepEqual(await texts(alice), ['fence for alice', 'Your build is green'], 'newest first, each once');
  });

  test("the page's form notifies another user, named as the sender", async () => {
    await bob.evaluate(`document.querySelector('#to').value = ''`);
    await bob.type('#to', 'alice');
    await bob.type('#text', 'lunch?');
    await bob.pressEnter();
    await bob.waitFor(`document.querySelector('#send-result').textContent.startsWith('Sent #')`,
      { what: "bob's form to report the send" });
    await alice.waitFor(`document.querySelector('#notifications li .text')?.textContent === 'lunch?'`,
      { what: "alice's page to show bob's notification" });
    assert.equal(await alice.evaluate(`document.querySelector('#notifications li .from')?.textContent`), 'bob');
  });

  test('--demo-every notifies every user the fleet lists as online', async () => {
    // A second sample, sending through A only: A's presence list names alice although she is on B.
    const demo = await startProgram('notifications-sample', [
      '--listen', '127.0.0.1:0', '--gateway', a.gatewayUrl, '--demo-every', '1',
    ], { ready: READY.notifications, env: { SWITCHBOARD_ACCESS_KEY: fleet.key }, name: 'notifications-sample#demo' });
    try {
      // Started without --notify-key: /api/notify is off, and says how to turn it on.
      const res = await postNotify(JSON.stringify({ user: 'alice', text: 'hi' }), {}, demo.url);
      assert.equal(res.status, 403);
      const body = await res.json();
      assert.equal(body.code, 'NotifyDisabled');
      assert.match(body.message, /--notify-key/);

      const demoShown = `[...document.querySelectorAll('#notifications li .text')]
        .some((e) => e.textContent.startsWith('Demo notification #'))`;
      await alice.waitFor(demoShown, { what: "a demo notification in alice's page (gateway B)" });
      await bob.waitFor(demoShown, { what: "a demo notification in bob's page (gateway A)" });
    } finally {
      await demo.stop();
    }
  });

  test('bad requests are refused with 400 and a reason', async () => {
    const cases = [
      ['not json', 'InvalidBody'],
      [JSON.stringify({ text: 'no user' }), 'InvalidUser'],
      [JSON.stringify({ user: 'a:b', text: 'forged claim' }), 'InvalidUser'],
      [JSON.stringify({ user: 'alice', text: '' }), 'InvalidText'],
      [JSON.stringify({ user: 'alice', text: 'x'.repeat(501) }), 'InvalidText'],
    ];
    for (const [body, code] of cases) {
      const res = await postNotify(body);
      assert.equal(res.status, 400, body);
      assert.equal((await res.json()).code, code, body);
    }
    const signIn = await fetch(`${sample.url}/api/sign-in`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'x,y' }),
    });
    assert.equal(signIn.status, 400);
    assert.equal((await signIn.json()).code, 'InvalidUser');
  });

  test('/api/notify takes the notify key, the page\'s route a signed-in user, negotiate a session', async () => {
    const body = JSON.stringify({ user: 'alice', text: 'from nobody' });
    const wrongKey = `${notifyKey.slice(0, -1)}${notifyKey.endsWith('A') ? 'B' : 'A'}`;
    for (const [what, headers] of [['no Authorization', {}], ['a wrong key of the same length', { Authorization: `Bearer ${wrongKey}` }],
      ['the key under another scheme', { Authorization: `Basic ${notifyKey}` }], ['the key without a scheme', { Authorization: notifyKey }],
      ['the key with something after it', { Authorization: `Bearer ${notifyKey}x` }]]) {
      const res = await postNotify(body, headers);
      assert.equal(res.status, 401, what);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer', what);
      assert.equal((await res.json()).code, 'Unauthorized', what);
    }
    let res = await postNotify(JSON.stringify({ user: 'nobody-online', text: 'scheme in any case' }),
      { Authorization: `bearer ${notifyKey}` });
    assert.equal(res.status, 202);

    const fromPage = (headers) => fetch(`${sample.url}/api/notify-from-page`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body,
    });
    res = await fromPage({});
    assert.equal(res.status, 401, 'the page route without a session');
    assert.equal((await res.json()).code, 'NotSignedIn');
    res = await fromPage({ Authorization: `Bearer ${notifyKey}` });
    assert.equal(res.status, 401, 'the page route does not take the key');
    const cookie = await sessionCookie('mallory');
    res = await fromPage({ Cookie: cookie, Origin: 'http://evil.example' });
    assert.equal(res.status, 403, 'another site\'s page with the cookie');
    res = await fromPage({ Cookie: cookie, Origin: sample.url });
    assert.equal(res.status, 202, 'a signed-in user from the sample\'s own page');

    res = await fetch(`${sample.url}/api/negotiate?user=alice`, { method: 'POST' });
    assert.equal(res.status, 401, 'no token without a session');
  });
});
