// JWTs minted by npm `jsonwebtoken`, an implementation independent of the gateway's.

import jwt from 'jsonwebtoken';

/** The audience a client token must carry: the gateway's client URL for the hub. */
export function clientAudience(gatewayUrl, hub = 'e2e') {
  return `${gatewayUrl}/client/?hub=${hub}`;
}

/**
 * A client access token, as an app's /negotiate would hand out.
 * `user` becomes `asrs.s.uid` (omit for an anonymous connection); `claims` are added as they are.
 * `expiresIn` (seconds) or an explicit `exp` in `claims` set the lifetime.
 */
export function clientToken(gatewayUrl, key, { user, hub = 'e2e', claims = {}, expiresIn = 3600, audience, algorithm = 'HS256' } = {}) {
  const payload = { ...claims };
  if (user !== undefined) payload['asrs.s.uid'] = user;
  const options = { audience: audience ?? clientAudience(gatewayUrl, hub), algorithm };
  if (payload.exp === undefined) options.expiresIn = expiresIn;
  return jwt.sign(payload, key, options);
}

/** A REST token: aud is the request URL without its query. */
export function restToken(requestUrl, key, { expiresIn = 3600, audience, claims = {} } = {}) {
  const url = new URL(requestUrl);
  const aud = audience ?? `${url.origin}${url.pathname}`;
  const options = { audience: aud };
  if (claims.exp === undefined) options.expiresIn = expiresIn;
  return jwt.sign({ ...claims }, key, options);
}
