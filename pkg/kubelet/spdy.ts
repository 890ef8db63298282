/**
 * A small SPDY/3.1 client session (draft-mbelshe-httpbis-spdy-00, "SPDY Protocol - Draft 3.1"),
 * enough to speak the remote command protocols (v4.channel.k8s.io and friends) to a container
 * runtime's streaming server, which is what Kubernetes' streaming server implements.
 *
 * - Frames: SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE and
 *   DATA, with the FIN flag for half-closing a stream.
 * - Header blocks are one zlib stream per direction with the SPDY/3 preset dictionary. Outgoing
 *   blocks are written as stored (uncompressed) deflate blocks, each ended by an empty stored
 *   block, so every block is a sync-flush boundary. Incoming blocks are inflated as one stream.
 * - Flow control: received data is acknowledged with WINDOW_UPDATE as it is consumed.
 * - GOAWAY stops new streams; streams the peer has accepted (up to its last-good-stream-id) carry on
 *   until they end or the connection closes, so data the peer wrote before its GOAWAY, such as an
 *   exec's exit status, is still delivered. Every frame read from the socket is handled in order and
 *   synchronously, so nothing already received is lost when the connection closes.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import { EventEmitter } from 'node:events';

const VERSION = 3;
const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const WINDOW_UPDATE = 9;
const FLAG_FIN = 0x01;

/**
 * The SPDY/3 header compression dictionary: the draft's list of length-prefixed header names and
 * values, followed by its run of common value fragments.
 */
const DICTIONARY: Buffer = (() => {
  const words = [
    'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
    'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
    'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
    'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after',
    'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK',
    'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
  ];
  const tail =
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found' +
    '500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,public' +
    'privatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
  const parts: Buffer[] = [];
  for (const w of words) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    parts.push(len, Buffer.from(w, 'latin1'));
  }
  parts.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(parts);
})();

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Encodes a header block (name/value pairs; names lowercased as SPDY requires). */
function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(entries.length);
  parts.push(n);
  for (const [k, v] of entries) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s, 'utf8');
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      parts.push(l, b);
    }
  }
  return Buffer.concat(parts);
}

function decodeHeaderBlock(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (buf.length < 4) return out;
  let off = 0;
  const n = buf.readUInt32BE(off);
  off += 4;
  for (let i = 0; i < n; i++) {
    const kl = buf.readUInt32BE(off);
    off += 4;
    const k = buf.subarray(off, off + kl).toString('utf8');
    off += kl;
    const vl = buf.readUInt32BE(off);
    off += 4;
    out[k] = buf.subarray(off, off + vl).toString('utf8');
    off += vl;
  }
  return out;
}

/**
 * One direction's header compression: every block goes into the same zlib stream (with the SPDY
 * dictionary) as stored deflate blocks ended by an empty stored block.
 */
export class HeaderCompressor {
  private sent = 0;

