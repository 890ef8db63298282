/**
 * The exec exit status on its way out of the kubelet:
 *
 * - relayRemoteCommandV5 (v5.channel.k8s.io websocket ↔ the runtime's SPDY v4 protocol) against a
 *   fake runtime streaming server that sends the error stream's status, the output streams' FINs,
 *   RST_STREAMs, GOAWAY and the connection close in different orders, in one TCP write or spread
 *   out: the status must always reach channel 3, after the output, and a runtime that closes
 *   without a status must not be reported as Success;
 * - proxyUpgrade (kubelet → runtime and apiserver → kubelet) with a backend that writes its last
 *   bytes and closes at once (FIN, or RST when it leaves bytes unread): the last bytes reach the
 *   client and the client's connection stays open until the client closes it.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { HeaderCompressor, HeaderDecompressor, dialSpdy } from './spdy.js';
import { proxyUpgrade, relayRemoteCommandV5, type V5Socket } from './streaming.js';
import { newLogger } from '../log/logger.js';

const log = newLogger('test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function exitStatus(code: number): string {
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [sh -c exit ${code}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
}

// ---- SPDY frames as a runtime's streaming server writes them ----

function dataFrame(id: number, data: Buffer | string, fin = false): Buffer {
  const body = Buffer.from(data);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id & 0x7fffffff, 0);
  h.writeUInt8(fin ? 1 : 0, 4);
  h.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([h, body]);
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt8(flags, 4);
  h.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([h, body]);
}

const u32 = (...n: number[]) => Buffer.concat(n.map((x) => Buffer.from([(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff])));
const rst = (id: number) => controlFrame(3, 0, u32(id, 5));
const goaway = (lastGood: number) => controlFrame(7, 0, u32(lastGood, 0));

type Step =
  | { data: string; bytes: string; fin?: boolean }
  | { fin: string }
  | { rst: string }
  | { goaway: number | 'last' }
  | { wait: number }
  | { flush: true }
  | { close: 'end' | 'destroy' };

/**
 * A fake runtime streaming server: answers the SPDY/3.1 upgrade with v4.channel.k8s.io, replies to
 * every stream the client opens, and once `expected` streams are open plays `steps`. Frames are
 * gathered and written in one go at each `flush`, `wait` and `close` (and at the end), so a script
 * decides which frames share a TCP write.
 */
