// A tiny MessagePack writer and reader, written here (independent of the client's @msgpack/msgpack and
// of the gateway) for what tests build or inspect by hand: REST octet-stream bodies, raw WebSocket
// frames, Close messages. Plus the SignalR VarInt length prefix (PROTOCOL part 1 §3).
//
// Writer: null/undefined → nil, booleans, integers (smallest form), other numbers → float64, strings,
// Uint8Array/Buffer → bin, arrays, plain objects → map with string keys. `raw(bytes)` inserts bytes as is
// (for deliberately wrong input).

const RAW = Symbol('raw');

/** Bytes written verbatim by encode(). */
export function raw(bytes) {
  return { [RAW]: Buffer.from(bytes) };
}

/** MessagePack bytes of `value` (a Buffer). */
export function encode(value) {
  const out = [];
  write(value, out);
  return Buffer.concat(out);
}

function head(out, bytes) {
  out.push(Buffer.from(bytes));
}

function lengthHead(out, n, fix, fixMax, c8, c16, c32) {
  if (fix !== undefined && n <= fixMax) head(out, [fix | n]);
  else if (c8 !== undefined && n < 0x100) head(out, [c8, n]);
  else if (n < 0x10000) head(out, [c16, n >> 8, n & 0xff]);
  else { const b = Buffer.alloc(5); b[0] = c32; b.writeUInt32BE(n, 1); out.push(b); }
}

function write(v, out) {
  if (v === null || v === undefined) return head(out, [0xc0]);
  if (v === true) return head(out, [0xc3]);
  if (v === false) return head(out, [0xc2]);
  if (typeof v === 'object' && v[RAW]) return out.push(v[RAW]);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
      if (v < 0x80) return head(out, [v]);
      if (v < 0x100) return head(out, [0xcc, v]);
      if (v < 0x10000) return head(out, [0xcd, v >> 8, v & 0xff]);
      const b = Buffer.alloc(5); b[0] = 0xce; b.writeUInt32BE(v, 1); return out.push(b);
    }
    if (Number.isInteger(v) && v < 0 && v >= -(2 ** 31)) {
      if (v >= -32) return head(out, [v & 0xff]);
      const b = Buffer.alloc(5); b[0] = 0xd2; b.writeInt32BE(v, 1); return out.push(b);
    }
    const b = Buffer.alloc(9); b[0] = 0xcb; b.writeDoubleBE(v, 1); return out.push(b);
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    lengthHead(out, s.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
    return out.push(s);
  }
  if (v instanceof Uint8Array) {
    lengthHead(out, v.length, undefined, 0, 0xc4, 0xc5, 0xc6);
    return out.push(Buffer.from(v));
  }
  if (Array.isArray(v)) {
    lengthHead(out, v.length, 0x90, 15, undefined, 0xdc, 0xdd);
    for (const x of v) write(x, out);
    return undefined;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v);
    lengthHead(out, entries.length, 0x80, 15, undefined, 0xde, 0xdf);
    for (const [k, x] of entries) { write(k, out); write(x, out); }
    return undefined;
  }
  throw new TypeError(`msgpack.encode: cannot write ${typeof v}`);
}

/**
 * Reads one MessagePack value from `bytes` at `offset`: {value, end}. bin → Buffer, map → plain object,
 * ext → {ext: type, data: Buffer}. Throws on truncated input.
 */
export function decode(bytes, offset = 0) {
  const b = Buffer.from(bytes.buffer ?? bytes, bytes.byteOffset ?? 0, bytes.byteLength ?? bytes.length);
  let i = offset;
  const need = (n) => { if (i + n > b.length) throw new RangeError(`msgpack.decode: truncated at ${i}`); };
  const u8 = () => { need(1); return b[i++]; };
  const take = (n) => { need(n); const s = b.subarray(i, i + n); i += n; return s; };
  const uint = (n) => { need(n); const x = n === 1 ? b[i] : n === 2 ? b.readUInt16BE(i) : n === 4 ? b.readUInt32BE(i) : Number(b.readBigUInt64BE(i)); i += n; return x; };
  const int = (n) => { need(n); const x = n === 1 ? b.readInt8(i) : n === 2 ? b.readInt16BE(i) : n === 4 ? b.readInt32BE(i) : Number(b.readBigInt64BE(i)); i += n; return x; };
  const array = (n) => Array.from({ length: n }, () => value());
  const map = (n) => { const o = {}; for (let k = 0; k < n; k++) { const key = value(); o[key] = value(); } return o; };
  function value() {
    const c = u8();
    if (c < 0x80) return c;
    if (c >= 0xe0) return c - 0x100;
    if ((c & 0xf0) === 0x80) return map(c & 0x0f);
    if ((c & 0xf0) === 0x90) return array(c & 0x0f);
    if ((c & 0xe0) === 0xa0) return take(c & 0x1f).toString('utf8');
    switch (c) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return Buffer.from(take(uint(1)));
      case 0xc5: return Buffer.from(take(uint(2)));
      case 0xc6: return Buffer.from(take(uint(4)));
      case 0xca: { need(4); const x = b.readFloatBE(i); i += 4; return x; }
      case 0xcb: { need(8); const x = b.readDoubleBE(i); i += 8; return x; }
      case 0xcc: return uint(1);
      case 0xcd: return uint(2);
      case 0xce: return uint(4);
      case 0xcf: return uint(8);
      case 0xd0: return int(1);
      case 0xd1: return int(2);
      case 0xd2: return int(4);
      case 0xd3: return int(8);
      case 0xd9: return take(uint(1)).toString('utf8');
      case 0xda: return take(uint(2)).toString('utf8');
      case 0xdb: return take(uint(4)).toString('utf8');
      case 0xdc: return array(uint(2));
      case 0xdd: return array(uint(4));
      case 0xde: return map(uint(2));
      case 0xdf: return map(uint(4));
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: {
        const type = int(1);
        return { ext: type, data: Buffer.from(take(1 << (c - 0xd4))) };
      }
      case 0xc7: case 0xc8: case 0xc9: {
        const n = uint(c === 0xc7 ? 1 : c === 0xc8 ? 2 : 4);
        const type = int(1);
        return { ext: type, data: Buffer.from(take(n)) };
      }
      default: throw new RangeError(`msgpack.decode: unknown type byte 0x${c.toString(16)} at ${i - 1}`);
    }
  }
  const v = value();
  return { value: v, end: i };
}

/** The SignalR length prefix: 7-bit groups, least significant first, high bit = more bytes follow. */
export function varint(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** One SignalR MessagePack record: VarInt length + the msgpack bytes of `value` (or the given bytes). */
export function frame(value) {
  const body = value instanceof Uint8Array ? Buffer.from(value) : encode(value);
  return Buffer.concat([varint(body.length), body]);
}

/** Splits VarInt-framed records and decodes each (throws on an incomplete record). */
export function unframe(bytes) {
  const b = Buffer.from(bytes);
  const messages = [];
  let i = 0;
  while (i < b.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      if (i >= b.length) throw new RangeError('unframe: truncated length prefix');
      const byte = b[i++];
      len += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(byte & 0x80)) break;
    }
    if (i + len > b.length) throw new RangeError('unframe: truncated record');
    messages.push(decode(b.subarray(i, i + len)).value);
    i += len;
  }
  return messages;
}
