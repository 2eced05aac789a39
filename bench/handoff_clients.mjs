// The clients of bench/handoff.sh: N stateful-reconnect WebSocket connections on gateway A, SIGTERM to A,
// and every connection's stateful reconnect sent to gateway B; times the hand-off and watches Redis.
//
// Just enough SignalR JSON, over the `ws` package (no @microsoft/signalr, so one connection costs a
// socket and a small object):
//   POST /client/negotiate?hub=H&negotiateVersion=1&useStatefulReconnect=true  (Bearer JWT) → connectionToken,
//     and the answer must say "useStatefulReconnect":true;
//   GET ws://A/client/?hub=H&id=TOKEN (same Authorization), send {"protocol":"json","version":2}␞, expect {}␞;
//   a Ping ({"type":6}␞) every 15 s, as the JS client's keep-alive does; server Pings are ignored.
// On a close WITHOUT a Close frame (1006: A dropped the socket to hand the connection over) the client opens
// the same path and headers on B's port, with no handshake. B must send Sequence first ({"type":9,...}:
// Sequence is 9 and Ack 8 in HubProtocol.md and gateway/protocol/hub_message.hpp); the client answers
// {"type":9,"sequenceId":1}␞ (the next id it would send: it sent nothing numbered) and the connection
// counts as resumed. Reconnecting to B's port directly stands for a balancer that took A out of
// rotation before the SIGTERM (as an orchestrator's rolling update does).
//
// A failed resume: B answered the upgrade with an HTTP status, the socket errored or closed before the
// Sequence, or the first message was not a Sequence (a handshake error means B took the id for a new
// connection; the first few such messages are printed). A connection A closed WITH a Close frame was not
// handed over (counted apart), and one still open on A when A exited or the deadline passed is `not_dropped`.
//
// Redis: INFO memory before the SIGTERM, CONFIG RESETSTAT (which resets used_memory_peak to the current
// use; Redis 7 updates the peak after every command) then used_memory every POLL_MS meanwhile, and
// INFO memory 1 s after the last resume and A's exit: used_memory and used_memory_peak.
//
// After the measurement: every resumed id is checked on B with the REST API's "connection exists"
// (HEAD /api/v1/hubs/H/connections/ID → 200), and B's handoff counters are read from /metrics.
//
// Prints one JSON object on stdout; progress on stderr.
//
// Usage: node bench/handoff_clients.mjs --a-port P --b-port P --a-pid PID --redis-port P --key KEY
//          [--connections N] [--concurrency C] [--hub H] [--hold S] [--users per-connection|none]
//          [--poll-ms MS] [--deadline S]

import http from 'node:http';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { RedisControl } from './redis_control.mjs';

const { values: opt } = parseArgs({
  options: {
    'a-port': { type: 'string' },
    'b-port': { type: 'string' },
    'a-pid': { type: 'string' },
    signal: { type: 'string', default: 'SIGTERM' },
    'redis-port': { type: 'string' },
    key: { type: 'string' },
    connections: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '200' },
    hub: { type: 'string', default: 'bench' },
    hold: { type: 'string', default: '2' },
    users: { type: 'string', default: 'per-connection' },
    'poll-ms': { type: 'string', default: '50' },
    deadline: { type: 'string', default: '60' },
  },
});
for (const k of ['a-port', 'b-port', 'a-pid', 'redis-port', 'key']) if (!opt[k]) throw new Error(`--${k} is required`);

const A = `127.0.0.1:${opt['a-port']}`;
const B = `127.0.0.1:${opt['b-port']}`;
const A_PID = Number(opt['a-pid']);
const N = Number(opt.connections);
const CONCURRENCY = Number(opt.concurrency);
const HUB = opt.hub;
const RS = '\x1e';
const PING = `{"type":6}${RS}`;
const SEQUENCE_REPLY = `{"type":9,"sequenceId":1}${RS}`;
const HANDSHAKE = `{"protocol":"json","version":2}${RS}`;