async function fakeRuntime(expected: string[], steps: Step[]): Promise<{ url: URL; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const ids = new Map<string, number>();
    const headerIn = new HeaderDecompressor();
    const headerOut = new HeaderCompressor();
    let played = false;
    const play = async () => {
      played = true;
      let pending: Buffer[] = [];
      const flush = () => {
        if (pending.length && !sock.destroyed) sock.write(Buffer.concat(pending));
        pending = [];
      };
      const id = (t: string) => ids.get(t)!;
      for (const s of steps) {
        if ('data' in s) pending.push(dataFrame(id(s.data), s.bytes, s.fin));
        else if ('fin' in s) pending.push(dataFrame(id(s.fin), '', true));
        else if ('rst' in s) pending.push(rst(id(s.rst)));
        else if ('goaway' in s) pending.push(goaway(s.goaway === 'last' ? Math.max(...ids.values()) : s.goaway));
        else if ('flush' in s) flush();
        else if ('wait' in s) {
          flush();
          await sleep(s.wait);
        } else if ('close' in s) {
          flush();
          if (s.close === 'end') sock.end();
          else sock.destroy();
          return;
        }
      }
      flush();
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        buf = buf.subarray(end + 4);
        sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
      }
      while (buf.length >= 8) {
        const len = buf.readUIntBE(5, 3);
        if (buf.length < 8 + len) break;
        const f = buf.subarray(0, 8 + len);
        buf = buf.subarray(8 + len);
        if ((f[0]! & 0x80) !== 0 && f.readUInt16BE(2) === 1) {
          const sid = f.readUInt32BE(8) & 0x7fffffff;
          const headers = headerIn.decompress(f.subarray(18));
          ids.set(headers.streamtype!, sid);
          sock.write(controlFrame(2, 0, Buffer.concat([u32(sid), headerOut.compress({ 'x-reply': 'ok' })])));
        }
      }
      if (!played && expected.every((t) => ids.has(t))) void play();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/exec/token`),
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** An in-memory websocket: records what the relay sends until it closes. */
class FakeWebSocket implements V5Socket {
  readyState: number = WebSocket.OPEN;
  readonly sent: { channel: number; data: string }[] = [];
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly handlers = new Map<string, ((...a: never[]) => void)[]>();

  constructor() {
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }
  send(data: Buffer): void {
    assert.equal(this.readyState, WebSocket.OPEN, 'nothing is sent after close');
    this.sent.push({ channel: data[0]!, data: data.subarray(1).toString('utf8') });
  }
  close(code: number): void {
    assert.equal(code, 1000);
    this.readyState = WebSocket.CLOSED;
    this.resolveClosed();
  }
  on(event: string, cb: (...a: never[]) => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), cb]);
    return this;
  }
}

async function runExec(steps: Step[], opts = { stdin: false, stdout: true, stderr: true, tty: false }): Promise<FakeWebSocket> {
  const types = ['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []), ...(opts.stderr ? ['stderr'] : [])];
  const rt = await fakeRuntime(types, steps);
  try {
    const { session } = await dialSpdy(rt.url, ['v4.channel.k8s.io']);
    const ws = new FakeWebSocket();
    relayRemoteCommandV5(ws, session, opts, log);
    await ws.closed;
    return ws;
  } finally {
    await rt.close();
  }
}

function statusOf(ws: FakeWebSocket): { status: string; reason?: string; details?: { causes?: { reason: string; message: string }[] } } {
  const st = ws.sent.filter((m) => m.channel === 3);
  assert.equal(st.length, 1, `one status message: ${JSON.stringify(ws.sent)}`);
  assert.equal(ws.sent.at(-1)!.channel, 3, 'the status is the last message');
  return JSON.parse(st[0]!.data);
}

function assertExit(ws: FakeWebSocket, code: number, stdout = `out-${code}\n`): void {
  const st = statusOf(ws);
  assert.equal(st.reason, 'NonZeroExitCode', JSON.stringify(st));
  assert.deepEqual(st.details?.causes, [{ reason: 'ExitCode', message: String(code) }]);
  assert.equal(
    ws.sent
      .filter((m) => m.channel === 1)
      .map((m) => m.data)
      .join(''),
    stdout,
  );
}

describe('relayRemoteCommandV5: the runtime’s exit status always reaches channel 3', () => {
  const out = (code: number): Step => ({ data: 'stdout', bytes: `out-${code}\n` });

  test("containerd's order, all in one TCP write: output FINs, status, RST_STREAMs, GOAWAY, close", async () => {
    const ws = await runExec([out(3), { fin: 'stdout' }, { fin: 'stderr' }, { data: 'error', bytes: exitStatus(3) }, { rst: 'error' }, { rst: 'stdout' }, { rst: 'stderr' }, { goaway: 'last' }, { close: 'end' }]);
    assertExit(ws, 3);
  });

  test("containerd's order with every frame in its own write and pauses between them", async () => {
    const ws = await runExec([out(4), { wait: 20 }, { fin: 'stdout' }, { wait: 20 }, { fin: 'stderr' }, { wait: 20 }, { data: 'error', bytes: exitStatus(4) }, { wait: 20 }, { rst: 'error' }, { wait: 20 }, { goaway: 'last' }, { wait: 20 }, { close: 'end' }]);
    assertExit(ws, 4);
  });

  test('GOAWAY before the status: accepted streams carry on', async () => {
    const ws = await runExec([out(5), { goaway: 'last' }, { flush: true }, { wait: 20 }, { data: 'error', bytes: exitStatus(5) }, { fin: 'stdout' }, { fin: 'stderr' }, { rst: 'error' }, { close: 'end' }]);
    assertExit(ws, 5);
  });

  test('the connection closes right behind the status, without RST_STREAM or GOAWAY (FIN, then reset)', async () => {
    assertExit(await runExec([out(6), { data: 'error', bytes: exitStatus(6) }, { close: 'end' }]), 6);
    assertExit(await runExec([out(7), { data: 'error', bytes: exitStatus(7) }, { close: 'destroy' }]), 7);
  });

  test('the status before the output: the output still comes first on the websocket', async () => {
    const ws = await runExec([{ data: 'error', bytes: exitStatus(8), fin: true }, { wait: 30 }, out(8), { fin: 'stdout' }, { fin: 'stderr' }, { wait: 30 }, { close: 'end' }]);
    assertExit(ws, 8);
  });

  test('a status split over two DATA frames, the error stream ended by FIN', async () => {
    const s = exitStatus(9);
    const ws = await runExec([out(9), { fin: 'stdout' }, { fin: 'stderr' }, { data: 'error', bytes: s.slice(0, 20) }, { wait: 20 }, { data: 'error', bytes: s.slice(20), fin: true }, { wait: 20 }, { close: 'end' }]);
    assertExit(ws, 9);
  });

  test('a runtime that closes without a status is a Failure, never Success', async () => {
    for (const steps of [
      [out(1), { fin: 'stdout' }, { fin: 'stderr' }, { close: 'end' }],
      [out(1), { rst: 'error' }, { rst: 'stdout' }, { rst: 'stderr' }, { goaway: 'last' }, { close: 'destroy' }],
      [{ goaway: 0 }, { wait: 20 }, { close: 'end' }],
    ] as Step[][]) {
      const st = statusOf(await runExec(steps));
      assert.equal(st.status, 'Failure', JSON.stringify(st));
      assert.equal(st.reason, 'InternalError');
    }
  });

  test('many concurrent relays, each gets its own code', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => i + 10);
    const results = await Promise.all(
      codes.map((c) => runExec(c % 2 ? [out(c), { data: 'error', bytes: exitStatus(c) }, { fin: 'stdout' }, { fin: 'stderr' }, { rst: 'error' }, { goaway: 'last' }, { close: 'destroy' }] : [out(c), { fin: 'stdout' }, { fin: 'stderr' }, { data: 'error', bytes: exitStatus(c) }, { close: 'end' }])),
    );
    results.forEach((ws, i) => assertExit(ws, codes[i]!));
  });
});

// ---- proxyUpgrade ----

/**
 * A backend that answers the upgrade with 101 and `last`, then closes at once: with FIN, or with
 * RST (mode 'reset').
 */
async function closingBackend(last: string, mode: 'end' | 'reset'): Promise<{ url: URL; sawClose: Promise<void>; close: () => Promise<void> }> {
  let sawCloseResolve!: () => void;
  const sawClose = new Promise<void>((r) => (sawCloseResolve = r));
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.on('close', () => sawCloseResolve());
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      sock.pause();
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n${last}`);
      if (mode === 'end') {
        sock.resume();
        sock.end();
      } else {
        // As a Go server closing with the client's bytes unread: the kernel answers RST.
        setImmediate(() => sock.resetAndDestroy());
      }
    };
    sock.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/x`),
    sawClose,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

/** An HTTP server whose upgrades are proxied to `target` with proxyUpgrade. */
async function proxyServer(target: URL): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(400).end());
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    proxyUpgrade(req, socket, head, new URL(target.pathname, target), log, undefined, 60_000);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Upgrades through the proxy on `port`, then keeps talking (like kubectl's WINDOW_UPDATEs) until it
 * has `last`, talks a little longer, and closes. Answers what it received and whether the proxy
 * ended the connection before the client did.
 */
async function client(port: number, last: string): Promise<{ received: string; endedByProxyFirst: boolean; endedAfterClient: boolean }> {
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => undefined);
  let received = '';
  let clientEnded = false;
  let endedByProxyFirst = false;
  const proxyEnd = new Promise<void>((r) =>
    c.on('end', () => {
      if (!clientEnded) endedByProxyFirst = true;
      r();
    }),
  );
  c.write('POST /exec/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
  const got = new Promise<void>((r) =>
    c.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (received.includes(last)) r();
    }),
  );
  const ticker = setInterval(() => c.writable && c.write('window-update'), 2);
  await Promise.race([got, proxyEnd]);
  // The client still has work to do with what it got before it closes.
  await sleep(150);
  clearInterval(ticker);
  clientEnded = true;
  c.end();
  await Promise.race([proxyEnd, once(c, 'close')]);
  c.destroy();
  return { received, endedByProxyFirst, endedAfterClient: !endedByProxyFirst };
}

describe('proxyUpgrade: the backend’s last bytes reach the client, and the client closes first', () => {
  for (const mode of ['end', 'reset'] as const) {
    test(`backend closes right after its last bytes (${mode === 'end' ? 'FIN' : 'RST'}); one hop and two hops`, async () => {
      const last = `{"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}`;
      const backend = await closingBackend(last, mode);
      const kubelet = await proxyServer(backend.url);
      const apiserver = await proxyServer(new URL(`http://127.0.0.1:${kubelet.port}/exec/x`));
      try {
        for (const port of [kubelet.port, apiserver.port]) {
          const r = await client(port, last);
          assert.ok(r.received.includes('101 Switching Protocols'), r.received);
          assert.ok(r.received.endsWith(last), `the last bytes arrive: ${JSON.stringify(r.received)}`);
          assert.equal(r.endedByProxyFirst, false, 'the proxy waits for the client to close');
        }
        await backend.sawClose;
      } finally {
        await apiserver.close();
        await kubelet.close();
        await backend.close();
      }
    });
  }

  test('a client that goes away closes the backend connection', async () => {
    let backendClosed!: () => void;
    const closed = new Promise<void>((r) => (backendClosed = r));
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.on('close', () => backendClosed());
      sock.once('data', () => sock.write('HTTP/1.1 101 Switching Protocols\r\n\r\nhello'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = await proxyServer(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`));
    try {
      const c = net.connect(proxy.port, '127.0.0.1');
      c.write('POST /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      let got = '';
      await new Promise<void>((r) => c.on('data', (d: Buffer) => (got += d.toString()).includes('hello') && r()));
      c.destroy();
      await closed;
      assert.match(got, /hello$/);
    } finally {
      await proxy.close();
      server.close();
    }
  });
});
