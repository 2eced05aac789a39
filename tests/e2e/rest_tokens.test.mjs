// The token operations of Azure's REST API (2023-07+, kept in 2024-12-01; docs/rest-api.md):
// `POST /api/hubs/{hub}/:generateToken` mints a client token a real client connects with, for the user
// asked for; `GET /api/auth/accessKey` gives the key app servers sign client tokens with.

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startStack } from './lib/processes.mjs';
import { Clients } from './lib/client.mjs';
import { rest } from './lib/rest.mjs';

const V24 = 'api-version=2024-12-01';

describe('REST token operations', { timeout: 60_000 }, () => {
  let stack;
  let clients;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--max-token-lifetime', '2h'] });
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(() => stack?.stop());

  test(':generateToken gives a token a client connects with, as that user', async () => {
    const res = await rest(stack, 'POST', `/api/hubs/e2e/:generateToken?${V24}&userId=minted&minutesToExpire=5`);
    assert.equal(res.status, 200, res.text);
    const claims = jwt.decode(res.json.token);
    assert.equal(claims.nameid, 'minted');
    assert.equal(claims.exp - claims.iat, 300);
    assert.match(claims.aud, /\/client\/\?hub=e2e$/);

    const c = await clients.connect({ token: res.json.token });
    const me = await c.invoke('whoami');
    assert.equal(me.userId, 'minted');
  });

  test(':generateToken without a user, and its limits', async () => {
    const res = await rest(stack, 'POST', `/api/hubs/e2e/:generateToken?${V24}`);
    assert.equal(res.status, 200, res.text);
    const claims = jwt.decode(res.json.token);
    assert.equal(claims.nameid, undefined);
    assert.equal(claims.exp - claims.iat, 3600, 'an hour by default');
    const c = await clients.connect({ token: res.json.token });
    assert.equal((await c.invoke('whoami')).userId, '');

    for (const bad of ['0', '-1', 'x', '200']) {  // 200 minutes > --max-token-lifetime 2h
      const refused = await rest(stack, 'POST', `/api/hubs/e2e/:generateToken?${V24}&minutesToExpire=${bad}`);
      assert.equal(refused.status, 400, `${bad}: ${refused.text}`);
    }
    assert.equal((await rest(stack, 'GET', `/api/hubs/e2e/:generateToken?${V24}`)).status, 405);
    assert.equal((await rest(stack, 'POST', `/api/hubs/e2e/:generateToken?${V24}`, { auth: false })).status, 401);
  });

  test('GET /api/auth/accessKey (and the SDK\'s /api/v1 path) gives the signing key', async () => {
    for (const path of [`/api/auth/accessKey?${V24}`, '/api/v1/auth/accessKey']) {
      const res = await rest(stack, 'GET', path);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.AccessKey, stack.key);
      assert.equal(typeof res.json.KeyId, 'string');
      // A client token signed with it, as the SDK would sign one, opens a connection.
      const token = jwt.sign({ nameid: 'signed-by-sdk' }, res.json.AccessKey,
        { audience: `${stack.gatewayUrl}/client/?hub=e2e`, expiresIn: 60, keyid: res.json.KeyId });
      const c = await clients.connect({ token });
      assert.equal((await c.invoke('whoami')).userId, 'signed-by-sdk');
    }
    assert.equal((await rest(stack, 'GET', '/api/auth/accessKey', { auth: false })).status, 401);
    // A token minted for another path does not open this one.
    const other = await rest(stack, 'GET', '/api/auth/accessKey', { audience: `${stack.gatewayUrl}/api/hubs/e2e/:send` });
    assert.equal(other.status, 401);
    assert.equal((await rest(stack, 'POST', '/api/auth/accessKey')).status, 405);
  });
});
