// Starts the real programs from build/bin on 127.0.0.1 with ephemeral ports and stops them again.
//
// A program is ready when a line of its stdout matches the ready regex (its first capture group is the
// URL). stderr is kept (the last 256 KiB) so that a failure can show what the program logged.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN_DIR = path.resolve(REPO_ROOT, process.env.SWITCHBOARD_BIN_DIR ?? path.join('build', 'bin'));

export const READY = {
  gateway: /switchboard listening on (https?:\/\/[^\s]+)/,
  functions: /e2e-functions listening on (http:\/\/[^\s]+)/,
  chat: /chat: (http:\/\/[^\s]+?)\/?\s*$/,
  presence: /presence: (http:\/\/[^\s]+?)\/?\s*$/,
  notifications: /notifications: (http:\/\/[^\s]+?)\/?\s*$/,
};

const STDERR_KEEP = 256 * 1024;
const live = new Set();

// Last resort: never leave a child behind if the test process exits without stopping it.
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export function binPath(name) {
  return path.join(BIN_DIR, name);
}

/**
 * Starts `command` (a name in build/bin or an absolute path) and resolves once a stdout line matches
 * `ready`. Resolves to {url, match, child, stderr(), stdout(), exited, stop()}.
 */
export async function startProgram(command, args, options = {}) {
  // Port 0 may pick a port that fetch and Chromium refuse to talk to (the Fetch standard's "bad ports",
  // e.g. 6667): start again until it doesn't.
  for (let attempt = 1; ; attempt++) {
    const handle = await startOnce(command, args, options);
    const port = Number(URL.canParse?.(handle.url ?? '') ? new URL(handle.url).port : 0);
    if (!FETCH_BAD_PORTS.has(port) || attempt === 5) return handle;
    await handle.stop();
  }
}

// The ports above 1023 in https://fetch.spec.whatwg.org/#port-blocking.
export const FETCH_BAD_PORTS = new Set([1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
  6668, 6669, 6679, 6697, 10080]);

async function startOnce(command, args, { ready, timeoutMs = 20_000, env, name } = {}) {
  const file = path.isAbsolute(command) ? command : binPath(command);
  const label = name ?? path.basename(file);
  if (!existsSync(file)) throw new Error(`${label}: ${file} does not exist (build it first)`);

  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  live.add(child);

  let stderrText = '';
  let stdoutText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderrText += chunk;
    if (stderrText.length > STDERR_KEEP) stderrText = stderrText.slice(-STDERR_KEEP);
    if (process.env.E2E_LOG) process.stderr.write(`[${label}] ${chunk}`);
  });

  let stopping = false;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, expected: stopping });
    });
  });

  const handle = {
    child,
    name: label,
    url: undefined,
    match: undefined,
    exited,
    stderr: () => stderrText,
    stdout: () => stdoutText,
    /** SIGTERM, then SIGKILL after `graceMs`. Resolves to {code, signal, killed}. */
    async stop({ graceMs = 5_000 } = {}) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), killed: false };
      child.kill('SIGTERM');
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first !== 'late') return { ...first, killed: false };
      child.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };

  const readyPromise = new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdoutText += chunk;
      if (stdoutText.length > STDERR_KEEP) stdoutText = stdoutText.slice(-STDERR_KEEP);
      if (handle.match) return;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        const m = ready.exec(line);
        if (m) {
          handle.match = m;
          handle.url = m[1]?.replace(/\/$/, '');
          resolve(handle);
          return;
        }
      }
    });
    child.on('error', (err) => reject(new Error(`${label}: cannot start ${file}: ${err.message}`)));
    exited.then(({ code, signal }) => {
      reject(new Error(`${label} exited (code ${code}, signal ${signal}) before it was ready.\n` +
        `stdout:\n${stdoutText}\nstderr:\n${stderrText}`));
    });
  });

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `${label} printed no ready line matching ${ready} within ${timeoutMs} ms.\n` +
      `stdout:\n${stdoutText}\nstderr:\n${stderrText}`)), timeoutMs);
  });
  try {
    return await Promise.race([readyPromise, timeout]);
  } catch (err) {
    await handle.stop({ graceMs: 1_000 });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export function randomKey() {
  return randomBytes(24).toString('base64url');
}

/**
 * Describes how a program ended after stop(): undefined when it ended as asked, else a message
 * (crashed, exited early, or needed SIGKILL).
 */
function endProblem(handle, result) {
  const { code, signal, killed } = result;
  if (killed) return `${handle.name} did not exit within the grace period after SIGTERM and was killed`;
  if (signal && signal !== 'SIGTERM') return `${handle.name} died with signal ${signal}`;
  return undefined;
}

/**
 * Starts e2e-functions, then the gateway pointed at it. Resolves to
 * {gatewayUrl, key, functionsUrl, gateway, functions, stop()}.
 * stop() stops both and throws if either crashed (signal other than SIGTERM) or ignored SIGTERM.
 */
export async function startStack({ gatewayArgs = [], key = randomKey(), upstream, upstreamsFirst = [] } = {}) {
  const functions = await startProgram('e2e-functions', ['--listen', '127.0.0.1:0', '--access-key', key], {
    ready: READY.functions,
  });
  let gateway;
  try {
    gateway = await startProgram('switchboard', [
      '--listen', '127.0.0.1:0',
      '--access-key', key,
      // Rules before the function's (first match wins), e.g. a hub routed elsewhere.
      ...upstreamsFirst.flatMap((rule) => ['--upstream', rule]),
      '--upstream', upstream ?? `${functions.url}/upstream`,
      ...gatewayArgs,
    ], { ready: READY.gateway });
  } catch (err) {
    await functions.stop();
    throw err;
  }
  const crashesWhileRunning = [];
  for (const h of [gateway, functions]) {
    h.exited.then((r) => {
      if (!r.expected) crashesWhileRunning.push(`${h.name} exited while the test ran (code ${r.code}, signal ${r.signal})`);
    });
  }

  return {
    gatewayUrl: gateway.url,
    functionsUrl: functions.url,
    key,
    gateway,
    functions,
    /** Gateway stderr, for failure messages. */
    gatewayLog: () => gateway.stderr(),
    async stop() {
      const gatewayEnd = await gateway.stop();
      const functionsEnd = await functions.stop();
      const problems = [
        ...crashesWhileRunning,
        endProblem(gateway, gatewayEnd),
        endProblem(functions, functionsEnd),
      ].filter(Boolean);
      if (problems.length) {
        throw new Error(`${problems.join('; ')}\n--- gateway stderr (tail) ---\n${gateway.stderr().slice(-8000)}`);
      }
    },
  };
}

/**
 * Fetches the events e2e-functions recorded: all of them, or those of one connection when a second
 * argument is given (it must be a real id: a closed HubConnection's connectionId is undefined).
 */
export async function functionEvents(stack, ...rest) {
  const [connectionId] = rest;
  if (rest.length && !connectionId) throw new Error('functionEvents: connectionId is empty (read it before the connection closed)');
  const url = new URL('/events', stack.functionsUrl);
  if (connectionId) url.searchParams.set('connectionId', connectionId);
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} -> ${res.status}`);
  return res.json();
}

/**
 * Polls `probe` until it returns a truthy value; resolves to that value. This waits for an event the
 * test cannot subscribe to (the function's event log); the deadline is a failure guard.
 */
export async function until(probe, { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = performance.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
