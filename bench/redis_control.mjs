// A Redis connection for the bench drivers' control commands (INFO, CONFIG, XADD…): one command at a
// time over RESP, any reply as text. Not a client library: enough for bench/handoff_clients.mjs and
// bench/fleet_log_capacity.mjs, which need no npm package.

import net from 'node:net';

/** One RESP command, as bytes to write. */
export function encodeCommand(...args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}

export class RedisControl {
  #socket;
  #buf = '';
  #pending = [];

  /** `target`: a port on 127.0.0.1, or a connected socket. */
  constructor(target) {
    this.#socket = typeof target === 'number' ? net.connect(target, '127.0.0.1') : target;
    this.#socket.setEncoding('latin1');
    this.#socket.on('data', (chunk) => {
      this.#buf += chunk;
      for (;;) {
        const reply = this.#parse();
        if (reply === undefined) return;
        this.#pending.shift()?.(reply);
      }
    });
  }

  // Simple strings, errors, integers and bulk strings (a nil bulk reads as ''); undefined when incomplete.
  #parse() {
    const eol = this.#buf.indexOf('\r\n');
    if (eol < 0) return undefined;
    const kind = this.#buf[0];
    if (kind === '$') {
      const len = Number(this.#buf.slice(1, eol));
      if (len < 0) { this.#buf = this.#buf.slice(eol + 2); return ''; }
      if (this.#buf.length < eol + 2 + len + 2) return undefined;
      const text = this.#buf.slice(eol + 2, eol + 2 + len);
      this.#buf = this.#buf.slice(eol + 2 + len + 2);
      return text;
    }
    const line = this.#buf.slice(1, eol);
    this.#buf = this.#buf.slice(eol + 2);
    if (kind === '-') throw new Error(`redis: ${line}`);
    return line;
  }

  command(...args) {
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      this.#socket.write(encodeCommand(...args));
    });
  }

  /** INFO `section` as {field: value}. */
  async info(section) {
    const text = await this.command('INFO', section);
    return Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1)];
    }));
  }

  /** used_memory and used_memory_peak, in bytes. */
  async memory() {
    const m = await this.info('memory');
    return { used: Number(m.used_memory), peak: Number(m.used_memory_peak) };
  }

  close() { this.#socket.destroy(); }
}