  compress(headers: Record<string, string>): Buffer {
    const block = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (this.sent++ === 0) {
      const dictId = Buffer.alloc(4);
      dictId.writeUInt32BE(adler32(DICTIONARY));
      // CMF 0x78 (deflate, 32K window), FLG with FDICT set and a valid check value.
      const cmf = 0x78;
      let flg = 0x20;
      flg += 31 - ((cmf * 256 + flg) % 31);
      parts.push(Buffer.from([cmf, flg]), dictId);
    }
    for (let off = 0; off < block.length; off += 0xffff) {
      const chunk = block.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h.writeUInt8(0, 0);
      h.writeUInt16LE(chunk.length, 1);
      h.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(h, chunk);
    }
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

/** The other end of a direction's header compression: inflates each block of the one zlib stream. */
export class HeaderDecompressor {
  private readonly blocks: Buffer[] = [];
  private inflatedBytes = 0;

  decompress(block: Buffer): Record<string, string> {
    this.blocks.push(block);
    const all = zlib.inflateSync(Buffer.concat(this.blocks), { dictionary: DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const fresh = all.subarray(this.inflatedBytes);
    this.inflatedBytes = all.length;
    return decodeHeaderBlock(fresh);
  }
}

export class SpdyStream extends EventEmitter {
  remoteClosed = false;
  localClosed = false;
  replied = false;

  constructor(
    readonly id: number,
    readonly headers: Record<string, string>,
    private readonly session: SpdySession,
  ) {
    super();
  }

  write(data: Buffer): void {
    if (this.localClosed) return;
    this.session.sendData(this.id, data, false);
  }

  /** Half-closes the stream (DATA with FIN). */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true);
  }
}

/**
 * A client session on a socket that has completed the HTTP upgrade to SPDY/3.1. Emits 'close'
 * when the connection ends.
 */
export class SpdySession extends EventEmitter {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private inbuf: Buffer = Buffer.alloc(0);
  private readonly headerOut = new HeaderCompressor();
  private readonly headerIn = new HeaderDecompressor();
  private closed = false;
  /** Set once the peer sent GOAWAY: no new streams. */
  goneAway = false;

  constructor(private readonly socket: net.Socket, leftover: Buffer = Buffer.alloc(0)) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    if (leftover.length) this.onData(leftover);
  }

  /** Opens a stream with the given headers (SYN_STREAM). */
  openStream(headers: Record<string, string>): SpdyStream {
    const id = this.nextId;
    if (this.goneAway || this.closed) {
      // The peer will not accept it: answer a stream that is already over.
      const refused = new SpdyStream(id, headers, this);
      refused.remoteClosed = true;
      refused.localClosed = true;
      return refused;
    }
    this.nextId += 2;
    const s = new SpdyStream(id, headers, this);
    this.streams.set(id, s);
    const body = Buffer.alloc(10);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(0, 4);
    body.writeUInt8(0, 8);
    body.writeUInt8(0, 9);
    this.sendControl(SYN_STREAM, 0, Buffer.concat([body, this.headerOut.compress(headers)]));
    return s;
  }

  close(): void {
    this.socket.end();
    this.shutdown();
  }

  sendData(id: number, data: Buffer, fin: boolean): void {
    if (this.closed) return;
    const max = 0xffffff;
    let off = 0;
    do {
      const chunk = data.subarray(off, off + max);
      off += chunk.length;
      const last = off >= data.length;
      const h = Buffer.alloc(8);
      h.writeUInt32BE(id & 0x7fffffff, 0);
      h.writeUInt8(fin && last ? FLAG_FIN : 0, 4);
      h.writeUIntBE(chunk.length, 5, 3);
      this.socket.write(Buffer.concat([h, chunk]));
    } while (off < data.length);
  }

  private sendControl(type: number, flags: number, body: Buffer): void {
    if (this.closed) return;
    const h = Buffer.alloc(8);
    h.writeUInt16BE(0x8000 | VERSION, 0);
    h.writeUInt16BE(type, 2);
    h.writeUInt8(flags, 4);
    h.writeUIntBE(body.length, 5, 3);
    this.socket.write(Buffer.concat([h, body]));
  }

  private onData(d: Buffer): void {
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, d]) : d;
    while (this.inbuf.length >= 8) {
      const len = this.inbuf.readUIntBE(5, 3);
      if (this.inbuf.length < 8 + len) break;
      const frame = this.inbuf.subarray(0, 8 + len);
      this.inbuf = this.inbuf.subarray(8 + len);
      try {
        this.onFrame(frame);
      } catch (e) {
        // A listener-less 'error' would throw out of the socket's data handler.
        if (this.listenerCount('error') > 0) this.emit('error', e);
        this.close();
        return;
      }
    }
  }

  private onFrame(f: Buffer): void {
    const flags = f.readUInt8(4);
    const body = f.subarray(8);
    if ((f.readUInt8(0) & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      const s = this.streams.get(id);
      if (body.length) {
        // Consumed at once: give the window back to the stream and the session.
        const wu = (sid: number) => {
          const b = Buffer.alloc(8);
          b.writeUInt32BE(sid, 0);
          b.writeUInt32BE(body.length, 4);
          this.sendControl(WINDOW_UPDATE, 0, b);
        };
        wu(id);
        wu(0);
        s?.emit('data', Buffer.from(body));
      }
      if (flags & FLAG_FIN && s) this.remoteEnd(s);
      return;
    }
    const type = f.readUInt16BE(2);
    switch (type) {
      case SYN_REPLY: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const s = this.streams.get(id);
        this.headerIn.decompress(body.subarray(4));
        if (s) {
          s.replied = true;
          s.emit('reply');
          if (flags & FLAG_FIN) this.remoteEnd(s);
        }
        break;
      }
      case HEADERS:
        this.headerIn.decompress(body.subarray(4));
        break;
      case SYN_STREAM: {
        // Servers of these protocols do not push streams; refuse any.
        this.headerIn.decompress(body.subarray(10));
        const rst = Buffer.alloc(8);
        rst.writeUInt32BE(body.readUInt32BE(0) & 0x7fffffff, 0);
        rst.writeUInt32BE(3, 4);
        this.sendControl(RST_STREAM, 0, rst);
        break;
      }
      case RST_STREAM: {
        const s = this.streams.get(body.readUInt32BE(0) & 0x7fffffff);
        if (s) {
          s.emit('reset', body.readUInt32BE(4));
          this.remoteEnd(s);
        }
        break;
      }
      case PING:
        this.sendControl(PING, 0, body.subarray(0, 4));
        break;
      case GOAWAY: {
        // Streams above the peer's last good stream were never seen by it; the others go on until
        // they end (RST_STREAM, FIN) or the peer closes the connection.
        this.goneAway = true;
        const lastGood = body.length >= 4 ? body.readUInt32BE(0) & 0x7fffffff : 0;
        for (const s of this.streams.values()) if (s.id > lastGood) this.remoteEnd(s);
        this.emit('goaway', lastGood);
        break;
      }
      case SETTINGS:
      case WINDOW_UPDATE:
        break;
      default:
        break;
    }
  }

  private remoteEnd(s: SpdyStream): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    s.emit('end');
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) this.remoteEnd(s);
    this.emit('close');
  }
}

