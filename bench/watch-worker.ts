/**
 * One of the watch benchmark's client threads (see `benchWatch` in api.ts): it holds its share of
 * the watches on raw sockets, so that reading a thousand streams costs the client little, and
 * notes when each watch first sees each object, on the clock every thread of the process shares
 * (`performance.timeOrigin + performance.now()`).
 *
 * workerData: { host, port, path, count }. Messages out: { ready: true } once every watch has its
 * response headers; { receipts } (name → receipt times, one per watch that saw it) when told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, type Socket } from 'node:net';

interface Input {
  host: string;
  port: number;
  path: string;
  count: number;
}

const input = workerData as Input;
const receipts = new Map<string, number[]>();
const sockets: Socket[] = [];
let ready = 0;
const namePattern = /"name":"(w-\d+)"/g;

function now(): number {
  return performance.timeOrigin + performance.now();
}

for (let i = 0; i < input.count; i++) {
  const seen = new Set<string>();
  let headersDone = false;
  let tail = '';
  const s = connect(input.port, input.host, () => {
    s.write(`GET ${input.path} HTTP/1.1\r\nHost: ${input.host}:${input.port}\r\nAccept: application/json\r\n\r\n`);
  });
  s.setNoDelay(true);
  s.on('data', (chunk: Buffer) => {
    const t = now();
    let text = tail + chunk.toString('latin1');
    if (!headersDone) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        tail = text;
        return;
      }
      if (!text.startsWith('HTTP/1.1 200')) {
        parentPort!.postMessage({ error: text.slice(0, 200) });
        s.destroy();
        return;
      }
      headersDone = true;
      text = text.slice(end + 4);
      if (++ready === input.count) parentPort!.postMessage({ ready: true });
    }
    namePattern.lastIndex = 0;
    for (let m = namePattern.exec(text); m; m = namePattern.exec(text)) {
      const name = m[1]!;
      // A name may be matched twice when it straddles reads (it is kept in `tail`).
      if (seen.has(name)) continue;
      seen.add(name);
      let list = receipts.get(name);
      if (!list) receipts.set(name, (list = []));
      list.push(t);
    }
    tail = text.slice(-64);
  });
  s.on('error', () => {});
  sockets.push(s);
}

parentPort!.on('message', (m: { stop?: boolean }) => {
  if (!m.stop) return;
  for (const s of sockets) s.destroy();
  parentPort!.postMessage({ receipts: [...receipts] });
});
