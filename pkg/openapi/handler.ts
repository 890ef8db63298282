/**
 * Serves /openapi/v3 (the index), /openapi/v3/<group-version> and /openapi/v2 (JSON, or gnostic
 * protobuf when asked for). The documents are built once, on the first request, from the built-in
 * registry and upstream's definitions, and kept.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import * as errors from '../api/errors.js';
import { Registry } from '../registry/registry.js';
import { builtinResources } from '../registry/resources.js';
import { buildV3, served, servedBytes, type OpenAPIV3Documents, type ServedDocument } from './v3.js';
import { buildV2 } from './v2.js';
import { encodeSwagger } from './gnostic.js';

/**
 * The protobuf v2 media type. kubectl asks for it with `@v1.0` (upstream's deprecated spelling),
 * but the answer must carry the dotted form: Go's mime.ParseMediaType rejects the `@`.
 */
export const v2ProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
export const v2ProtobufTypeDeprecated = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

let v3: OpenAPIV3Documents | undefined;
let v2: { json: ServedDocument; protobuf: ServedDocument } | undefined;

function registry(): Registry {
  return new Registry(builtinResources);
}

export function openAPIV3(): OpenAPIV3Documents {
  v3 ??= buildV3(registry());
  return v3;
}

export function openAPIV2(): { json: ServedDocument; protobuf: ServedDocument } {
  if (!v2) {
    const doc = buildV2(registry());
    v2 = { json: served(doc), protobuf: servedBytes(encodeSwagger(doc)) };
  }
  return v2;
}

function acceptTypes(headers: IncomingHttpHeaders): string[] {
  const accept = headers.accept;
  if (!accept) return [];
  return accept
    .split(',')
    .map((t) => t.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean);
}

function acceptsJSON(types: string[]): boolean {
  return types.length === 0 || types.some((t) => t === 'application/json' || t === 'application/*' || t === '*/*');
}

function notModified(headers: IncomingHttpHeaders, etag: string): boolean {
  const inm = headers['if-none-match'];
  if (!inm) return false;
  return inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function send(res: ServerResponse, headers: IncomingHttpHeaders, doc: ServedDocument, contentType: string, extra: Record<string, string>): void {
  const etag = `"${doc.hash}"`;
  const common = { ETag: etag, Vary: 'Accept', ...extra };
  if (notModified(headers, etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': doc.body.length, ...common });
  res.end(doc.body);
}

const revalidate = { 'Cache-Control': 'no-cache, private' };

/**
 * Answers an /openapi/ request. Returns false when the path is not an OpenAPI document (the
 * caller answers 404 then).
 */
export async function serveOpenAPI(path: string, query: URLSearchParams, headers: IncomingHttpHeaders, res: ServerResponse): Promise<boolean> {
  const types = acceptTypes(headers);
  if (path === '/openapi/v2' || path === '/openapi/v2/') {
    const docs = openAPIV2();
    if (types.includes(v2ProtobufType) || types.includes(v2ProtobufTypeDeprecated)) {
      send(res, headers, docs.protobuf, v2ProtobufType, revalidate);
      return true;
    }
    if (!acceptsJSON(types)) throw errors.notAcceptable(`only the following media types are accepted: application/json, ${v2ProtobufType}`);
    send(res, headers, docs.json, 'application/json', revalidate);
    return true;
  }
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    if (!acceptsJSON(types)) throw errors.notAcceptable('only the following media types are accepted: application/json');
    send(res, headers, openAPIV3().index, 'application/json', revalidate);
    return true;
  }
  if (!path.startsWith('/openapi/v3/')) return false;
  const key = path.slice('/openapi/v3/'.length).replace(/\/+$/, '');
  const doc = openAPIV3().groupVersions.get(key);
  if (!doc) return false;
  if (!acceptsJSON(types)) throw errors.notAcceptable('only the following media types are accepted: application/json');
  const hash = query.get('hash');
  if (hash !== null && hash !== '' && hash !== doc.hash) {
    // A stale link: point the client at the current document, as upstream does.
    res.writeHead(301, { Location: `/openapi/v3/${key}?hash=${doc.hash}`, ...revalidate });
    res.end();
    return true;
  }
  const caching: Record<string, string> = hash ? { 'Cache-Control': 'public, immutable', Expires: new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString() } : revalidate;
  send(res, headers, doc, 'application/json', caching);
  return true;
}
