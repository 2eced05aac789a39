// The driver of bench/fleet_log_capacity.sh: one fleet log (a Redis Stream) with one writer and R readers,
// as a fleet uses it (gateway/fleet_log/stream_fanout.cpp), to see how far one Redis core takes it.
//
// - The writer: one connection pipelining
//     XADD KEY MINID ~ <now - retention ms> * e <PAYLOAD bytes>
//   at most WINDOW unanswered at a time, at RATE appends/s (0: as fast as the answers come back). The
//   commands due are written in one batch (one MINID per batch: it moves by the millisecond).
// - R readers: a connection each, looping XREAD COUNT 1000 BLOCK 5000 STREAMS KEY <last id> (one read in
//   flight per reader, the next sent as soon as the answer is parsed, as a gateway does) and counting
//   entries. They start blocked at 0-0 on an empty key, before the first append, so every reader must
//   end up with every entry.
// The writer runs DURATION s (the window). At its end: appends answered, entries read per reader (lag =
// appends answered − entries read), redis-server's utime+stime (/proc/PID/stat, all its threads) and this
// process's CPU (process.cpuUsage) over the window, and INFO commandstats (reset at the window's start).
// Then the readers drain: the time until every reader has every appended entry (capped by --drain),
// and INFO memory once drained.
//
// A small RESP client over node:net, as in bench/handoff_clients.mjs, but on Buffers: a reader's answer
// (1000 entries ≈ 250 KB) is walked entry by entry as it arrives, payloads skipped by length, and only the
// unparsed tail of a chunk is kept. Deliveries cost the driver about as much as parsing them does, so at
// high R this one process on one core may be the limit, not Redis: compare driver_cpu_s with the window.
//
// Prints one JSON object on stdout; progress on stderr.
//
// Usage: node bench/fleet_log_capacity.mjs --redis-port P --redis-pid PID [--readers R] [--rate N|max]
//          [--duration S] [--payload BYTES] [--window N] [--retention-ms MS] [--key K] [--drain S] [--clk-tck HZ]

import net from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RedisControl, encodeCommand as encode } from './redis_control.mjs';

const { values: opt } = parseArgs({
  options: {
    'redis-port': { type: 'string' },
    'redis-pid': { type: 'string' },
    readers: { type: 'string', default: '10' },
    rate: { type: 'string', default: 'max' },
    duration: { type: 'string', default: '5' },
    payload: { type: 'string', default: '200' },
    window: { type: 'string', default: '1000' },
    'retention-ms': { type: 'string', default: '30000' },
    key: { type: 'string', default: 'switchboard:log' },
    drain: { type: 'string', default: '10' },
    'clk-tck': { type: 'string', default: '100' },
  },
});
for (const k of ['redis-port', 'redis-pid']) if (!opt[k]) throw new Error(`--${k} is required`);

const PORT = Number(opt['redis-port']);
const REDIS_PID = Number(opt['redis-pid']);
const READERS = Number(opt.readers);
const RATE = opt.rate === 'max' ? 0 : Number(opt.rate);
const DURATION_MS = Number(opt.duration) * 1000;
const PAYLOAD_BYTES = Number(opt.payload);
const WINDOW = Number(opt.window);
const RETENTION_MS = Number(opt['retention-ms']);
const KEY = opt.key;
const DRAIN_MS = Number(opt.drain) * 1000;
const CLK_TCK = Number(opt['clk-tck']);

