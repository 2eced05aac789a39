// Out of file descriptors: the running gateway's RLIMIT_NOFILE is lowered (util-linux `prlimit --pid`) to
// leave it a few free descriptors, and it is sent more sockets than it may open. Accepting fails with EMFILE while they stay in the backlog; the
// gateway must pause between attempts instead of spinning a core and logging every failure, and serve
// normally once descriptors are free again.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { READY, binPath, randomKey, startProgram, until } from './lib/processes.mjs';
import { restToken } from './lib/tokens.mjs';

const FREE_DESCRIPTORS = 24;

/** The open descriptor numbers of a process. */
function openDescriptors(pid) {
  return readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
}

/**
 * The RLIMIT_NOFILE that leaves `free` descriptor numbers unused below it. Counted from what the process has
 * open rather than fixed, because it may inherit descriptors from whatever started the test run.
 */
function limitLeavingFree(pid, free) {
  const open = new Set(openDescriptors(pid));
  let limit = 0;
  for (let unused = 0; unused < free; limit++) if (!open.has(limit)) unused++;
  return limit;
}

/** User + system CPU seconds the process has used, from /proc/PID/stat. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ = 100)
}

// Not under the sanitizers: their runtime needs descriptors too. UBSan's vptr check probes memory through a
// pipe(2), which fails with EMFILE, so it reports a valid object as having an invalid vptr and aborts.
const skip = process.env.SWITCHBOARD_SANITIZED ? 'the sanitizer runtime itself fails without descriptors' : false;

let gateway;
let key;
const sockets = [];

before(async () => {
  if (skip) return;
  key = randomKey();
  gateway = await startProgram('switchboard', ['--listen', '127.0.0.1:0', '--access-key', key, '--threads', '1'],
    { ready: READY.gateway });
  const pid = gateway.child.pid;
  const limit = limitLeavingFree(pid, FREE_DESCRIPTORS);
  execFileSync('/usr/bin/prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
});

after(async () => {
  for (const s of sockets) s.destroy();
  await gateway?.stop();
});

test('accept failures for lack of descriptors neither spin nor flood the log, and the gateway recovers', { skip }, async () => {
  const port = new URL(gateway.url).port;
  const opened = [];
  for (let i = 0; i < FREE_DESCRIPTORS * 4; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    sockets.push(socket);
    opened.push(new Promise((resolve) => socket.once('connect', resolve)));
  }
  await Promise.all(opened);  // the kernel completes them all; the gateway can accept only some
  await until(() => gateway.stderr().includes('accept_failed'), { what: 'an accept_failed log line' });

  const pid = gateway.child.pid;
  const cpuBefore = cpuSeconds(pid);
  const linesBefore = gateway.stderr().split('accept_failed').length;
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 2_000));  // a window to observe, not an event to await
  const cpuUsed = cpuSeconds(pid) - cpuBefore;
  const seconds = (Date.now() - startedAt) / 1000;
  const lines = gateway.stderr().split('accept_failed').length - linesBefore;
  // A spinning accept loop uses a whole core (~2 s here) and logs thousands of lines.
  assert.ok(cpuUsed < 0.5 * seconds, `the gateway used ${cpuUsed} s of CPU in ${seconds} s while out of descriptors`);
  assert.ok(lines <= Math.ceil(seconds) + 1, `${lines} accept_failed lines in ${seconds} s`);

  for (const s of sockets.splice(0)) s.destroy();
  // Descriptors are free again: a REST call is answered (the backlog drains first). Each attempt has its own
  // deadline so that one request stuck behind the backlog does not use up the whole wait.
  const url = `${gateway.url}/api/v1/hubs/e2e/users/nobody`;
  let lastOutcome = 'no attempt';
  await until(async () => {
    try {
      const res = await fetch(url, {
        method: 'HEAD', headers: { authorization: `Bearer ${restToken(url, key)}` }, signal: AbortSignal.timeout(3_000),
      });
      lastOutcome = `status ${res.status}`;
      return res.status === 404;
    } catch (error) {
      lastOutcome = `${error.name}: ${error.cause?.code ?? error.message}`;
      return false;
    }
  }, {
    timeoutMs: 35_000,
    what: () => `a REST answer after the descriptors were freed (last: ${lastOutcome}; ` +
      `${existsSync(`/proc/${pid}`) ? `${openDescriptors(pid).length} descriptors open` : 'the gateway exited'}; ` +
      `its last log lines:\n` +
      `${gateway.stderr().split('\n').slice(-8).join('\n')})`,
  });
});

test('at start-up the gateway raises its soft descriptor limit to the hard one', async () => {
  // Started as a service manager would leave it: soft 1024, hard 8192.
  const raised = await startProgram('/usr/bin/prlimit', ['--nofile=1024:8192', binPath('switchboard'),
    '--listen', '127.0.0.1:0', '--access-key', randomKey(), '--threads', '1'], { ready: READY.gateway, name: 'switchboard' });
  try {
    const line = readFileSync(`/proc/${raised.child.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map(Number);
    assert.deepEqual([soft, hard], [8192, 8192], line);
    await until(() => /descriptor_limit before=1024 after=8192 hard=8192/.test(raised.stderr()), { what: 'the log line' });
  } finally {
    await raised.stop();
  }
});
