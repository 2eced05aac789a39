// Real @microsoft/signalr clients against the gateway, the way an app hands them out:
// url `${gateway}/client/?hub=e2e` plus an access token minted with the gateway's key.
//
// Two client versions: 8.0.x from the root package.json, and 10.0.x from tests/e2e/clients/v10 (its own
// package.json and node_modules, installed with `npm ci --prefix tests/e2e/clients/v10`). The v10 modules
// are imported by path, so each version's msgpack protocol resolves its own @microsoft/signalr.

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import signalR from '@microsoft/signalr';
import msgpack from '@microsoft/signalr-protocol-msgpack';
import { clientToken } from './tokens.mjs';

export const { HubConnectionBuilder, HubConnectionState, HttpTransportType, JsonHubProtocol, LogLevel, MessageType } = signalR;

const V10_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../clients/v10/node_modules/@microsoft');

/** Loads a version's modules; an error (not installed) is kept and thrown when that version is asked for. */
async function importV10() {
  try {
    const [core, mp] = await Promise.all([
      import(pathToFileURL(path.join(V10_DIR, 'signalr/dist/cjs/index.js')).href),
      import(pathToFileURL(path.join(V10_DIR, 'signalr-protocol-msgpack/dist/cjs/index.js')).href),
    ]);
    return { signalR: core.default, msgpack: mp.default };
  } catch (err) {
    return { error: new Error(`@microsoft/signalr 10 is not installed under tests/e2e/clients/v10 ` +
      `(run: npm ci --prefix tests/e2e/clients/v10): ${err.message}`) };
  }
}

const MODULES = { 8: { signalR, msgpack }, 10: await importV10() };

/** The client versions of the matrix (major versions). */
export const CLIENT_VERSIONS = [8, 10];

/**
 * The modules of client major `version` (8 or 10): {signalR, msgpack, version (the full version string)}.
 * Throws when that version is not installed.
 */
export function clientModules(version = 8) {
  const m = MODULES[version];
  if (!m) throw new Error(`no @microsoft/signalr client version ${version} in the matrix (${CLIENT_VERSIONS})`);
  if (m.error) throw m.error;
  if (!m.signalR.VERSION.startsWith(`${version}.`) || m.msgpack.VERSION !== m.signalR.VERSION) {
    throw new Error(`client ${version}: loaded @microsoft/signalr ${m.signalR.VERSION} with msgpack ${m.msgpack.VERSION}`);
  }
  return { ...m, version: m.signalR.VERSION };
}

/** A hub protocol class of `base` that keeps every message the client parsed (so a test can see raw Completions). */
function tapped(base) {
  return class extends base {
    constructor() {
      super();
      this.received = [];
    }

    parseMessages(input, logger) {
      const messages = super.parseMessages(input, logger);
      this.received.push(...messages);
      return messages;
    }
  };
}

const protocolClasses = new Map();
function protocolClass(version, name) {
  const key = `${version}/${name}`;
  if (!protocolClasses.has(key)) {
    const { signalR: s, msgpack: m } = clientModules(version);
    protocolClasses.set(key, tapped(name === 'messagepack' ? m.MessagePackHubProtocol : s.JsonHubProtocol));
  }
  return protocolClasses.get(key);
}

/** Every transport × protocol pair the JS client can use (MessagePack needs Binary, which SSE lacks). */
export const TRANSPORT_PROTOCOLS = [
  ['WebSockets', 'json'], ['WebSockets', 'messagepack'],
  ['ServerSentEvents', 'json'],
  ['LongPolling', 'json'], ['LongPolling', 'messagepack'],
];

/** Keeps the client's log lines for failure messages; prints them only with E2E_LOG=1. */
class MemoryLogger {
  constructor(label) {
    this.label = label;
    this.lines = [];
  }

  log(level, message) {
    if (level < LogLevel.Information && !process.env.E2E_LOG) return;
    const line = `${LogLevel[level]}: ${message}`;
    this.lines.push(line);
    if (this.lines.length > 500) this.lines.shift();
    if (process.env.E2E_LOG) process.stderr.write(`[client ${this.label}] ${line}\n`);
  }
}

