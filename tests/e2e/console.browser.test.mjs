// The operator console in a real browser: headless Chromium (over the DevTools pipe) signs in through
// the console's form, and the page shows what the test did — the connections it opened and the
// messages it sent, on one gateway and across a fleet of two over Redis; a live-trace filter on a user
// shows only that user's events, on the other gateway of a fleet too; closing a connection from the
// page closes the client; a test message sent from the page reaches its user. SB_CONSOLE_SCREENSHOTS=1 writes the screenshots docs/operations.md
// shows (docs/console-*.png).

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, randomKey, startStack, until } from './lib/processes.mjs';
import { Clients, withTimeout } from './lib/client.mjs';
import { fleetClients, metric, startFleet } from './lib/fleet.mjs';
import { Browser } from './lib/cdp.mjs';

const ADMIN_KEY = `admin-${randomKey()}`;
const READ_KEY = `read-${randomKey()}`;
const SCREENSHOTS = process.env.SB_CONSOLE_SCREENSHOTS === '1';

/** Opens the console on `gatewayUrl` and signs in through its form; resolves once the overview shows data. */
async function signIn(browser, gatewayUrl, key = ADMIN_KEY) {
  const page = await browser.newPage(`${gatewayUrl}/admin/`);
  await browser.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false }, page.sessionId);
  await page.waitFor(`document.querySelector('#key')`, { what: 'the sign-in form' });
  await page.type('#key', key);
  const loaded = browser.waitForEvent('Page.loadEventFired', page.sessionId);
  await page.pressEnter();
  await loaded;
  await page.waitFor(`document.body.dataset.fleetLoaded === '1'`, { what: 'the overview loaded' });
  return page;
}

/** Resolves once `selector`'s text is exactly `expected` (the page refreshes every second). */
function textIs(page, selector, expected) {
  return page.waitFor(`document.querySelector(${JSON.stringify(selector)})?.textContent.trim() === ${JSON.stringify(String(expected))}`,
    { what: `${selector} = ${expected}`, timeoutMs: 15_000 });
}

async function click(page, selector) {
  await page.waitFor(`document.querySelector(${JSON.stringify(selector)})`, { what: selector });
  await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
}