/**
 * Upgrades an HTTP connection to `url` to SPDY/3.1, offering `protocols` in
 * X-Stream-Protocol-Version. Answers the raw socket (with any bytes already read past the
 * response) and the protocol the server chose.
 */
export function dialUpgrade(url: URL, protocols: string[], timeoutMs = 10_000): Promise<{ socket: net.Socket; rest: Buffer; protocol: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 80) });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timed out upgrading to SPDY/3.1'));
    }, timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('connect', () => {
      const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: Upgrade', 'Upgrade: SPDY/3.1', 'Content-Length: 0'];
      for (const p of protocols) lines.push(`X-Stream-Protocol-Version: ${p}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      clearTimeout(timer);
      const head = buf.subarray(0, end).toString('latin1');
      const rest = buf.subarray(end + 4);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      if (status !== 101) {
        socket.destroy();
        reject(new Error(`SPDY upgrade refused: ${head.split('\r\n')[0]} ${rest.toString('utf8').trim()}`));
        return;
      }
      const protocol = /\r\nx-stream-protocol-version:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? '';
      resolve({ socket, rest, protocol });
    };
    socket.on('data', onData);
  });
}

/** Opens a SPDY/3.1 session to a runtime streaming URL; answers the stream protocol chosen. */
export async function dialSpdy(url: URL, protocols: string[], timeoutMs = 10_000): Promise<{ session: SpdySession; protocol: string }> {
  const { socket, rest, protocol } = await dialUpgrade(url, protocols, timeoutMs);
  return { session: new SpdySession(socket, rest), protocol };
}