/**
 * Builds (does not start) a HubConnection.
 * Options: user, hub ('e2e'), query (extra query string, e.g. 'welcome=1'), transport (WebSockets),
 * claims, token (overrides the minted one), protocol ('json' | 'messagepack'), version (client major: 8 or 10),
 * stateful (withStatefulReconnect), baseUrl (connect through another address, e.g. a proxy),
 * reconnect (withAutomaticReconnect's argument: an array of delays or an IRetryPolicy; absent: no reconnect),
 * skipNegotiation (WebSockets only: connect without negotiating), httpOptions (more withUrl options, e.g.
 * lib/tls.mjs's signalrTlsOptions).
 * The connection gets: `received` (every parsed message), `logs`, and `closed` (a promise for the
 * onclose error, undefined when it closed cleanly), `clientVersion` (the full version string).
 */
export function buildConnection(stack, { user, hub = 'e2e', query, transport = HttpTransportType.WebSockets, claims, token, protocol: protocolName = 'json', version = 8, stateful = false, baseUrl, reconnect, skipNegotiation = false, httpOptions = {} } = {}) {
  const { signalR: s, version: clientVersion } = clientModules(version);
  const url = `${baseUrl ?? stack.gatewayUrl}/client/?hub=${hub}${query ? `&${query}` : ''}`;
  const accessToken = token ?? clientToken(stack.gatewayUrl, stack.key, { user, hub, claims });
  const Protocol = protocolClass(version, protocolName === 'messagepack' ? 'messagepack' : 'json');
  const protocol = new Protocol();
  if (typeof transport === 'string') transport = s.HttpTransportType[transport];
  const logger = new MemoryLogger(`${user ?? 'anonymous'} v${version}`);
  let builder = new s.HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory: () => accessToken, transport, skipNegotiation, ...httpOptions })
    .withHubProtocol(protocol)
    .configureLogging(logger);
  if (stateful) builder = builder.withStatefulReconnect();
  if (reconnect) builder = builder.withAutomaticReconnect(reconnect);
  const connection = builder.build();
  connection.received = protocol.received;
  connection.logs = logger.lines;
  connection.clientVersion = clientVersion;
  connection.closed = new Promise((resolve) => connection.onclose((error) => resolve(error)));
  return connection;
}

/** Tracks the connections a test builds and stops them all afterwards. */
export class Clients {
  constructor(stack) {
    this.stack = stack;
    this.connections = [];
  }

  build(options) {
    const connection = buildConnection(this.stack, options);
    this.connections.push(connection);
    return connection;
  }

  async connect(options) {
    const connection = this.build(options);
    await withTimeout(connection.start(), 10_000, `start() for user ${options?.user}`);
    return connection;
  }

  /**
   * For afterEach: when the test failed, prints the gateway's recent stderr and each client's log
   * (node:test shows them with the failure), then stops every connection.
   */
  async cleanUp(t) {
    if (t && t.passed === false) {
      const lines = [`--- after failure of "${t.name}" ---`];
      if (this.stack.gatewayLog) lines.push('gateway stderr (tail):', this.stack.gatewayLog().slice(-4000));
      for (const c of this.connections) {
        lines.push(`client ${c.connectionId ?? '(closed)'} log (tail):`, ...c.logs.slice(-15));
      }
      console.log(lines.join('\n'));
    }
    await this.stopAll();
  }

  async stopAll() {
    const all = this.connections;
    this.connections = [];
    await Promise.all(all.map((c) => withTimeout(c.stop(), 10_000, 'stop()').catch(() => {})));
  }
}

/** Rejects when `promise` does not settle within `ms` (a failure guard, not a wait). */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * A promise for the next `n` invocations of `target` on `connection`: resolves to an array of
 * argument arrays. Subscribe before triggering the messages.
 */
export function nextMessages(connection, target, n = 1, { timeoutMs = 5_000 } = {}) {
  return new Promise((resolve, reject) => {
    const got = [];
    const handler = (...args) => {
      got.push(args);
      if (got.length === n) {
        done();
        resolve(got);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} '${target}' message(s); got ${got.length}: ${JSON.stringify(got)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      connection.off(target, handler);
    };
    connection.on(target, handler);
  });
}

/** Records every invocation of `target` on `connection` into the returned array (for "did not receive" checks). */
export function recordMessages(connection, target) {
  const got = [];
  connection.on(target, (...args) => { got.push(args); });
  return got;
}