async function setValue(page, selector, value) {
  await page.waitFor(`document.querySelector(${JSON.stringify(selector)})`, { what: selector });
  await page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); e.value = ${JSON.stringify(value)};
    e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true })); })()`);
}

async function screenshot(browser, page, name) {
  if (!SCREENSHOTS) return;
  const { data } = await browser.send('Page.captureScreenshot', { format: 'png' }, page.sessionId);
  writeFileSync(path.join(REPO_ROOT, 'docs', `console-${name}.png`), Buffer.from(data, 'base64'));
}

describe('operator console in Chromium', { timeout: 180_000 }, () => {
  let stack;
  let clients;
  let browser;
  let page;

  before(async () => {
    stack = await startStack({ gatewayArgs: ['--admin-key', ADMIN_KEY, '--admin-read-key', READ_KEY, '--threads', '2'] });
    clients = new Clients(stack);
    browser = await Browser.launch();
    page = await signIn(browser, stack.gatewayUrl);
  });
  after(async () => {
    await clients?.stopAll();
    await browser?.close();
    await stack?.stop();
  });
  afterEach(async (t) => {
    if (t.passed === false) console.log(`page console:\n${page?.consoleLines?.join('\n')}`);
  });

  test('the overview counts the connections opened and the messages sent', async () => {
    const alice = await clients.connect({ user: 'alice' });
    const bob = await clients.connect({ user: 'bob', transport: 'ServerSentEvents' });
    const carol = await clients.connect({ user: 'carol', protocol: 'messagepack' });
    let sent = 0;
    for (const c of [alice, bob, carol, alice, bob]) {
      assert.equal(await c.invoke('echo', sent), sent);
      sent += 1;
    }
    await alice.invoke('joinGroup', 'room');
    await bob.invoke('joinGroup', 'room');
    sent += 2;
    await textIs(page, '#total-connects', 3);
    await textIs(page, '#total-connections', 3);
    await textIs(page, '#total-messages-in', sent);
    await textIs(page, '#total-messages-out', sent);  // one Completion each
    await page.waitFor(`document.querySelectorAll('#gateways tr[data-gateway]').length === 1`, { what: 'one gateway row' });
    await screenshot(browser, page, 'overview');

    // The hub's page lists its groups, largest first, and its connections.
    await page.evaluate(`location.hash = '#hub/e2e'`);
    await page.waitFor(`document.querySelector('#connections tr[data-connection=${JSON.stringify(carol.connectionId)}]')`, { what: "carol's row" });
    await page.waitFor(`document.querySelector('#groups tr[data-group="room"]')`, { what: 'the room group' });
    await screenshot(browser, page, 'hub');

    // A test message sent from the page reaches carol and nobody else.
    const got = new Promise((resolve) => carol.on('consoleTest', (...args) => resolve(args)));
    let othersGot = 0;
    alice.on('consoleTest', () => { othersGot += 1; });
    await setValue(page, '#send-scope', 'user');
    await setValue(page, '#send-id', 'carol');
    await setValue(page, '#send-target', 'consoleTest');
    await setValue(page, '#send-arguments', '["from the page"]');
    await click(page, '#send-submit');
    assert.deepEqual(await withTimeout(got, 10_000, "carol's test message"), ['from the page']);
    assert.equal(await alice.invoke('echo', 'later'), 'later');
    assert.equal(othersGot, 0);

    // Closing bob's connection from its page: bob's client sees the server close it.
    await page.evaluate(`location.hash = '#connection/e2e/' + encodeURIComponent(${JSON.stringify(bob.connectionId)})`);
    await page.waitFor(`document.querySelector('dd[data-field="user"]')?.textContent === 'bob'`, { what: "bob's details" });
    await screenshot(browser, page, 'connection');
    await click(page, '#close-connection');
    await click(page, '#close-connection-confirm');
    const error = await withTimeout(bob.closed, 10_000, "bob's close");
    assert.match(String(error), /Closed by an operator/);
    assert.equal(await carol.invoke('echo', 'still here'), 'still here');
  });

  test('a live-trace filter on a user shows only that user', async () => {
    const dave = await clients.connect({ user: 'dave' });
    const erin = await clients.connect({ user: 'erin' });
    await page.evaluate(`location.hash = '#trace'`);
    await page.waitFor(`document.body.dataset.traceState === 'open'`, { what: 'the trace stream open' });
    await setValue(page, '#trace-user', 'erin');
    await click(page, '#trace-apply');
    await page.waitFor(`document.body.dataset.traceState === 'open'`, { what: 'the filtered stream open' });
    // dave's call is answered before erin's starts: had the filter let dave through, his rows would come first.
    assert.equal(await dave.invoke('echo', 'dave'), 'dave');
    assert.equal(await erin.invoke('echo', 'erin'), 'erin');
    await page.waitFor(`document.querySelector('#trace-list [data-kind="reply"][data-user="erin"]')`, { what: "erin's reply row" });
    const users = await page.evaluate(`[...document.querySelectorAll('#trace-list [data-kind]')].map((e) => e.dataset.user)`);
    assert.ok(users.length >= 3, `rows: ${users}`);  // invocation, upstream, reply
    assert.deepEqual([...new Set(users)], ['erin']);
    await screenshot(browser, page, 'trace');
    // Leaving the view closes the stream: the gateway counts no viewer.
    await page.evaluate(`location.hash = '#overview'`);
    await page.waitFor(`document.body.dataset.view === 'overview'`, { what: 'the overview' });
  });

  // Last: signing in with the read key replaces the browser's session cookie.
  test('signed in with the read key, the page shows everything but offers no action', async () => {
    const gus = await clients.connect({ user: 'gus' });
    await gus.invoke('joinGroup', 'lobby');
    await browser.send('Network.clearBrowserCookies', {}, page.sessionId);  // signed out: the form again
    const reader = await signIn(browser, stack.gatewayUrl, READ_KEY);
    const visible = (selector) => reader.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); return !!e && e.getClientRects().length > 0; })()`);
    await reader.waitFor(`document.body.dataset.access === 'read'`, { what: 'the read access noticed' });
    assert.equal(await visible('#access-badge'), true);
    assert.equal(await visible('#gateways [data-action="drain"]'), false);
    await reader.evaluate(`location.hash = '#hub/e2e'`);
    await reader.waitFor(`document.querySelector('#groups tr[data-group="lobby"]')`, { what: 'the lobby group' });
    assert.equal(await visible('#send-form'), false);
    assert.equal(await visible('#groups [data-action="close-group"]'), false);
    await reader.evaluate(`location.hash = '#connection/e2e/' + encodeURIComponent(${JSON.stringify(gus.connectionId)})`);
    await reader.waitFor(`document.querySelector('dd[data-field="user"]')?.textContent === 'gus'`, { what: "gus's details" });
    assert.equal(await reader.evaluate(`!!document.querySelector('#close-connection')`), true);  // there, but hidden
    assert.equal(await visible('#close-connection'), false);
    assert.equal(await gus.invoke('echo', 'untouched'), 'untouched');
  });
});

