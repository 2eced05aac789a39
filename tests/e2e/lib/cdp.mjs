// Headless Chromium driven over the DevTools protocol through a pipe (--remote-debugging-pipe):
// fd 3 carries commands to Chromium, fd 4 its replies and events; each message is JSON followed by \0.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const live = new Set();
// Last resort: never leave a browser behind if the test process exits without closing it.
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export class Browser {
  /** Starts Chromium with a fresh profile; resolves once it answers Browser.getVersion. */
  static async launch({ executable = CHROMIUM, extraArgs = [], timeoutMs = 20_000 } = {}) {
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'sb-e2e-chromium-'));
    const child = spawn(executable, [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--disable-dev-shm-usage',
      // Pages in background tabs must keep their timers and sockets running at full speed.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      `--user-data-dir=${userDataDir}`,
      '--remote-debugging-pipe',
      ...extraArgs,
      'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    live.add(child);
    child.on('exit', () => live.delete(child));
    const browser = new Browser(child, userDataDir);
    try {
      const version = await browser.send('Browser.getVersion', {}, undefined, timeoutMs);
      browser.version = version.product;
      return browser;
    } catch (err) {
      await browser.close();
      throw new Error(`Chromium did not answer over the DevTools pipe: ${err.message}\nstderr:\n${browser.stderr.slice(-4000)}`);
    }
  }

  constructor(child, userDataDir) {
    this.child = child;
    this.userDataDir = userDataDir;
    this.stderr = '';
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Set();
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.on('error', (err) => this.#failAll(err));
    this.exited.then(({ code, signal }) => this.#failAll(new Error(`Chromium exited (code ${code}, signal ${signal})`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 64 * 1024) this.stderr = this.stderr.slice(-64 * 1024);
    });
    this.out = child.stdio[3];
    this.in = child.stdio[4];
    this.out.on('error', () => {});
    let buffered = Buffer.alloc(0);
    this.in.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      let end;
      while ((end = buffered.indexOf(0)) >= 0) {
        const text = buffered.subarray(0, end).toString('utf8');
        buffered = buffered.subarray(end + 1);
        this.#dispatch(JSON.parse(text));
      }
    });
  }

  #dispatch(message) {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.error) p.reject(new Error(`${p.method}: ${message.error.message} ${message.error.data ?? ''}`));
      else p.resolve(message.result);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  #failAll(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Sends a command (to a session when `sessionId` is given); resolves to its result. */
  send(method, params = {}, sessionId, timeoutMs = 15_000) {
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.out.write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Resolves with the first event `method` (of `sessionId`) for which `predicate` holds. */
  waitForEvent(method, sessionId, { predicate = () => true, timeoutMs = 15_000 } = {}) {
    return new Promise((resolve, reject) => {
      const listener = (m) => {
        if (m.method === method && m.sessionId === sessionId && predicate(m.params)) {
          done();
          resolve(m.params);
        }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`no ${method} within ${timeoutMs} ms`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.listeners.delete(listener); };
      this.listeners.add(listener);
    });
  }

  /** Opens a new tab, attaches to it (flat session) and navigates to `url`; resolves after the load event. */
  async newPage(url) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, targetId, sessionId);
    await this.send('Page.enable', {}, sessionId);
    await this.send('Runtime.enable', {}, sessionId);
    page.consoleLines = [];
    this.listeners.add((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.consoleAPICalled') {
        page.consoleLines.push(`${m.params.type}: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        page.consoleLines.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      }
    });
    const loaded = this.waitForEvent('Page.loadEventFired', sessionId);
    const nav = await this.send('Page.navigate', { url }, sessionId);
    if (nav.errorText) throw new Error(`navigate ${url}: ${nav.errorText}`);
    await loaded;
    return page;
  }

  /** Asks Chromium to close, then kills it if it lingers; removes the profile. */
  async close() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.send('Browser.close', {}, undefined, 3_000).catch(() => {});
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), 5_000); });
      if (await Promise.race([this.exited, late]) === 'late') {
        this.child.kill('SIGKILL');
        await this.exited;
      }
      clearTimeout(timer);
    }
    await rm(this.userDataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

export class Page {
  constructor(browser, targetId, sessionId) {
    this.browser = browser;
    this.targetId = targetId;
    this.sessionId = sessionId;
  }

  /** Evaluates `expression` in the page (awaiting a returned promise) and returns its value. */
  async evaluate(expression, { timeoutMs = 15_000 } = {}) {
    const r = await this.browser.send('Runtime.evaluate', {
      expression, awaitPromise: true, returnByValue: true,
    }, this.sessionId, timeoutMs);
    if (r.exceptionDetails) {
      throw new Error(`evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value;
  }

  /**
   * Resolves once the JavaScript expression `condition` is truthy in the page, re-checking on every DOM
   * change (MutationObserver); rejects after `timeoutMs`.
   */
  async waitFor(condition, { timeoutMs = 10_000, what = condition } = {}) {
    const script = `new Promise((resolve, reject) => {
      const check = () => { try { return !!(${condition}); } catch { return false; } };
      if (check()) return resolve(true);
      const observer = new MutationObserver(() => { if (check()) { observer.disconnect(); clearTimeout(timer); resolve(true); } });
      observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      const timer = setTimeout(() => { observer.disconnect(); reject(new Error('timed out')); }, ${timeoutMs});
    })`;
    try {
      return await this.evaluate(script, { timeoutMs: timeoutMs + 5_000 });
    } catch (err) {
      throw new Error(`waiting for ${what}: ${err.message}\npage console:\n${this.consoleLines?.join('\n')}`);
    }
  }

  /** Focuses `selector` and types `text` into it. */
  async type(selector, text) {
    await this.evaluate(`document.querySelector(${JSON.stringify(selector)}).focus()`);
    await this.browser.send('Input.insertText', { text }, this.sessionId);
  }

  /** Closes the tab, as a user would (the page unloads; its WebSocket closes). */
  async close() {
    await this.browser.send('Target.closeTarget', { targetId: this.targetId });
  }

  async pressEnter() {
    const key = { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, nativeVirtualKeyCode: 13 };
    await this.browser.send('Input.dispatchKeyEvent', { type: 'keyDown', text: '\r', ...key }, this.sessionId);
    await this.browser.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key }, this.sessionId);
  }
}
