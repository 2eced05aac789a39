// A fleet for the scale-out tests: a real redis-server on a free loopback port (no persistence), one
// e2e-functions process, and several gateways pointed at both. Each gateway gets a "stack" view
// ({gatewayUrl, key, functionsUrl, gatewayLog}) so the usual helpers (Clients, rest) work per gateway.

import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Clients } from './client.mjs';
import { READY, randomKey, startProgram, until } from './processes.mjs';

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** A free TCP port on 127.0.0.1 (redis-server has no "pick one for me"). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server; resolves to {port, url, handle, start(), kill(), stop()}. start() restarts it on
 * the same port. `args`: more redis-server options (e.g. ['--requirepass', 'pw']); `url`: the URL the
 * gateways get, made from the port (default redis://127.0.0.1:PORT); `tls`: listen with TLS only,
 * given {certFile, keyFile, caFile, authClients ('no'|'yes')}.
 */
export async function startRedis({ args = [], url = (port) => `redis://127.0.0.1:${port}`, tls } = {}) {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (scripts/setup.sh installs it)');
  const port = await freePort();
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile,
      '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', tls.authClients ?? 'no']
    : ['--port', String(port)];
  // Its own working directory: a replica's full sync writes dump.rdb there even with --save ''.
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const redis = {
    port,
    url: url(port),
    handle: undefined,
    async start() {
      redis.handle = await startProgram(REDIS_SERVER, [
        ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', dir, ...args,
      ], { ready: /Ready to accept connections/, name: 'redis-server' });
    },
    /** SIGKILL: Redis vanishes as in a crash. */
    async kill() {
      redis.handle.child.kill('SIGKILL');
      await redis.handle.exited;
    },
    async stop() {
      await redis.handle?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/** GET /health/ready's status ("ready", "degraded", "draining"), or undefined when unreachable. */
export async function readiness(gateway) {
  try {
    const res = await fetch(`${gateway.gatewayUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) });
    return (await res.json()).status;
  } catch {
    return undefined;
  }
}

/** One gateway's metric value from /metrics (0 when absent). */
export async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.gatewayUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/**
 * Starts Redis, e2e-functions and `count` gateways, and waits until every gateway is in sync with
 * Redis. Resolves to {redis, functions, gateways: [view…], key, startGateway(), stop()}.
 * With `functions: false` there is no e2e-functions and the gateways get no --upstream (for a sample
 * that only pushes through the REST API); `functions` and `functionsUrl` are then undefined.
 * `redis`: startRedis's options; `redisArgs`: the gateways' Redis options instead of `--redis URL`.
 */
export async function startFleet({
  count = 2, gatewayArgs = [], key = randomKey(), functions: withFunctions = true, redis: redisOptions,
  redisArgs,
} = {}) {
  const redis = await startRedis(redisOptions);
  let functions;
  try {
    if (withFunctions) {
      functions = await startProgram('e2e-functions', ['--listen', '127.0.0.1:0', '--access-key', key], {
        ready: READY.functions,
      });
    }
  } catch (err) {
    await redis.stop();
    throw err;
  }
  const upstream = functions ? ['--upstream', `${functions.url}/upstream`] : [];
  const fleet = {
    redis,
    functions,
    functionsUrl: functions?.url,
    key,
    gateways: [],
    async startGateway(extraArgs = []) {
      const handle = await startProgram('switchboard', [
        '--listen', '127.0.0.1:0', '--access-key', key, '--threads', '2',
        ...upstream, ...(redisArgs ?? ['--redis', redis.url]), ...gatewayArgs, ...extraArgs,
      ], { ready: READY.gateway, name: `switchboard#${fleet.gateways.length}` });
      const view = {
        gatewayUrl: handle.url,
        functionsUrl: functions?.url,
        key,
        handle,
        gatewayLog: () => handle.stderr(),
      };
      fleet.gateways.push(view);
      await until(async () => (await readiness(view)) === 'ready', { what: `${handle.name} in sync with Redis` });
      return view;
    },
    async stop() {
      for (const g of fleet.gateways) await g.handle.stop();
      await functions?.stop();
      await redis.stop();
    },
  };
  try {
    for (let i = 0; i < count; i += 1) await fleet.startGateway();
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return fleet;
}

/**
 * Clients for a fleet's gateways behind a balancer (connect with `baseUrl: balancer.url`). Tokens are
 * minted for the first gateway's URL: the audience ignores the port, so they fit the balancer and every
 * successor. A failed test prints the last `tail` characters of every gateway's log, then `moreLog()`.
 */
export function fleetClients(fleet, { tail = 1_500, moreLog } = {}) {
  return new Clients({
    gatewayUrl: fleet.gateways[0].gatewayUrl,
    key: fleet.key,
    functionsUrl: fleet.functionsUrl,
    gatewayLog: () => [
      ...fleet.gateways.map((g) => `[${g.handle.name} ${g.gatewayUrl}]\n${g.gatewayLog().slice(-tail)}`),
      ...(moreLog ? [moreLog()] : []),
    ].join('\n'),
  });
}