describe('operator console of a fleet of two in Chromium', { timeout: 180_000 }, () => {
  let fleet;
  let clients;
  let browser;

  before(async () => {
    fleet = await startFleet({ count: 2, gatewayArgs: ['--admin-key', ADMIN_KEY] });
    clients = fleetClients(fleet);
    browser = await Browser.launch();
  });
  after(async () => {
    await clients?.stopAll();
    await browser?.close();
    await fleet?.stop();
  });

  test("one gateway's console counts the whole fleet's connections and messages", async () => {
    const [g0, g1] = fleet.gateways;
    const opened = [
      await clients.connect({ user: 'ann', baseUrl: g0.gatewayUrl }),
      await clients.connect({ user: 'ben', baseUrl: g1.gatewayUrl }),
      await clients.connect({ user: 'cid', baseUrl: g1.gatewayUrl }),
    ];
    let sent = 0;
    for (const c of [...opened, ...opened]) {
      await c.invoke('echo', sent);
      sent += 1;
    }
    const page = await signIn(browser, g0.gatewayUrl);
    await textIs(page, '#total-connects', 3);
    await textIs(page, '#total-connections', 3);
    await textIs(page, '#total-messages-in', sent);
    await textIs(page, '#total-messages-out', sent);
    await page.waitFor(`document.querySelectorAll('#gateways tr[data-gateway]').length === 2`, { what: 'two gateway rows' });
    const perGateway = await page.evaluate(
      `[...document.querySelectorAll('#gateways tr[data-gateway]')].map((r) => Number(r.querySelector('[data-field="connections"]').textContent)).sort()`);
    assert.deepEqual(perGateway, [1, 2]);

    // The live trace on this gateway's page shows a user's events on the other gateway (scope: every gateway).
    const fleetView = await (await fetch(`${g0.gatewayUrl}/admin/api/fleet`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } })).json();
    const other = fleetView.gateways.find((g) => !g.self).id;
    await page.evaluate(`location.hash = '#trace'`);
    await page.waitFor(`document.body.dataset.traceState === 'open'`, { what: 'the trace stream open' });
    assert.equal(await page.evaluate(`document.querySelector('#trace-scope').value`), 'fleet');
    await setValue(page, '#trace-user', 'fay');
    await click(page, '#trace-apply');
    await page.waitFor(`document.body.dataset.traceState === 'open'`, { what: 'the filtered stream open' });
    // The other gateway starts watching within a refresh of the fleet's list (a second or so).
    await until(async () => (await metric(g1, 'switchboard_console_viewers')) === 1, { what: "the other gateway's watch" });
    const fay = await clients.connect({ user: 'fay', baseUrl: g1.gatewayUrl });
    assert.equal(await fay.invoke('echo', 'fay'), 'fay');
    await page.waitFor(`document.querySelector('#trace-list [data-kind="reply"][data-user="fay"]')`, { what: "fay's reply row" });
    const gateways = await page.evaluate(`[...document.querySelectorAll('#trace-list [data-kind] .t-gateway')].map((e) => e.textContent)`);
    assert.deepEqual([...new Set(gateways)], [other]);
  });
});
