// A process's open file descriptors and resident memory, read from /proc (Linux), so a test can check
// that what a fault took is given back.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TCP_STATES = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

/** {fds, rssBytes} of process `pid` now. */
export function resources(pid) {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return { fds, rssBytes: kb * 1024 };
}

function hexPort(hex) {
  const [addr, port] = hex.split(':');
  const ip = addr.length === 8 ? addr.match(/../g).reverse().map((b) => parseInt(b, 16)).join('.') : addr;
  return `${ip}:${parseInt(port, 16)}`;
}

/**
 * What the process's descriptors are, for a failure message: counts by kind, and for TCP sockets
 * "local -> remote STATE" grouped with counts (e.g. 3 × "127.0.0.1:40000 -> 127.0.0.1:7071 CLOSE_WAIT").
 */
/** The process's TCP sockets: [{local, remote, state, kind: 'listening' | 'accepted' | 'outbound'}]. */
export function tcpSockets(pid) {
  const tcp = new Map();  // inode -> {local, remote, state}
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      tcp.set(f[9], { local: hexPort(f[1]), remote: hexPort(f[2]), state: TCP_STATES[f[3]] ?? f[3] });
    }
  }
  const mine = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }  // closed meanwhile
    const s = tcp.get(/^socket:\[(\d+)\]$/.exec(target)?.[1]);
    if (s) mine.push({ ...s });
  }
  const listening = new Set(mine.filter((s) => s.state === 'LISTEN').map((s) => s.local.split(':').pop()));
  for (const s of mine) {
    s.kind = s.state === 'LISTEN' ? 'listening' : listening.has(s.local.split(':').pop()) ? 'accepted' : 'outbound';
  }
  return mine;
}

/**
 * What the process's descriptors are, for a failure message: counts by kind, TCP sockets as
 * "accepted on ADDR STATE" or "to ADDR STATE".
 */
export function describeFds(pid) {
  const sockets = tcpSockets(pid);
  const kinds = new Map();
  const add = (k) => kinds.set(k, (kinds.get(k) ?? 0) + 1);
  for (const s of sockets) {
    add(s.kind === 'listening' ? `tcp listening on ${s.local}` : s.kind === 'accepted' ? `tcp accepted on ${s.local} ${s.state}` : `tcp to ${s.remote} ${s.state}`);
  }
  let other = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target;
    try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
    if (target.startsWith('socket:')) { other++; continue; }
    add(target.replace(/\d+/g, 'N'));
  }
  if (other > sockets.length) add(`other sockets (${other - sockets.length})`);
  return [...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n} × ${k}`).join('\n');
}

/**
 * Polls until process `pid` is back to `baseline`: exactly as many descriptors, and resident memory at
 * most `rssToleranceBytes` above. The deadline is a failure guard (the test waits for the process to
 * let go, which it cannot subscribe to); the error shows what is still open.
 */
export async function settles(pid, baseline, { rssToleranceBytes = 8 * 1024 * 1024, timeoutMs = 15_000, what = 'the fault' } = {}) {
  // Under AddressSanitizer freed memory sits in its quarantine (256 MiB), so RSS says nothing there;
  // LeakSanitizer checks for leaks at exit instead (scripts/test.sh sets SWITCHBOARD_SANITIZED).
  if (process.env.SWITCHBOARD_SANITIZED) rssToleranceBytes = Infinity;
  const deadline = performance.now() + timeoutMs;
  let now;
  for (;;) {
    now = resources(pid);
    if (now.fds === baseline.fds && now.rssBytes <= baseline.rssBytes + rssToleranceBytes) return now;
    if (performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const mib = (b) => (b / 1024 / 1024).toFixed(1);
  throw new Error(`after ${what}, the gateway did not return to its baseline within ${timeoutMs} ms: ` +
    `fds ${now.fds} (baseline ${baseline.fds}), RSS ${mib(now.rssBytes)} MiB ` +
    `(baseline ${mib(baseline.rssBytes)} MiB, tolerance +${mib(rssToleranceBytes)} MiB)\n` +
    `open descriptors now:\n${describeFds(pid)}`);
}