const progress = (text) => process.stderr.write(`[handoff_clients ${new Date().toISOString().slice(11, 23)}] ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- tokens and HTTP ------------------------------------------------------------------------------------

// HS256 JWTs valid 2 hours, as bench/lib.sh's jwt mints them with openssl (tests/e2e/lib/tokens.mjs's
// jsonwebtoken takes about 1.5 ms a token here: 15 s of the driver's core for 10,000 users).
const b64url = (text) => Buffer.from(text).toString('base64url');
const JWT_HEADER = b64url('{"alg":"HS256","typ":"JWT"}');
function jwt(claims) {
  const payload = b64url(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 7200 }));
  const signature = createHmac('sha256', opt.key).update(`${JWT_HEADER}.${payload}`).digest('base64url');
  return `${JWT_HEADER}.${payload}.${signature}`;
}
// A client token's audience is the gateway's client URL for the hub (the port does not count, so it fits
// B too); a REST token's is the request URL without its query.
const clientAudience = `http://${A}/client/?hub=${HUB}`;
const sharedToken = opt.users === 'none' ? jwt({ aud: clientAudience }) : undefined;
const tokenFor = (i) => sharedToken ?? jwt({ aud: clientAudience, 'asrs.s.uid': `u${i}` });
const restToken = (url) => jwt({ aud: url.split('?')[0] });

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
/** One HTTP request on a kept-alive socket; resolves to {status, body}. */
function request(method, url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

// --- connections ---------------------------------------------------------------------------------------

// Per connection: {path, auth, ws, state, droppedAt, resumedAt, detail}. state: connecting → open (on A) →
// dropped (reconnecting to B) → resumed | failed | closed_by_a | not_dropped.
const conns = [];
const connectFailures = {};
const countInto = (tally, key) => { tally[key] = (tally[key] ?? 0) + 1; };

/** The records of one WebSocket message (text split at the record separator). */
function records(data) {
  return data.toString('utf8').split(RS).filter((r) => r.length > 0);
}

async function openOnA(i) {
  const auth = `Bearer ${tokenFor(i)}`;
  const res = await request('POST', `http://${A}/client/negotiate?hub=${HUB}&negotiateVersion=1&useStatefulReconnect=true`,
    { Authorization: auth });
  if (res.status !== 200) throw new Error(`negotiate ${res.status}`);
  const answer = JSON.parse(res.body);
  if (answer.useStatefulReconnect !== true) throw new Error('negotiate: no useStatefulReconnect');
  const c = { id: answer.connectionId, path: `/client/?hub=${HUB}&id=${encodeURIComponent(answer.connectionToken)}`, auth, state: 'connecting' };
  await new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${A}${c.path}`, { headers: { Authorization: auth }, perMessageDeflate: false });
    c.ws = ws;
    ws.once('unexpected-response', (_req, r) => { r.resume(); reject(new Error(`upgrade ${r.statusCode}`)); });
    ws.once('error', (err) => reject(new Error(`ws ${err.code ?? err.message}`)));
    ws.once('open', () => ws.send(HANDSHAKE));
    ws.once('message', (data) => {
      const [first] = records(data);
      if (first !== '{}') return reject(new Error(`handshake answer ${first?.slice(0, 60)}`));
      c.state = 'open';
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.on('close', (code) => onCloseFromA(c, code));
      resolve();
    });
    ws.once('close', () => reject(new Error('closed during handshake')));
  });
  return c;
}

// --- the hand-off ---------------------------------------------------------------------------------------

let sigtermAt = 0;
let settled = 0;
let expected = 0;
let lastResumeAt = 0;
let onAllSettled = () => {};
const failures = {};
const resumeLatencies = [];
const samples = []; // the first few first messages from B that were not a Sequence

function settle(c, state, detail) {
  if (c.state === 'resumed' || c.state === 'failed' || c.state === 'closed_by_a' || c.state === 'not_dropped') return;
  c.state = state;
  if (state === 'resumed') {
    c.resumedAt = Date.now();
    lastResumeAt = c.resumedAt;
    resumeLatencies.push(c.resumedAt - c.droppedAt);
  } else {
    countInto(failures, `${state}${detail ? `:${detail}` : ''}`);
  }
  settled += 1;
  if (settled === expected) onAllSettled();
}

function onCloseFromA(c, code) {
  if (c.state !== 'open') return;
  if (!sigtermAt) return settle(c, 'failed', `closed_before_sigterm_${code}`);
  if (code !== 1006) return settle(c, 'closed_by_a', String(code)); // a Close frame: not handed over
  c.state = 'dropped';
  c.droppedAt = Date.now();
  const ws = new WebSocket(`ws://${B}${c.path}`, { headers: { Authorization: c.auth }, perMessageDeflate: false });
  c.ws = ws;
  ws.once('unexpected-response', (_req, r) => { r.resume(); settle(c, 'failed', `http_${r.statusCode}`); ws.terminate(); });
  ws.on('error', (err) => settle(c, 'failed', `error_${err.code ?? 'ws'}`));
  ws.on('close', (closeCode) => settle(c, 'failed', `closed_${closeCode}`));
  ws.once('message', (data) => {
    const [first] = records(data);
    let message;
    try { message = JSON.parse(first); } catch { message = {}; }
    if (message.type !== 9) {
      if (samples.length < 3) samples.push(data.toString('utf8').slice(0, 200));
      // A handshake answer ({"error":…}) means B opened the id as a new connection instead of resuming it.
      settle(c, 'failed', 'error' in message && message.type === undefined ? 'new_connection_handshake_error'
        : `first_message_type_${message.type}`);
      return ws.terminate();
    }
    ws.send(SEQUENCE_REPLY);
    settle(c, 'resumed');
  });
}

/** True once the process has exited (gone, or a zombie its parent has not reaped yet). */
function hasExited(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '')[0] === 'Z';
  } catch {
    return true;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// --- main -----------------------------------------------------------------------------------------------

const redis = new RedisControl(Number(opt['redis-port']));
const emptyMemory = await redis.memory();

// Open N on A, CONCURRENCY at a time.
const connectStarted = Date.now();
let next = 0;
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N) }, async () => {
  while (next < N) {
    const i = next++;
    try {
      conns.push(await openOnA(i));
      if (conns.length % 2000 === 0) progress(`${conns.length} connected to A`);
    } catch (err) {
      countInto(connectFailures, err.message);
    }
  }
}));
const connectSeconds = (Date.now() - connectStarted) / 1000;
progress(`${conns.length} of ${N} connected to A in ${connectSeconds.toFixed(1)} s; failures ${JSON.stringify(connectFailures)}`);

