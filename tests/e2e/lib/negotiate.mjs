// Negotiation as the real client does it, for tests that then open a hand-made socket.

import assert from 'node:assert/strict';
import { clientToken } from './tokens.mjs';

/** POST /client/negotiate for `user` with a fresh access token: {token, connectionId, connectionToken}. */
export async function negotiateAs(stack, user, hub = 'e2e') {
  const token = clientToken(stack.gatewayUrl, stack.key, { user, hub });
  const res = await fetch(`${stack.gatewayUrl}/client/negotiate?hub=${hub}&negotiateVersion=1`, {
    method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `negotiate for ${user}: ${res.status}`);
  const body = await res.json();
  return { token, connectionId: body.connectionId, connectionToken: body.connectionToken };
}
