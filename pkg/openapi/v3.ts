/**
 * OpenAPI v3 documents: one per group-version (`/openapi/v3/apis/apps/v1`) and the index at
 * `/openapi/v3` that points at them with a content hash, as kube-apiserver serves them.
 */
import { createHash } from 'node:crypto';
import type { Registry } from '../registry/registry.js';
import { kubernetesVersion } from '../apiserver/version.js';
import { upstreamSpec, withReferences, componentsPrefix, type SchemaObject } from './upstream-spec.js';
import { groupVersionSpecs, queryParams, defaultContentTypes, type GroupVersionSpec, type OperationSpec, type PathSpec } from './operations.js';

/** One served document: its bytes and the hash clients cache it under. */
export interface ServedDocument {
  body: Buffer;
  /** Upper-case hex SHA-512 of `body`, as upstream computes it. */
  hash: string;
}

export interface OpenAPIV3Documents {
  /** `/openapi/v3`. */
  index: ServedDocument;
  /** By key: `api/v1`, `apis/apps/v1`. */
  groupVersions: Map<string, ServedDocument>;
}

/** Bytes to serve, with their hash. */
export function servedBytes(body: Buffer): ServedDocument {
  return { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

/** A document serialized as JSON, with its hash. */
export function served(doc: unknown): ServedDocument {
  return servedBytes(Buffer.from(JSON.stringify(doc)));
}

const pathParamDescription = {
  name: 'name of the object',
  namespace: 'object name and auth scope, such as for teams and projects',
};

function ref(name: string): { $ref: string } {
  return { $ref: `${componentsPrefix}${name}` };
}

function content(types: string[], schema: string): Record<string, { schema: { $ref: string } }> {
  return Object.fromEntries(types.map((t) => [t, { schema: ref(schema) }]));
}

function operation(op: OperationSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    tags: [op.tag],
    description: op.description,
    operationId: op.operationId,
    parameters: op.query.map((name) => ({
      name,
      in: 'query',
      description: queryParams[name].description,
      schema: { type: queryParams[name].type, uniqueItems: true },
    })),
  };
  if (op.body) out.requestBody = { content: content(op.consumes.length > 0 ? op.consumes : ['*/*'], op.body), required: op.method !== 'delete' };
  const responses: Record<string, unknown> = {};
  for (const r of op.responses) responses[r.code] = r.schema ? { description: r.description, content: content(defaultContentTypes, r.schema) } : { description: r.description };
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = { ...op.gvk };
  return out;
}

function pathItem(p: PathSpec): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const op of p.operations) item[op.method] = operation(op);
  if (p.pathParams.length > 0) {
    item.parameters = p.pathParams.map((name) => ({ name, in: 'path', description: pathParamDescription[name], required: true, schema: { type: 'string', uniqueItems: true } }));
  }
  return item;
}

/** The v3 document of one group-version. */
export function groupVersionDocument(gv: GroupVersionSpec): Record<string, unknown> {
  const { schemas } = upstreamSpec();
  const components: Record<string, SchemaObject> = {};
  for (const name of withReferences(gv.roots)) components[name] = schemas[name]!;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: kubernetesVersion.gitVersion },
    paths: Object.fromEntries(gv.paths.map((p) => [p.path, pathItem(p)])),
    components: {
      schemas: components,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
    security: [{ BearerToken: [] }],
  };
}

export function buildV3(registry: Registry): OpenAPIV3Documents {
  const groupVersions = new Map<string, ServedDocument>();
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersionSpecs(registry)) {
    const doc = served(groupVersionDocument(gv));
    groupVersions.set(gv.key, doc);
    paths[gv.key] = { serverRelativeURL: `/openapi/v3/${gv.key}?hash=${doc.hash}` };
  }
  return { index: served({ paths }), groupVersions };
}
