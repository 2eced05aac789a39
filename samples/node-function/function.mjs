// A Switchboard function in plain Node.js: the `http` and `crypto` modules, no Switchboard code and no
// npm packages. It serves two routes:
//
//   POST /upstream       the gateway's events (--upstream http://127.0.0.1:7072/upstream): checks the
//                        signatures, answers invocations of `hello`, `add` and `say`
//   POST /api/negotiate  where a SignalR client starts: answers {url, accessToken} for the gateway
//
// Run: SWITCHBOARD_CONNECTION_STRING='Endpoint=http://127.0.0.1:8080;AccessKey=K;Version=1.0;' \
//        node samples/node-function/function.mjs
// The wire format is in docs/upstream.md; docs/functions.md explains each step.

import crypto from 'node:crypto';
import http from 'node:http';

const HUB = process.env.HUB ?? 'chat';
const PORT = Number(process.env.PORT ?? 7072);
// `switchboard` (default): check X-Switchboard-Signature v2, which covers the body, the path, the time
// and the caller's identity. `azure`: check only X-ASRS-Signature (behind Azure SignalR Service).
const SIGNATURE_MODE = process.env.SIGNATURE_MODE ?? 'switchboard';
const TOLERANCE_SECONDS = 300;  // how old (or new) an X-Switchboard-Timestamp may be
const MAX_BODY_BYTES = 1 << 20;

// "Endpoint=http://host[:port];[Port=p;]AccessKey=k;Version=1.0;": keys are case-insensitive.
function parseConnectionString(text) {
  const fields = {};
  for (const part of (text ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  if (!fields.endpoint || !fields.accesskey) {
    throw new Error('set SWITCHBOARD_CONNECTION_STRING to Endpoint=http://host[:port];AccessKey=<key>;Version=1.0;');
  }
  const url = new URL(fields.endpoint);
  if (fields.port) url.port = fields.port;
  return { endpoint: url.origin, accessKey: fields.accesskey };
}

const { endpoint, accessKey } = parseConnectionString(process.env.SWITCHBOARD_CONNECTION_STRING);
const keys = [accessKey];  // during a key rotation, list the old and the new key: any of them may sign

const hmac = (key, message) => crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(message).digest();
const base64url = (data) => Buffer.from(data).toString('base64url');

// Constant-time "does any entry of the comma-separated header equal any expected value?"
function anyEntryMatches(header, expected) {
  let matched = null;
  for (const entry of (header ?? '').split(',')) {
    const candidate = Buffer.from(entry.trim().toLowerCase());
    for (const value of expected) {
      const wanted = Buffer.from(value);
      if (candidate.length === wanted.length && crypto.timingSafeEqual(candidate, wanted)) matched = value;
    }
  }
  return matched;
}

// X-ASRS-Signature: "sha256=" + hex(HMAC-SHA256(access key, connection id)), one entry per key. It signs
// only the connection id (a `connect` event has none: the empty string), as Azure does.
function checkAsrsSignature(req) {
  const connectionId = req.headers['x-asrs-connection-id'] ?? '';
  const expected = keys.map((key) => `sha256=${hmac(key, connectionId).toString('hex')}`);
  return anyEntryMatches(req.headers['x-asrs-signature'], expected) !== null;
}

// X-Switchboard-Signature v2 over "v2\n" timestamp "\n" method "\n" path-and-query "\n" signed headers "\n"
// body, where the signed headers are "name:value\n" for every X-ASRS-* header but X-ASRS-Signature, plus
// X-Switchboard-Event-Id and Content-Type, names lower-cased and sorted. Returns the matching entry.
function checkSwitchboardSignature(req, body) {
  const timestamp = req.headers['x-switchboard-timestamp'] ?? '';
  if (!/^[0-9]{1,12}$/.test(timestamp)) return null;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return null;
  const lines = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if ((name.startsWith('x-asrs-') && name !== 'x-asrs-signature') || name === 'x-switchboard-event-id' ||
        name === 'content-type') {
      lines.push([name, req.rawHeaders[i + 1].replace(/^[ \t]+|[ \t]+$/g, '')]);
    }
  }
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));  // stable: a repeated name keeps its order
  const signedHeaders = lines.map(([name, value]) => `${name}:${value}\n`).join('');
  // Node reads header bytes as latin1; 'latin1' gives the same bytes back (claims may hold UTF-8).
  const message = Buffer.concat([
    Buffer.from(`v2\n${timestamp}\n${req.method}\n${req.url}\n${signedHeaders}\n`, 'latin1'),
    body,
  ]);
  const expected = keys.map((key) => `v2=${hmac(key, message).toString('hex')}`);
  return anyEntryMatches(req.headers['x-switchboard-signature'], expected);
}

