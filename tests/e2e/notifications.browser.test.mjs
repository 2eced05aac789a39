// The notifications sample on a fleet: a real redis-server, two gateways (A and B, no upstream), the
// sample, and headless Chromium with a page for bob and one for alice. /api/negotiate hands out the
// gateways in turn, so bob's page lands on A and alice's on B; /api/notify always sends through A.
// A notification for alice therefore crosses Redis to reach her, and bob's page never shows it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { READY, startProgram } from './lib/processes.mjs';
import { startFleet } from './lib/fleet.mjs';
import { Browser } from './lib/cdp.mjs';

describe('notifications sample on two gateways, in Chromium', { timeout: 120_000 }, () => {
  let fleet;
  let a;
  let b;
  let sample;
  let browser;

  before(async () => {
    fleet = await startFleet({ count: 2, functions: false });
    [a, b] = fleet.gateways;
    sample = await startProgram('notifications-sample', [
      '--listen', '127.0.0.1:0', '--gateway', a.gatewayUrl, '--gateway', b.gatewayUrl,
    ], { ready: READY.notifications, env: { SWITCHBOARD_ACCESS_KEY: fleet.key } });
    browser = await Browser.launch();
  });

  after(async () => {
    await browser?.close();
    await sample?.stop();
    await fleet?.stop();
  });

  async function notify(user, text) {
    const res = await fetch(`${sample.url}/api/notify`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user, text }),
    });
    const body = await res.json();
    assert.equal(res.status, 202, `POST /api/notify: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  const texts = (page) => page.evaluate(
    `[...document.querySelectorAll('#notifications li .text')].map((e) => e.textContent)`);
  const shown = (id) => `document.querySelector('#notifications li[data-id="${id}"]')`;

  async function openPage(user) {
    const page = await browser.newPage(`${sample.url}/?user=${user}`);
    await page.waitFor(`document.body.dataset.state === 'connected'`, { what: `${user}'s page connected` });
    return page;
  }

  // Opened by the first test and used by the next: the pages stay connected throughout.
  let alice;
  let bob;

  test('a notification sent through gateway A reaches alice on gateway B, and only her', async () => {
    // One page at a time, so that the round-robin order is known: bob gets A, alice gets B.
    bob = await openPage('bob');
    alice = await openPage('alice');
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

  test("the page's form notifies another user", async () => {
    await bob.evaluate(`document.querySelector('#to').value = ''`);
    await bob.type('#to', 'alice');
    await bob.type('#text', 'lunch?');
    await bob.pressEnter();
    await bob.waitFor(`document.querySelector('#send-result').textContent.startsWith('Sent #')`,
      { what: "bob's form to report the send" });
    await alice.waitFor(`document.querySelector('#notifications li .text')?.textContent === 'lunch?'`,
      { what: "alice's page to show bob's notification" });
  });

  test('--demo-every notifies every user the fleet lists as online', async () => {
    // A second sample, sending through A only: A's presence list names alice although she is on B.
    const demo = await startProgram('notifications-sample', [
      '--listen', '127.0.0.1:0', '--gateway', a.gatewayUrl, '--demo-every', '1',
    ], { ready: READY.notifications, env: { SWITCHBOARD_ACCESS_KEY: fleet.key }, name: 'notifications-sample#demo' });
    try {
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
      const res = await fetch(`${sample.url}/api/notify`, { method: 'POST', body });
      assert.equal(res.status, 400, body);
      assert.equal((await res.json()).code, code, body);
    }
    const negotiate = await fetch(`${sample.url}/api/negotiate?user=${encodeURIComponent('x,y')}`, { method: 'POST' });
    assert.equal(negotiate.status, 400);
  });
});