const progress = (text) => process.stderr.write(`[fleet_log_capacity ${new Date().toISOString().slice(11, 23)}] ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const CR = 13;

function connect() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(PORT, '127.0.0.1');
    socket.setNoDelay(true);
    socket.once('connect', () => { socket.removeListener('error', reject); resolve(socket); });
    socket.once('error', reject);
  });
}

// --- RESP on Buffers ------------------------------------------------------------------------------------

// The integer of the line that starts at `at` (after its type byte) and where the line ends, or undefined
// when the line is not complete in `buf`.
function lineInt(buf, at) {
  let i = at + 1;
  let negative = false;
  if (buf[i] === 45) { negative = true; i += 1; } // '-'
  let n = 0;
  for (; i < buf.length; i += 1) {
    const c = buf[i];
    if (c === CR) {
      if (i + 1 >= buf.length) return undefined;
      return { n: negative ? -n : n, next: i + 2 };
    }
    n = n * 10 + (c - 48);
  }
  return undefined;
}

function failOnError(buf, at) {
  if (buf[at] !== 45) return; // '-'
  const eol = buf.indexOf('\r\n', at);
  throw new Error(`redis: ${buf.toString('latin1', at + 1, eol < 0 ? buf.length : eol)}`);
}

// --- the writer --------------------------------------------------------------------------------------

// A 200-byte envelope stand-in: printable, not a number (a listpack would store a numeric string as an
// integer), the same bytes every time (a stream does not deduplicate values).
const PAYLOAD = `{"p":"bench-gateway","a":"${'x'.repeat(PAYLOAD_BYTES)}`.slice(0, PAYLOAD_BYTES);

class Writer {
  sent = 0;
  acked = 0;
  lastId = '';
  #socket;
  #buf = null;
  #pos = 0;
  #running = false;
  #startedAt = 0;
  #timer = null;
  #onIdle = null;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#onData(chunk));
  }

  #onData(chunk) {
    if (this.#buf && this.#pos < this.#buf.length) this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    else this.#buf = chunk;
    this.#pos = 0;
    const buf = this.#buf;
    for (;;) {
      const at = this.#pos;
      if (at >= buf.length) break;
      failOnError(buf, at);
      const line = lineInt(buf, at); // `$len` of the new entry's id
      if (!line) break;
      if (buf.length < line.next + line.n + 2) break;
      this.#pos = line.next + line.n + 2;
      this.acked += 1;
      if (this.acked === this.sent) this.lastId = buf.toString('latin1', line.next, line.next + line.n);
    }
    if (this.#running) this.#pump();
    else if (this.acked === this.sent && this.#onIdle) this.#onIdle();
  }

  // Writes every command due (RATE × time since start, or as many as the window allows) in one batch.
  #pump() {
    let n = WINDOW - (this.sent - this.acked);
    if (RATE > 0) n = Math.min(n, Math.floor((RATE * (performance.now() - this.#startedAt)) / 1000) - this.sent);
    if (n <= 0) return;
    const floor = String(Math.max(0, Date.now() - RETENTION_MS));
    this.#socket.write(encode('XADD', KEY, 'MINID', '~', floor, '*', 'e', PAYLOAD).repeat(n));
    this.sent += n;
  }

  start() {
    this.#running = true;
    this.#startedAt = performance.now();
    this.#pump();
    // At a target rate, also pump on a clock: answers alone do not come when the window is not full.
    if (RATE > 0) this.#timer = setInterval(() => this.#pump(), 1);
  }

  /** Stops sending; resolves once every append sent is answered. */
  stop() {
    this.#running = false;
    clearInterval(this.#timer);
    return new Promise((resolve) => {
      this.#onIdle = resolve;
      if (this.acked === this.sent) resolve();
    });
  }
}

// --- the readers -------------------------------------------------------------------------------------

class Reader {
  entries = 0;
  reads = 0;
  emptyReads = 0;
  lastId = '0-0';
  #socket;
  #buf = null;
  #pos = 0;
  #remaining = -1; // entries left in the answer being parsed; -1 waiting for an answer's header
  #stopped = false;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#onData(chunk));
  }

  read() {
    if (this.#stopped) return;
    this.#socket.write(encode('XREAD', 'COUNT', '1000', 'BLOCK', '5000', 'STREAMS', KEY, this.lastId));
  }

  stop() { this.#stopped = true; this.#socket.destroy(); }

  #onData(chunk) {
    if (this.#buf && this.#pos < this.#buf.length) this.#buf = Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    else this.#buf = chunk;
    this.#pos = 0;
    while (this.#step());
  }

  // Parses what it can at #pos: an answer's header or one entry. False when it needs more bytes.
  #step() {
    const buf = this.#buf;
    let at = this.#pos;
    if (at >= buf.length) return false;
    if (this.#remaining < 0) {
      // *1 [ *2 [ $key, *n [entries] ] ], or a null array (*-1) when the block timed out.
      failOnError(buf, at);
      const outer = lineInt(buf, at);
      if (!outer) return false;
      if (outer.n < 0) {
        this.#pos = outer.next;
        this.reads += 1;
        this.emptyReads += 1;
        this.read();
        return true;
      }
      const pair = lineInt(buf, outer.next);
      if (!pair) return false;
      const key = lineInt(buf, pair.next);
      if (!key || buf.length < key.next + key.n + 2) return false;
      const count = lineInt(buf, key.next + key.n + 2);
      if (!count) return false;
      this.#pos = count.next;
      this.reads += 1;
      if (count.n > 0) this.#remaining = count.n;
      else this.read();
      return true;
    }
    // An entry: *2 [ $id, *F [ field, value, … ] ].
    const entry = lineInt(buf, at);
    if (!entry) return false;
    const id = lineInt(buf, entry.next);
    if (!id) return false;
    const idStart = id.next;
    const idEnd = idStart + id.n;
    if (buf.length < idEnd + 2) return false;
    const fields = lineInt(buf, idEnd + 2);
    if (!fields) return false;
    at = fields.next;
    for (let i = 0; i < fields.n; i += 1) {
      const bulk = lineInt(buf, at);
      if (!bulk || buf.length < bulk.next + bulk.n + 2) return false;
      at = bulk.next + bulk.n + 2;
    }
    this.#pos = at;
    this.entries += 1;
    this.#remaining -= 1;
    if (this.#remaining === 0) {
      this.lastId = buf.toString('latin1', idStart, idEnd);
      this.#remaining = -1;
      this.read();
    }
    return true;
  }
}

// --- measurement -------------------------------------------------------------------------------------

function redisCpuSeconds() {
  // Fields after the ")" that closes comm: utime is the 12th, stime the 13th (as bench/lib.sh's cpu_s).
  const f = readFileSync(`/proc/${REDIS_PID}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function commandStat(stats, name) {
  const text = stats[`cmdstat_${name}`];
  if (!text) return null;
  const o = Object.fromEntries(text.split(',').map((kv) => kv.split('=')));
  return { calls: Number(o.calls), usec_per_call: Number(o.usec_per_call) };
}

const control = new RedisControl(await connect());
await control.command('DEL', KEY);
const writer = new Writer(await connect());
const readers = [];
for (let i = 0; i < READERS; i += 1) readers.push(new Reader(await connect()));
for (const r of readers) r.read();
// Every reader blocked on the key before the first append.
for (let i = 0; i < 200; i += 1) {
  const blocked = Number((await control.info('clients')).blocked_clients);
  if (blocked >= READERS) break;
  await sleep(10);
}
await control.command('CONFIG', 'RESETSTAT');

progress(`${READERS} readers blocked; writing ${RATE ? `${RATE}/s` : 'as fast as possible'} for ${DURATION_MS / 1000} s`);
const redisCpu0 = redisCpuSeconds();
const driverCpu0 = process.cpuUsage();
const t0 = performance.now();
writer.start();
await sleep(DURATION_MS);
// The window ends here: counts, CPU.
const t1 = performance.now();
const windowS = (t1 - t0) / 1000;
const appendedInWindow = writer.acked;
const readInWindow = readers.map((r) => r.entries);
const redisCpuS = redisCpuSeconds() - redisCpu0;
const driverCpu = process.cpuUsage(driverCpu0);
const driverCpuS = (driverCpu.user + driverCpu.system) / 1e6;
await writer.stop();
const stats = await control.info('commandstats');
const appended = writer.acked;

// Drain: until every reader has every entry, or the cap.
const drainStart = performance.now();
while (readers.some((r) => r.entries < appended) && performance.now() - drainStart < DRAIN_MS) await sleep(5);
const drained = readers.every((r) => r.entries >= appended);
const drainS = (performance.now() - drainStart) / 1000;
const memory = await control.info('memory');
const xlen = Number(await control.command('XLEN', KEY));
progress(`window ${windowS.toFixed(2)} s: ${appendedInWindow} appends, ${readInWindow.reduce((a, b) => a + b, 0)} deliveries; ` +
  `${drained ? `drained in ${drainS.toFixed(2)} s` : `NOT drained after ${drainS.toFixed(1)} s`}`);

const lags = readInWindow.map((n) => Math.max(0, appendedInWindow - n));
const deliveries = readInWindow.reduce((a, b) => a + b, 0);
const reads = readers.reduce((a, r) => a + r.reads, 0);
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const appendRate = appendedInWindow / windowS;
const result = {
  readers: READERS,
  target_rate: RATE || 'max',
  window_s: round(windowS, 3),
  appends: appendedInWindow,
  appends_per_s: Math.round(appendRate),
  deliveries,
  deliveries_per_s: Math.round(deliveries / windowS),
  lag_max_entries: Math.max(...lags),
  lag_mean_entries: Math.round(lags.reduce((a, b) => a + b, 0) / lags.length),
  lag_max_s: appendRate > 0 ? round(Math.max(...lags) / appendRate, 3) : 0,
  drained,
  drain_s: round(drainS, 3),
  redis_cpu_s: round(redisCpuS, 3),
  redis_cpu_share: round(redisCpuS / windowS, 3),
  redis_cpu_s_per_m_deliveries: deliveries ? round(redisCpuS / (deliveries / 1e6), 3) : null,
  redis_cpu_s_per_m_appends: appendedInWindow ? round(redisCpuS / (appendedInWindow / 1e6), 3) : null,
  driver_cpu_s: round(driverCpuS, 3),
  driver_cpu_share: round(driverCpuS / windowS, 3),
  entries_per_read: reads ? round(readers.reduce((a, r) => a + r.entries, 0) / reads, 1) : 0,
  empty_reads: readers.reduce((a, r) => a + r.emptyReads, 0),
  xadd: commandStat(stats, 'xadd'),
  xread: commandStat(stats, 'xread'),
  used_memory_mb: round(Number(memory.used_memory) / 1048576),
  xlen,
  total_appended: appended,
  payload_bytes: PAYLOAD_BYTES,
  window: WINDOW,
  retention_ms: RETENTION_MS,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
for (const r of readers) r.stop();
control.close();
process.exit(0);
