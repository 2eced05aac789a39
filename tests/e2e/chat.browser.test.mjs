// The chat sample in a real browser: headless Chromium (driven over the DevTools pipe) opens two chat
// pages against gateway + chat-sample; a line typed in alice's page shows up in bob's.

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

describe('chat sample in Chromium', { timeout: 120_000 }, () => {
  let gateway;
  let chat;
  let browser;
  const key = randomKey();

  before(async () => {
    // The two processes point at each other: chat-sample needs the gateway's port in its connection
    // string, the gateway needs chat-sample's upstream URL. So reserve a free port for the gateway,
    // start chat-sample (port 0) with it, then the gateway on the reserved port.
    const port = await freePort();
    chat = await startProgram('chat-sample', ['--listen', '127.0.0.1:0', '--connection-string',
      `Endpoint=http://127.0.0.1;Port=${port};AccessKey=${key};Version=1.0;`], { ready: READY.chat });
    gateway = await startProgram('switchboard', ['--listen', `127.0.0.1:${port}`, '--access-key', key,
      '--upstream', `${chat.url}/upstream`], { ready: READY.gateway });
    browser = await Browser.launch();
  });

  after(async () => {
    await browser?.close();
    await chat?.stop();
    await gateway?.stop();
  });

  test('a message typed in alice\'s page appears in bob\'s page', async () => {
    const alice = await browser.newPage(`${chat.url}/?user=alice`);
    const bob = await browser.newPage(`${chat.url}/?user=bob`);
    for (const page of [alice, bob]) {
      await page.waitFor(`document.body.dataset.state === 'connected'`, { what: 'data-state=connected' });
    }
    await alice.type('#message', 'hello from alice');
    await alice.pressEnter();
    await bob.waitFor(`document.querySelector('#messages').textContent.includes('hello from alice')`,
      { what: "bob's #messages to show alice's line" });
    const text = await bob.evaluate(`document.querySelector('#messages').textContent`);
    assert.match(text, /alice: hello from alice/, 'shown as "<from>: <text>"');
    // The sender sees her own line too (it went through the gateway, not just into the DOM).
    await alice.waitFor(`document.querySelector('#messages').textContent.includes('hello from alice')`);
  });
});