// The JS client's keep-alive: a Ping every 15 s on every connection open on A or resumed on B (not on a
// socket to B still waiting for its Sequence: a resuming client sends nothing before it).
const pinger = setInterval(() => {
  for (const c of conns) {
    if ((c.state === 'open' || c.state === 'resumed') && c.ws.readyState === WebSocket.OPEN) c.ws.send(PING);
  }
}, 15_000);

await sleep(Number(opt.hold) * 1000);
const stillOpen = conns.filter((c) => c.state === 'open').length;
const before = await redis.memory();
await redis.command('CONFIG', 'RESETSTAT');

// Poll used_memory until the end; the first poll is right after the SIGTERM.
let polledMax = 0;
let polls = 0;
let polling = true;
const poller = (async () => {
  while (polling) {
    const m = await redis.memory();
    polledMax = Math.max(polledMax, m.used);
    polls += 1;
    await sleep(Number(opt['poll-ms']));
  }
})();

expected = conns.length;
settled = conns.filter((c) => c.state !== 'open').length;
const allSettled = new Promise((resolve) => { onAllSettled = resolve; if (settled === expected) resolve(); });
progress(`SIGTERM to A (pid ${A_PID}) with ${stillOpen} connections open`);
sigtermAt = Date.now();
const cpuAtSigterm = process.cpuUsage();
// SIGKILL: a crash. B then resumes each connection from its checkpoint (the fleet log) instead of a handoff.
process.kill(A_PID, opt.signal);

