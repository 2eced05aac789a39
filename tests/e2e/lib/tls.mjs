// TLS for the e2e tests: certificates made with the `openssl` CLI at test time (a CA of our own and
// leaf certificates for 127.0.0.1 it signs), and clients that trust that CA through their options,
// never through NODE_TLS_REJECT_UNAUTHORIZED: @microsoft/signalr's httpClient, WebSocket and
// EventSource options, an https.Agent for REST calls, tls.connect for fingerprints.

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import signalR from '@microsoft/signalr';
import EventSource from 'eventsource';
import WebSocket from 'ws';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA in `dir`: {dir, caFile, ca (PEM text)}. */
export function makeCa(dir) {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=switchboard e2e CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign'], dir);
  return { dir, caFile: path.join(dir, 'ca.pem'), ca: readFileSync(path.join(dir, 'ca.pem'), 'utf8') };
}

/**
 * A leaf certificate for 127.0.0.1 and localhost signed by `ca`: {certFile, keyFile, fingerprint256}
 * (fingerprint in Node's "AB:CD:…" form). `usage`: its extendedKeyUsage ('serverAuth', 'clientAuth',
 * or both comma-separated); `names`: its subjectAltName.
 */
export function makeLeaf(ca, name, { usage = 'serverAuth', names = 'IP:127.0.0.1,DNS:localhost' } = {}) {
  const { dir } = ca;
  writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${names}\n` +
    `extendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
    '-subj', `/CN=${name}`], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  const certFile = path.join(dir, `${name}.pem`);
  return {
    certFile,
    keyFile: path.join(dir, `${name}.key`),
    fingerprint256: new X509Certificate(readFileSync(certFile)).fingerprint256,
  };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is shown. */
export function peerFingerprint(url, ca) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, servername: undefined }, () => {
      const { fingerprint256 } = socket.getPeerCertificate();
      socket.end();
      resolve(fingerprint256);
    });
    socket.on('error', reject);
  });
}

/** An https request trusting `ca` → {status, headers, text, json}. */
export function httpsRequest(url, { ca, method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca, agent: false, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** @microsoft/signalr's HttpClient over node:https with our CA (negotiate, long polling, SSE sends). */
class CaHttpClient extends signalR.HttpClient {
  constructor(ca) {
    super();
    this.agent = new https.Agent({ ca, keepAlive: false });  // nothing left open when a test ends
  }

  send(request) {
    return new Promise((resolve, reject) => {
      if (request.abortSignal?.aborted) return reject(new signalR.AbortError());
      const req = https.request(request.url, { method: request.method, headers: request.headers ?? {}, agent: this.agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buffer = Buffer.concat(chunks);
          const content = request.responseType === 'arraybuffer'
            ? buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length)
            : buffer.toString('utf8');
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(new signalR.HttpResponse(res.statusCode, res.statusMessage, content));
          else reject(new signalR.HttpError(res.statusMessage || `status ${res.statusCode}`, res.statusCode));
        });
        res.on('error', reject);
      });
      req.on('error', (err) => reject(request.abortSignal?.aborted ? new signalR.AbortError() : err));
      if (request.abortSignal) {
        request.abortSignal.onabort = () => {
          req.destroy();
          reject(new signalR.AbortError());
        };
      }
      if (request.timeout) req.setTimeout(request.timeout, () => req.destroy(new signalR.TimeoutError()));
      if (request.content !== undefined && request.content !== null && request.content !== '') {
        req.write(typeof request.content === 'string' ? request.content : Buffer.from(request.content));
      }
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}

/** withUrl options making @microsoft/signalr (8.x) trust `ca` on every transport. */
export function signalrTlsOptions(ca) {
  return {
    httpClient: new CaHttpClient(ca),
    WebSocket: class extends WebSocket {
      constructor(url, protocols, options) {
        super(url, protocols, { ...options, ca });
      }
    },
    EventSource: class extends EventSource {
      constructor(url, init) {
        super(url, { ...init, https: { ca } });
      }
    },
  };
}
