// Request limits (docs/security.md "Limits"): a URL over --max-url-bytes gets 414 and a query with
// more than --max-query-parameters parameters 400, both with our JSON error body; REST paths with a
// '..' segment, an encoded '/' in the hub name, an encoded NUL or a 5 KB name get a clear 4xx; an
// over-long token gets 401 without being decoded, or 431 when it no longer fits the header limit.
// Each is followed by a working request on the same gateway.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './lib/processes.mjs';
import { restToken } from './lib/tokens.mjs';

/** A request with the path exactly as given (fetch would collapse '..'), → {status, json, text}. */
function rawRequest(base, method, pathAndQuery, headers = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: pathAndQuery, headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

describe('request limits', { timeout: 60_000 }, () => {
  let stack;
  before(async () => {
    stack = await startStack({ gatewayArgs: ['--max-query-parameters', '20'] });
  });
  after(async () => {
    await stack?.stop();
  });

  const auth = (path) => ({ authorization: `Bearer ${restToken(`${stack.gatewayUrl}${path}`, stack.key)}` });

  async function assertStillServing() {
    const path = '/api/v1/hubs/e2e/users/someone';
    const res = await rawRequest(stack.gatewayUrl, 'HEAD', path, auth(path));
    assert.equal(res.status, 404, 'a normal REST call still works');
  }

  test('a URL over 8 KiB gets 414 with a JSON error, on REST and on negotiate', async () => {
    for (const path of [`/api/v1/hubs/e2e/users/${'u'.repeat(9000)}`, `/client/negotiate?hub=e2e&x=${'a'.repeat(9000)}`]) {
      const res = await rawRequest(stack.gatewayUrl, 'POST', path);
      assert.equal(res.status, 414, res.text);
      assert.equal(res.json?.code, 'UriTooLong');
    }
    assert.match(stack.gatewayLog(), /info http url_too_long/);
    await assertStillServing();
  });

  test('more query parameters than --max-query-parameters gets 400 with a JSON error', async () => {
    const query = Array.from({ length: 21 }, (_, i) => `p${i}=${i}`).join('&');
    const res = await rawRequest(stack.gatewayUrl, 'POST', `/client/negotiate?hub=e2e&${query}`);
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json?.code, 'TooManyQueryParameters');
    const metrics = await (await fetch(`${stack.gatewayUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_rejected_input_total\{reason="too_many_query_parameters"\} 1$/m);
    await assertStillServing();
  });

  test('REST paths with .., an encoded / in the hub, an encoded NUL or a 5 KB name get a clear 4xx', async () => {
    const cases = [
      ['/api/v1/hubs/e2e/users/../groups/g', 400, 'InvalidPath'],
      ['/api/v1/hubs/../hubs/e2e/users/u', 400, 'InvalidPath'],
      ['/api/v1/hubs/e2e/users/./u', 400, 'InvalidPath'],
      ['/api/v1/hubs/e2e/users/a%00b', 400, 'InvalidPath'],
      ['/api/v1/hubs/e%2F2e/users/u', 400, 'InvalidHub'],
      [`/api/v1/hubs/e2e/users/${'n'.repeat(5 * 1024)}`, 400, 'InvalidName'],
      [`/api/v1/hubs/e2e/groups/${'g'.repeat(5 * 1024)}/connections/c`, 400, 'InvalidName'],
    ];
    for (const [path, status, code] of cases) {
      const res = await rawRequest(stack.gatewayUrl, 'POST', path,
        { ...auth(path.split('?')[0]), 'content-type': 'application/json' });
      assert.equal(res.status, status, `${path.slice(0, 60)}: ${res.text}`);
      assert.equal(res.json?.code, code, path.slice(0, 60));
    }
    await assertStillServing();
  });

  test('a 10 KB token gets 401 unread; a 100 KB one does not fit the 16 KiB header limit (431)', async () => {
    const path = '/api/v1/hubs/e2e/users/u';
    const long = await rawRequest(stack.gatewayUrl, 'POST', path, { authorization: `Bearer ${'x'.repeat(10 * 1024)}` });
    assert.equal(long.status, 401, long.text);
    assert.match(long.text, /too long/);
    const huge = await rawRequest(stack.gatewayUrl, 'POST', path, { authorization: `Bearer ${'x'.repeat(100 * 1024)}` });
    assert.equal(huge.status, 431, huge.text);
    const negotiate = await rawRequest(stack.gatewayUrl, 'POST', '/client/negotiate?hub=e2e',
      { authorization: `Bearer ${'x'.repeat(10 * 1024)}` });
    assert.equal(negotiate.status, 401, negotiate.text);
    await assertStillServing();
  });
});
