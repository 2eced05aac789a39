// Token lifetime and audience pinning (docs/security.md "Tokens"; issue 14 item 9): a client or REST
// token whose expiry is further away than --max-token-lifetime (default 24 h) is refused with 401, and
// with --public-endpoint the audience must name that host, whatever Host header the request carries.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/processes.mjs';
import { clientToken, restToken } from './lib/tokens.mjs';
import { rest } from './lib/rest.mjs';

async function negotiate(stack, token) {
  const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=e2e&negotiateVersion=1`, {
    method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

const broadcast = { target: 'news', arguments: ['hello'] };

describe('token lifetime', { timeout: 60_000 }, () => {
  let stack;
  before(async () => { stack = await startStack({ gatewayArgs: ['--max-token-lifetime', '2h'] }); });
  after(async () => { await stack?.stop(); });

  test('a client token living longer than --max-token-lifetime is refused at negotiate; a shorter one is not', async () => {
    const short = await negotiate(stack, clientToken(stack.gatewayUrl, stack.key, { user: 'a', expiresIn: 3600 }));
    assert.equal(short.status, 200, short.text);
    const long = await negotiate(stack, clientToken(stack.gatewayUrl, stack.key, { user: 'a', expiresIn: 3 * 3600 }));
    assert.equal(long.status, 401, long.text);
    const forever = await negotiate(stack, clientToken(stack.gatewayUrl, stack.key, { user: 'a', claims: { exp: 253402300799 } }));
    assert.equal(forever.status, 401, forever.text);
  });

  test('a REST token living longer than --max-token-lifetime is refused', async () => {
    const url = `${stack.gatewayUrl}/api/v1/hubs/e2e`;
    const ok = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: broadcast, token: restToken(url, stack.key, { expiresIn: 3600 }) });
    assert.equal(ok.status, 202, ok.text);
    const long = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: broadcast, token: restToken(url, stack.key, { claims: { exp: 253402300799 } }) });
    assert.equal(long.status, 401, long.text);
  });
});

describe('a pinned public endpoint', { timeout: 60_000 }, () => {
  let stack;
  const PUBLIC = 'https://realtime.example.test';
  before(async () => { stack = await startStack({ gatewayArgs: ['--public-endpoint', PUBLIC] }); });
  after(async () => { await stack?.stop(); });

  test('client tokens must name the public host; one naming the Host header the request sent is refused', async () => {
    const hostBound = await negotiate(stack, clientToken(stack.gatewayUrl, stack.key, { user: 'b' }));
    assert.equal(hostBound.status, 401, `a token for ${stack.gatewayUrl} ${hostBound.text}`);
    const pinned = await negotiate(stack, clientToken(PUBLIC, stack.key, { user: 'b' }));
    assert.equal(pinned.status, 200, pinned.text);
    // The log line says what the refused token named and what was expected.
    const line = stack.gatewayLog().split('\n').find((l) => l.includes('negotiate_unauthorized'));
    const sent = `${stack.gatewayUrl}/client/?hub=e2e`;
    // (A value is quoted when it holds characters such as '?'.)
    assert.ok(line?.includes(`audience="${sent}"`) && line.includes('expected="//realtime.example.test/client/?hub=e2e"'), line);
  });

  test('the printed connection string names the public endpoint', () => {
    assert.match(stack.gateway.stdout(), /^connection string: Endpoint=https:\/\/realtime\.example\.test;Port=443;AccessKey=\*\*\*;/m);
  });

  test('REST tokens too', async () => {
    const hostBound = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: broadcast });
    assert.equal(hostBound.status, 401, hostBound.text);
    const line = stack.gatewayLog().split('\n').find((l) => l.includes('rest unauthorized'));
    assert.ok(line?.includes(`audience=${stack.gatewayUrl}/api/v1/hubs/e2e expected=//realtime.example.test/api/v1/hubs/e2e`), line);
    const pinned = await rest(stack, 'POST', '/api/v1/hubs/e2e', { json: broadcast, audience: `${PUBLIC}/api/v1/hubs/e2e` });
    assert.equal(pinned.status, 202, pinned.text);
  });
});
