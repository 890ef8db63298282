/**
 * Content negotiation: which representation a client asked for (plain JSON, Table, aggregated
 * discovery) and how its request body is decoded (JSON, YAML, protobuf, and the patch types).
 */
import YAML from 'yaml';
import * as errors from '../api/errors.js';
import type { KubeObject } from '../api/types.js';

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

/** Splits an Accept header into media ranges with their parameters, in order. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

export type OutputKind = { kind: 'json' } | { kind: 'table'; version: 'v1' | 'v1beta1' } | { kind: 'partial-metadata'; version: 'v1' | 'v1beta1'; list: boolean };

/** Picks the first acceptable representation of an object or list. */
export function negotiateOutput(accept: string | undefined): OutputKind {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { kind: 'json' };
  for (const r of ranges) {
    if (r.type === 'application/json' || r.type === 'application/*' || r.type === '*/*' || r.type === 'application/vnd.kubernetes.protobuf' || r.type === 'application/yaml') {
      const as = r.params['as'];
      if (!as) {
        if (r.type === 'application/vnd.kubernetes.protobuf' || r.type === 'application/yaml') continue;
        return { kind: 'json' };
      }
      if (r.params['g'] !== 'meta.k8s.io') continue;
      const v = r.params['v'];
      if (v !== 'v1' && v !== 'v1beta1') continue;
      if (as === 'Table') return { kind: 'table', version: v };
      if (as === 'PartialObjectMetadata') return { kind: 'partial-metadata', version: v, list: false };
      if (as === 'PartialObjectMetadataList') return { kind: 'partial-metadata', version: v, list: true };
    }
  }
  // Only protobuf (without JSON) or unknown media types: we always answer JSON, as clients accept.
  const onlyUnknown = ranges.every((r) => !['application/json', 'application/*', '*/*', 'application/vnd.kubernetes.protobuf', 'application/yaml'].includes(r.type));
  if (onlyUnknown) throw errors.notAcceptable(`only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  return { kind: 'json' };
}

/** Which aggregated discovery form, if any, a client asked for on /api or /apis. */
export function negotiateDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const r of parseAccept(accept)) {
    if (r.type !== 'application/json') continue;
    if (r.params['g'] === 'apidiscovery.k8s.io' && r.params['as'] === 'APIGroupDiscoveryList') {
      if (r.params['v'] === 'v2') return 'v2';
      if (r.params['v'] === 'v2beta1') return 'v2beta1';
    }
    if (!r.params['as']) return undefined;
  }
  return undefined;
}

export type BodyKind = 'json' | 'yaml' | 'protobuf' | 'merge-patch' | 'json-patch' | 'strategic-merge-patch' | 'apply-patch';

/** The body kind from a Content-Type, or undefined when unsupported. */
export function bodyKind(contentType: string | undefined): BodyKind | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (t) {
    case '':
    case 'application/json':
      return 'json';
    case 'application/yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return t.endsWith('cbor') ? undefined : 'apply-patch';
    default:
      return undefined;
  }
}

/** Parses JSON text, answering 400 with the parser's message as upstream does for bad JSON. */
export function parseJSON(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') throw errors.badRequest('the request body is empty');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`the object provided is unrecognized: ${(e as Error).message}`);
  }
}

/** Parses a YAML document (one only). */
export function parseYAML(body: Buffer): unknown {
  let docs: YAML.Document[];
  try {
    docs = YAML.parseAllDocuments(body.toString('utf8')) as YAML.Document[];
  } catch (e) {
    throw errors.badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
  }
  const d = docs.filter((x) => x.contents !== null);
  if (d.length === 0) throw errors.badRequest('the request body is empty');
  if (d[0]!.errors.length) throw errors.badRequest(`error converting YAML to JSON: ${d[0]!.errors[0]!.message}`);
  return d[0]!.toJSON();
}

/** Checks that a decoded body is an object (not an array, string or number). */
export function asObject(v: unknown): KubeObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw errors.badRequest(`the object provided is unrecognized: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return v as KubeObject;
}