let aExitedAt = 0;
const aExit = (async () => {
  while (!hasExited(A_PID)) await sleep(10);
  aExitedAt = Date.now();
})();

const deadline = sleep(Number(opt.deadline) * 1000).then(() => 'deadline');
const how = await Promise.race([allSettled.then(() => 'settled'), deadline]);
const cpuToSettled = process.cpuUsage(cpuAtSigterm);
if (how === 'deadline') progress('deadline passed before every connection settled');
await Promise.race([aExit, deadline]);
// Whatever A did not drop by now (A exited or the deadline passed) never moved.
for (const c of conns) if (c.state === 'open') settle(c, 'not_dropped');
for (const c of conns) if (c.state === 'dropped') settle(c, 'failed', 'no_answer_by_deadline');
const endAt = Math.max(lastResumeAt, aExitedAt || Date.now());
await sleep(Math.max(0, endAt + 1000 - Date.now()));
polling = false;
await poller;
const after = await redis.memory();
progress(`all settled; A exited ${aExitedAt ? `${((aExitedAt - sigtermAt) / 1000).toFixed(2)} s` : 'not yet'} after SIGTERM`);

// Correctness: every resumed id exists on B (REST), and B's own counters.
const resumed = conns.filter((c) => c.state === 'resumed');
let existsOnB = 0;
const existsFailures = {};
let nextCheck = 0;
await Promise.all(Array.from({ length: 32 }, async () => {
  while (nextCheck < resumed.length) {
    const c = resumed[nextCheck++];
    const url = `http://${B}/api/v1/hubs/${HUB}/connections/${encodeURIComponent(c.id)}`;
    try {
      const res = await request('HEAD', url, { Authorization: `Bearer ${restToken(url)}` });
      if (res.status === 200) existsOnB += 1;
      else countInto(existsFailures, `http_${res.status}`);
    } catch (err) {
      countInto(existsFailures, err.message);
    }
  }
}));
const metricsText = (await request('GET', `http://${B}/metrics`, {})).body;
const metricSum = (name) => metricsText.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'))
  .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
const handoffFailureLines = metricsText.split('\n').filter((l) => l.startsWith('switchboard_handoff_failures_total'));

clearInterval(pinger);
const lat = resumeLatencies.sort((x, y) => x - y);
const mb = (bytes) => Math.round((bytes / 1048576) * 100) / 100;
const handoffSeconds = lastResumeAt ? (lastResumeAt - sigtermAt) / 1000 : null;
const result = {
  connections: N,
  connected: conns.length,
  connect_failures: connectFailures,
  connect_seconds: connectSeconds,
  open_at_sigterm: stillOpen,
  resumed: resumed.length,
  failed: conns.length - resumed.length,
  failures,
  not_sequence_samples: samples,
  handoff_seconds: handoffSeconds,
  resume_rate: handoffSeconds ? Math.round(resumed.length / handoffSeconds) : 0,
  a_exit_seconds: aExitedAt ? (aExitedAt - sigtermAt) / 1000 : null,
  // The driver's own CPU from the SIGTERM until every connection settled: near handoff_seconds means the
  // clients' core, not the gateways, set the pace.
  driver_cpu_seconds: Math.round((cpuToSettled.user + cpuToSettled.system) / 1e4) / 100,
  resume_latency_ms: { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.at(-1) ?? null },
  redis_mb: { empty: mb(emptyMemory.used), before: mb(before.used), peak: mb(after.peak), polled_max: mb(polledMax), after: mb(after.used) },
  redis_polls: polls,
  exists_on_b: existsOnB,
  exists_failures: existsFailures,
  b_handoffs_in_total: metricSum('switchboard_handoffs_in_total'),
  b_checkpoint_resumes_total: metricSum('switchboard_checkpoint_resumes_total'),
  b_handoff_failures: handoffFailureLines,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
redis.close();
for (const c of conns) c.ws.terminate();
process.exit(0);
