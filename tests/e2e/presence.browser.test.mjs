// The presence sample in a real browser: headless Chromium opens two tabs as alice and one as bob
// against gateway + presence-sample. bob sees alice online while either of her tabs is open, and
// offline once both are closed. The gateway runs two threads, so alice's tabs may sit on different ones.

import net from 'node:net';
import { after, before, describe, test } from 'node:test';
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
  let browser;
  const key = randomKey();

  before(async () => {
    // The gateway needs the sample's upstream URL and the sample the gateway's port: reserve the
    // gateway's port first (as chat.browser.test.mjs does).
    const port = await freePort();
    sample = await startProgram('presence-sample', ['--listen', '127.0.0.1:0', '--connection-string',
      `Endpoint=http://127.0.0.1;Port=${port};AccessKey=${key};Version=1.0;`], { ready: READY.presence });
    gateway = await startProgram('switchboard', ['--listen', `127.0.0.1:${port}`, '--access-key', key,
      '--threads', '2', '--upstream', `${sample.url}/upstream`], { ready: READY.gateway });
    browser = await Browser.launch();
  });

  after(async () => {
    await browser?.close();
    await sample?.stop();
    await gateway?.stop();
  });

  const entry = (user) => `document.querySelector('#online li[data-user=${JSON.stringify(user)}]')`;

  test('alice stays online until her last tab closes', async () => {
    const alice1 = await browser.newPage(`${sample.url}/?user=alice`);
    await alice1.waitFor(`document.body.dataset.state === 'connected'`, { what: 'alice tab 1 connected' });
    const alice2 = await browser.newPage(`${sample.url}/?user=alice`);
    await alice2.waitFor(`document.body.dataset.state === 'connected'`, { what: 'alice tab 2 connected' });
    const bob = await browser.newPage(`${sample.url}/?user=bob`);
    await bob.waitFor(`document.body.dataset.state === 'connected'`, { what: 'bob connected' });

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
});
