/**
 * JSON encoding of response bodies: a per-object cache of the JSON of objects shared with the
 * watch cache, lists written from those cached encodings in chunks, and gzip for large bodies
 * when the client accepts it (as upstream: level 1, bodies over 128 KiB).
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';

/** Bodies larger than this are gzipped for clients that accept it (upstream's threshold). */
export const GZIP_THRESHOLD_BYTES = 128 * 1024;

/** How much of a list is gathered into one write. */
const CHUNK_BYTES = 256 * 1024;

interface Encoded {
  /** The object's own property values when it was encoded, in order: a check against reuse. */
  values: unknown[];
  json: Buffer;
}

/**
 * Encodings keyed by the object's metadata. A served object is a fresh shallow wrapper around
 * the watch cache's nested values (see RegistryStore.outShared), so the metadata object is what
 * stays the same from one request to the next, and is replaced whenever the object changes (each
 * revision is decoded anew from etcd). The entry is only used when every top-level value is the
 * same as when it was encoded; nested values are never modified in shared objects.
 */
const encodings = new WeakMap<object, Encoded>();

function sameValues(obj: Record<string, unknown>, values: unknown[]): boolean {
  let i = 0;
  for (const k in obj) {
    if (i >= values.length || obj[k] !== values[i]) return false;
    i++;
  }
  return i === values.length;
}

/**
 * The JSON of an object that is shared with the watch cache and never modified (items of a list
 * read with `shared`, objects of shared watch events), encoded once and reused.
 */
export function sharedObjectJSON(obj: object): Buffer {
  const o = obj as Record<string, unknown>;
  const meta = o.metadata;
  if (meta === null || typeof meta !== 'object') return Buffer.from(JSON.stringify(obj));
  const hit = encodings.get(meta);
  if (hit && sameValues(o, hit.values)) return hit.json;
  const values: unknown[] = [];
  for (const k in o) values.push(o[k]);
  const json = Buffer.from(JSON.stringify(obj));
  encodings.set(meta, { values, json });
  return json;
}

/** Whether a request's Accept-Encoding allows gzip (a `gzip` coding not refused with q=0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (!header) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const part of text.split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

function wantsGzip(res: ServerResponse, size: number): boolean {
  return size > GZIP_THRESHOLD_BYTES && acceptsGzip(res.req?.headers['accept-encoding']);
}

/** Resolves when `w` drains, or when it or the response closes or fails. */
function waitDrain(w: NodeJS.WritableStream, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      res.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
    res.on('close', done);
  });
}

/**
 * Writes a body made of parts (strings and buffers) with the given status and headers: gzipped
 * when it is large and the client accepts gzip, else with its Content-Length. The parts are
 * gathered into chunks of about CHUNK_BYTES and written as the socket drains.
 */
export async function sendParts(res: ServerResponse, code: number, headers: Record<string, string>, parts: (string | Buffer)[]): Promise<void> {
  const bufs = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
  let size = 0;
  for (const b of bufs) size += b.length;
  const gzip = wantsGzip(res, size);
  if (gzip) res.writeHead(code, { ...headers, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
  else res.writeHead(code, { ...headers, 'Content-Length': String(size) });
  if (res.req?.method === 'HEAD') {
    res.end();
    return;
  }
  let out: NodeJS.WritableStream = res;
  if (gzip) {
    const z = createGzip({ level: 1 });
    // A client that goes away destroys the compressor too.
    pipeline(z, res, () => {});
    out = z;
  }
  let chunk: Buffer[] = [];
  let chunkSize = 0;
  for (let i = 0; i <= bufs.length; i++) {
    const b = bufs[i];
    if (b) {
      chunk.push(b);
      chunkSize += b.length;
    }
    if (chunkSize >= CHUNK_BYTES || (i === bufs.length && chunkSize > 0)) {
      if (res.destroyed || res.closed) {
        if (out !== res) (out as NodeJS.ReadWriteStream & { destroy(): void }).destroy();
        return;
      }
      const ok = out.write(chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk, chunkSize));
      chunk = [];
      chunkSize = 0;
      if (!ok) await waitDrain(out, res);
    }
  }
  out.end();
}

/** A JSON body: gzipped when large and the client accepts gzip. */
export function sendJSONText(res: ServerResponse, code: number, text: string, headers: Record<string, string>): void {
  const size = Buffer.byteLength(text);
  if (!wantsGzip(res, size)) {
    res.writeHead(code, { ...headers, 'Content-Length': String(size) });
    res.end(text);
    return;
  }
  sendParts(res, code, headers, [text]).catch(() => res.destroy());
}
