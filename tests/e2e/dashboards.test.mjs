// The monitoring recipes against a real Prometheus (Debian's `prometheus`) scraping a real gateway:
// every query of deploy/grafana/switchboard.json runs without error, the numbers of its main panels
// match what the test did, and deploy/prometheus/alerts.yaml loads with every rule healthy.
// (tests/deploy/check.sh checks the names statically and runs the alerts' unit tests with promtool.)

import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, until } from './lib/processes.mjs';
import { Clients, withTimeout } from './lib/client.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DASHBOARD = JSON.parse(readFileSync(path.join(REPO, 'deploy/grafana/switchboard.json'), 'utf8'));
const PROMETHEUS = '/usr/bin/prometheus';

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Prometheus scraping `target` (host:port) every second, with the alert rules loaded. */
async function startPrometheus(target) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-prometheus-'));
  writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: [${JSON.stringify(path.join(REPO, 'deploy/prometheus/alerts.yaml'))}]`,
    'scrape_configs:',
    '  - job_name: switchboard',
    `    static_configs: [{targets: [${JSON.stringify(target)}]}]`,
  ].join('\n'));
  const port = await freePort();
  const child = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8192); });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => (await fetch(`${url}/-/ready`).catch(() => null))?.status === 200,
      { timeoutMs: 20_000, what: () => `Prometheus to be ready (${stderr.slice(-500)})` });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

async function query(prometheus, expr) {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', `${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

/** A dashboard query as Grafana would send it: every gateway, a 1-minute rate window. */
function concrete(expr) {
  return expr.replaceAll('$instance', '.+').replaceAll('$__rate_interval', '1m');
}

function panel(title) {
  const found = DASHBOARD.panels.find((p) => p.title === title);
  assert.ok(found, `no panel ${title}`);
  return found;
}

describe('the Grafana dashboard and the alert rules on a real Prometheus', { timeout: 120_000, skip: !existsSync(PROMETHEUS) && 'no prometheus (scripts/setup.sh installs it)' }, () => {
  let stack;
  let prometheus;
  let clients;
  before(async () => {
    stack = await startStack();
    prometheus = await startPrometheus(new URL(stack.gatewayUrl).host);
    clients = new Clients(stack);
  });
  afterEach((t) => clients.cleanUp(t));
  after(async () => {
    await prometheus?.stop();
    await stack?.stop();
  });

  test('every panel query runs, and the connection and upstream panels show what happened', async () => {
    // Scraped once before the traffic: the counters' rates then have a point from before it.
    await until(async () => (await query(prometheus, 'up'))[0]?.value[1] === '1', { timeoutMs: 30_000, what: 'a first scrape' });
    const staying = await clients.connect({ user: 'dash1' });
    const leaving = await clients.connect({ user: 'dash2' });
    for (const c of [staying, leaving]) assert.equal(await withTimeout(c.invoke('echo', 1), 10_000, 'echo'), 1);
    await leaving.stop();

    // Scraped at least twice since: the open connection shows, and the rates have two points.
    const [openExpr] = panel('Connections open').targets.map((t) => concrete(t.expr));
    await until(async () => Number((await query(prometheus, openExpr))[0]?.value[1]) === 1
      && Number((await query(prometheus, concrete(panel('Disconnection rate: clean and error').targets[0].expr)))
        .find((s) => s.metric.outcome === 'clean')?.value[1] ?? 0) > 0,
    { timeoutMs: 30_000, intervalMs: 250, what: 'Prometheus to see one connection open and one clean close' });

    let queries = 0;
    for (const p of DASHBOARD.panels) {
      for (const target of p.targets ?? []) {
        await query(prometheus, concrete(target.expr));
        queries += 1;
      }
    }
    assert.ok(queries >= 30, `${queries} queries`);
    const connects = await query(prometheus, concrete(panel('Connection rate').targets[0].expr));
    assert.ok(Number(connects[0].value[1]) > 0);
    await until(async () => Number((await query(prometheus, concrete(panel('Upstream calls by outcome').targets[0].expr)))
      .find((s) => s.metric.outcome === 'success')?.value[1] ?? 0) > 0, { what: 'upstream successes in the outcome panel' });
    // A route's series starts at its first call, so its rate may show nothing yet: its label does.
    const routes = await until(async () => {
      const series = await query(prometheus, concrete(panel('Upstream latency p95 by route').targets[0].expr));
      return series.length > 0 && series;
    }, { what: 'the route panel' });
    assert.deepEqual(routes.map((s) => s.metric.route), [`${stack.functionsUrl}/upstream`]);
  });

  test('the alert rules load, evaluate without error, and none fires on a healthy gateway', async () => {
    const rules = await until(async () => {
      const body = await (await fetch(`${prometheus.url}/api/v1/rules`)).json();
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001')) && all;
    }, { what: 'every rule to be evaluated' });
    assert.equal(rules.length, 7);
    for (const rule of rules) {
      assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
      assert.equal(rule.state, 'inactive', rule.name);
    }
  });
});