// Requests already served, so a captured one can't be played again within the tolerance (409). Only
// a request that was answered 2xx counts: the gateway may send one whose answer failed again.
const served = new Map();  // signature -> when it may be forgotten (ms), oldest first
function wasServed(signature) {
  const now = Date.now();
  for (const [seen, forgetAt] of served) {
    if (forgetAt > now && served.size < 100_000) break;
    served.delete(seen);
  }
  return served.has(signature);
}
function remember(signature) {
  served.set(signature, Date.now() + 2 * TOLERANCE_SECONDS * 1000);
}

// The client's methods. Each gets the invocation's arguments and the event's identity and returns the
// reply: `result` for the caller's invoke(), `actions` the gateway runs first (docs/upstream.md).
const methods = {
  hello: ([name], caller) => ({ result: `Hello, ${name}! (from Node, connection ${caller.connectionId})` }),
  add: ([a, b]) => ({ result: a + b }),
  say: ([text], caller) => ({
    result: true,
    actions: [{ target: 'message', arguments: [caller.connectionId, text] }],  // to everyone in the hub
  }),
};

function answer(res, status, body) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function onUpstream(req, res, body) {
  const isAsrsValid = checkAsrsSignature(req);
  const switchboardSignature = SIGNATURE_MODE === 'azure' ? 'unused' : checkSwitchboardSignature(req, body);
  if (!isAsrsValid || !switchboardSignature) {
    console.error(`info node-function bad_signature conn=${req.headers['x-asrs-connection-id'] ?? ''}`);
    return answer(res, 401, { code: 'Unauthorized', message: 'The request is not signed with our access key.' });
  }
  if (SIGNATURE_MODE !== 'azure') {
    if (wasServed(switchboardSignature)) {
      return answer(res, 409, { code: 'Replayed', message: 'This request was served already.' });
    }
    res.on('finish', () => { if (res.statusCode < 300) remember(switchboardSignature); });
  }
  const caller = {
    hub: req.headers['x-asrs-hub'],
    connectionId: req.headers['x-asrs-connection-id'],
    userId: req.headers['x-asrs-user-id'] ?? '',
  };
  const category = req.headers['x-asrs-category'];
  const event = req.headers['x-asrs-event'];
  if (category === 'connections') {
    console.error(`info node-function ${event} conn=${caller.connectionId}`);
    return answer(res, 204);  // nothing to do; a 401 or 403 to `connected` would refuse the client
  }
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return answer(res, 415, { code: 'UnsupportedMediaType', message: 'Use the JSON hub protocol.' });
  }
  let invocation;
  try {
    invocation = JSON.parse(body.toString('utf8'));  // {"type":1,"invocationId":"0","target":…,"arguments":[…]}
  } catch {
    return answer(res, 400, { code: 'InvalidBody', message: 'The body is not JSON.' });
  }
  const name = String(invocation.target).toLowerCase();  // SignalR method names are case-insensitive
  if (!Object.hasOwn(methods, name)) return answer(res, 200, { error: `Unknown method '${invocation.target}'.` });
  const method = methods[name];
  try {
    return answer(res, 200, method(invocation.arguments ?? [], caller));
  } catch (err) {
    console.error(`warn node-function handler_failed target=${invocation.target} error=${JSON.stringify(String(err))}`);
    return answer(res, 200, { error: `An unexpected error occurred invoking '${invocation.target}'.` });
  }
}

// The client token: HS256, signed with the access key, for the gateway's client URL of this hub.
function negotiate(userId) {
  const url = `${endpoint}/client/?hub=${encodeURIComponent(HUB)}`;
  const now = Math.floor(Date.now() / 1000);
  const claims = { aud: url, iat: now, nbf: now, exp: now + 3600 };
  if (userId) claims['asrs.s.uid'] = userId;
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return { url, accessToken: `${unsigned}.${base64url(hmac(accessKey, unsigned))}` };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return req.destroy();
    chunks.push(chunk);
  });
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/upstream') return onUpstream(req, res, Buffer.concat(chunks));
    if (req.method === 'POST' && path === '/api/negotiate') {
      // Your sign-in decides who this is (a session cookie, your identity provider), never a name the
      // request merely states. This sample has no sign-in: its clients are anonymous.
      return answer(res, 200, negotiate(''));
    }
    return answer(res, 404, { code: 'NotFound', message: 'No such endpoint.' });
  });
});

server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`node-function listening on http://127.0.0.1:${port}`);
  console.log(`gateway: --upstream http://127.0.0.1:${port}/upstream; clients: withUrl("http://127.0.0.1:${port}/api")`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
