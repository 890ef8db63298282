/**
 * The OpenAPI v2 (Swagger 2.0) document of everything keelson serves, as kube-apiserver serves at
 * /openapi/v2. kubectl 1.27 and 1.28 read it (as protobuf, see gnostic.ts) for apply and explain.
 */
import type { Registry } from '../registry/registry.js';
import { kubernetesVersion } from '../apiserver/version.js';
import { upstreamSpec, withReferences, componentsPrefix } from './upstream-spec.js';
import { groupVersionSpecs, queryParams, defaultContentTypes, type OperationSpec, type PathSpec } from './operations.js';

export type SwaggerDocument = Record<string, unknown> & {
  swagger: '2.0';
  paths: Record<string, Record<string, unknown>>;
  definitions: Record<string, unknown>;
};

const definitionsPrefix = '#/definitions/';

/** A deep copy of a v3 schema with its references pointed at `#/definitions/`. */
export function toV2Schema(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toV2Schema);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === '$ref' && typeof x === 'string' && x.startsWith(componentsPrefix) ? definitionsPrefix + x.slice(componentsPrefix.length) : toV2Schema(x);
  }
  return out;
}

const pathParamDescription = {
  name: 'name of the object',
  namespace: 'object name and auth scope, such as for teams and projects',
};

function operation(op: OperationSpec): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  if (op.body) parameters.push({ name: 'body', in: 'body', required: op.method !== 'delete', schema: { $ref: definitionsPrefix + op.body } });
  for (const name of op.query) {
    parameters.push({ uniqueItems: true, type: queryParams[name].type, description: queryParams[name].description, name, in: 'query' });
  }
  const responses: Record<string, unknown> = {};
  for (const r of op.responses) responses[r.code] = r.schema ? { description: r.description, schema: { $ref: definitionsPrefix + r.schema } } : { description: r.description };
  responses['401'] = { description: 'Unauthorized' };
  return {
    description: op.description,
    consumes: op.consumes.length > 0 ? op.consumes : ['*/*'],
    produces: op.action === 'list' ? [...defaultContentTypes, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'] : defaultContentTypes,
    schemes: ['https'],
    tags: [op.tag],
    operationId: op.operationId,
    parameters,
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { ...op.gvk },
  };
}

function pathItem(p: PathSpec): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const op of p.operations) item[op.method] = operation(op);
  if (p.pathParams.length > 0) {
    item.parameters = p.pathParams.map((name) => ({ uniqueItems: true, type: 'string', description: pathParamDescription[name], name, in: 'path', required: true }));
  }
  return item;
}

export function buildV2(registry: Registry): SwaggerDocument {
  const { schemas } = upstreamSpec();
  const paths: Record<string, Record<string, unknown>> = {};
  const roots: string[] = [];
  for (const gv of groupVersionSpecs(registry)) {
    for (const p of gv.paths) paths[p.path] = pathItem(p);
    for (const r of gv.roots) if (!roots.includes(r)) roots.push(r);
  }
  const definitions: Record<string, unknown> = {};
  for (const name of withReferences(roots).sort()) definitions[name] = toV2Schema(schemas[name]);
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: kubernetesVersion.gitVersion },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
}
