// Data-plane REST calls with fetch and jsonwebtoken-minted tokens (aud = request URL without query).

import { restToken } from './tokens.mjs';

/**
 * rest(stack, 'POST', '/api/v1/hubs/e2e', {json: {...}}) → {status, headers, text, json}.
 * Options: json (serialized, Content-Type application/json), body (sent as is), headers,
 * token (overrides the minted one), auth: false (no Authorization header), audience, key.
 */
export async function rest(stack, method, pathAndQuery, { json, body, headers = {}, token, auth = true, audience, key } = {}) {
  const url = `${stack.gatewayUrl}${pathAndQuery}`;
  const h = { ...headers };
  if (auth) h.authorization = `Bearer ${token ?? restToken(url, key ?? stack.key, { audience })}`;
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method, headers: h, body: payload, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: parsed };
}

/** Percent-encodes one path segment. */
export const seg = encodeURIComponent;
