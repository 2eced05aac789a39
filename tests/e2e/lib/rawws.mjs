// A WebSocket client written by hand over node:net, for sending what a real client never would.
// Client frames are masked (RFC 6455 §5.3); server frames are read unmasked; continuation frames are joined.

import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const RS = '\x1e';

export class RawWebSocket {
  /** Opens a TCP connection and sends the upgrade request; resolves after the response head. */
  static async open(baseUrl, pathAndQuery, headers = {}) {
    const ws = new RawWebSocket();
    await ws.#connect(new URL(baseUrl), pathAndQuery, headers);
    return ws;
  }

  status = 0;
  headers = {};
  #socket;
  #buf = Buffer.alloc(0);
  #head = true;
  #fragments = [];
  #queue = [];
  #waiters = [];
  #ended = false;

  #connect(url, pathAndQuery, headers) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname);
      this.#socket = socket;
      socket.once('error', reject);
      socket.once('connect', () => {
        const lines = [
          `GET ${pathAndQuery} HTTP/1.1`, `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13',
          ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        ];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      });
      socket.on('data', (chunk) => {
        this.#buf = Buffer.concat([this.#buf, chunk]);
        if (this.#head) {
          const end = this.#buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const [statusLine, ...headerLines] = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
          this.status = Number(statusLine.split(' ')[1]);
          for (const l of headerLines) {
            const i = l.indexOf(':');
            this.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
          }
          this.#buf = this.#buf.subarray(end + 4);
          this.#head = false;
          resolve();
          if (this.status !== 101) return; // the rest is an HTTP body; not parsed as frames
        }
        if (this.status === 101) this.#parseFrames();
      });
      socket.on('close', () => {
        this.#ended = true;
        if (this.#head) reject(new Error('connection closed before the upgrade response'));
        for (const w of this.#waiters.splice(0)) w.resolve({ opcode: -1, end: true });
      });
      socket.on('error', () => {});
    });
  }

  #parseFrames() {
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const maskOffset = offset;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      let payload = Buffer.from(b.subarray(offset, offset + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskOffset + (i % 4)];
      this.#buf = b.subarray(offset + len);
      const fin = (b[0] & 0x80) !== 0;
      const opcode = b[0] & 0x0f;
      if (opcode === 9) { this.#write(0xa, payload); continue; } // ping → pong
      if (opcode === 0 || (!fin && opcode < 8)) {
        this.#fragments.push({ opcode, payload });
        if (!fin) continue;
        const first = this.#fragments[0];
        payload = Buffer.concat(this.#fragments.map((f) => f.payload));
        this.#fragments = [];
        this.#deliver({ opcode: first.opcode, payload, masked });
        continue;
      }
      this.#deliver({ opcode, payload, masked });
    }
  }

  #deliver(frame) {
    frame.text = frame.opcode === 1 || frame.opcode === 8 ? frame.payload.toString('utf8') : undefined;
    if (frame.opcode === 8) {
      frame.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
      frame.text = frame.payload.subarray(2).toString('utf8');
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(frame);
    else this.#queue.push(frame);
  }

  #write(opcode, payload) {
    this.#socket.write(this.frameBytes(opcode, payload));
  }

  /** The bytes of one masked frame, final unless `fin: false` (to send only part of it with `writeRaw`). */
  frameBytes(opcode, payload, { fin = true } = {}) {
    const mask = randomBytes(4);
    const len = payload.length;
    const first = (fin ? 0x80 : 0) | opcode;
    const head = len < 126 ? Buffer.from([first, 0x80 | len])
      : len < 65536 ? Buffer.from([first, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([first, 0x80 | 127]), (() => { const x = Buffer.alloc(8); x.writeBigUInt64BE(BigInt(len)); return x; })()]);
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4];
    return Buffer.concat([head, mask, body]);
  }

  /** Writes bytes as they are: a frame cut short, for instance. */
  writeRaw(bytes) { this.#socket.write(bytes); }

  sendText(text) { this.#write(0x1, Buffer.from(text, 'utf8')); }
  sendBinary(bytes) { this.#write(0x2, Buffer.from(bytes)); }
  sendClose(code = 1000) { const p = Buffer.alloc(2); p.writeUInt16BE(code); this.#write(0x8, p); }

  /** The next data or close frame ({opcode, payload, text}), or {end: true} when the socket closed. */
  next(timeoutMs = 5_000) {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift());
    if (this.#ended) return Promise.resolve({ opcode: -1, end: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no WebSocket frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (frame) => { clearTimeout(timer); resolve(frame); };
      this.#waiters.push({ resolve: done });
    });
  }

  /**
   * Reads frames until the server closes (close frame or socket end); returns the text frames seen
   * (`texts`), the binary frames' payloads (`binaries`) and the close frame or end (`close`).
   */
  async readUntilClosed(timeoutMs = 5_000) {
    const texts = [];
    const binaries = [];
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - performance.now()));
      if (frame.end || frame.opcode === 8) return { texts, binaries, close: frame };
      if (frame.opcode === 1) texts.push(frame.text);
      if (frame.opcode === 2) binaries.push(frame.payload);
    }
  }

  /** The body of a non-101 response, read until the server ends it or `timeoutMs`. */
  async body(timeoutMs = 2_000) {
    if (!this.#ended) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#socket.once('close', () => { clearTimeout(timer); resolve(); });
        if (this.headers['content-length'] !== undefined && this.#buf.length >= Number(this.headers['content-length'])) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    return this.#buf.toString('utf8');
  }

  /** Stops reading from the socket: what the server sends piles up in the kernel, then in its queue. */
  pause() { this.#socket.pause(); }

  destroy() { this.#socket.destroy(); }
}

/** Splits text frames into hub messages (JSON records ending with RS). */
export function hubMessages(texts) {
  return texts.join('').split(RS).filter((s) => s.length).map((s) => {
    try { return JSON.parse(s); } catch { return { unparsable: s }; }
  });
}
