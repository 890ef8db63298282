/**
 * The REST operations keelson serves, derived from the registry, in a form both the OpenAPI v3
 * and the v2 writers render. Only resources whose kind upstream's spec defines are listed, so
 * every operation's schemas resolve.
 */
import type { Registry } from '../registry/registry.js';
import { groupVersion, type ResourceDef } from '../registry/types.js';
import { definitionFor, type GroupVersionKind } from './upstream-spec.js';

export type QueryParam =
  | 'pretty'
  | 'dryRun'
  | 'fieldManager'
  | 'fieldValidation'
  | 'force'
  | 'labelSelector'
  | 'fieldSelector'
  | 'limit'
  | 'continue'
  | 'resourceVersion'
  | 'resourceVersionMatch'
  | 'watch'
  | 'allowWatchBookmarks'
  | 'sendInitialEvents'
  | 'timeoutSeconds'
  | 'gracePeriodSeconds'
  | 'orphanDependents'
  | 'propagationPolicy';

/** Query parameters: type and what they do. */
export const queryParams: Record<QueryParam, { type: 'string' | 'boolean' | 'integer'; description: string }> = {
  pretty: { type: 'string', description: "If 'true', then the output is pretty printed." },
  dryRun: { type: 'string', description: 'When present, modifications are not persisted. The only valid value is All.' },
  fieldManager: { type: 'string', description: 'A name for the actor making these changes, recorded in managedFields.' },
  fieldValidation: {
    type: 'string',
    description: 'How the server handles unknown and duplicate fields in the body: Ignore, Warn or Strict.',
  },
  force: { type: 'boolean', description: 'Re-acquires fields owned by other managers on apply requests. Must be unset for other patches.' },
  labelSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their labels.' },
  fieldSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their fields.' },
  limit: { type: 'integer', description: 'The maximum number of items to return; the rest is reached through continue.' },
  continue: { type: 'string', description: 'The continue token of a previous list call, to fetch the next page.' },
  resourceVersion: { type: 'string', description: 'The resourceVersion the list or watch starts from.' },
  resourceVersionMatch: { type: 'string', description: 'How resourceVersion applies to list calls: Exact or NotOlderThan.' },
  watch: { type: 'boolean', description: 'Watch for changes and stream add, update and remove notifications.' },
  allowWatchBookmarks: { type: 'boolean', description: 'Requests watch events of type BOOKMARK.' },
  sendInitialEvents: { type: 'boolean', description: 'Starts a watch with synthetic events for the current state.' },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list or watch call.' },
  gracePeriodSeconds: { type: 'integer', description: 'Seconds before the object is deleted; zero deletes immediately.' },
  orphanDependents: { type: 'boolean', description: 'Deprecated: use propagationPolicy.' },
  propagationPolicy: { type: 'string', description: 'Garbage collection of dependents: Orphan, Background or Foreground.' },
};

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
export type Action = 'get' | 'list' | 'put' | 'post' | 'patch' | 'delete' | 'deletecollection';

export interface OperationSpec {
  method: Method;
  action: Action;
  operationId: string;
  description: string;
  tag: string;
  gvk: GroupVersionKind;
  query: QueryParam[];
  /** The request body's definition, if there is a body. */
  body?: string;
  /** The content types accepted for the body. */
  consumes: string[];
  /** Response codes and their definition. */
  responses: { code: string; description: string; schema?: string }[];
}

export interface PathSpec {
  path: string;
  /** Path parameters, in path order. */
  pathParams: ('namespace' | 'name')[];
  operations: OperationSpec[];
}

export interface GroupVersionSpec {
  group: string;
  version: string;
  /** `api/v1` or `apis/apps/v1`: the key under /openapi/v3. */
  key: string;
  paths: PathSpec[];
  /** Definitions the documents must carry: kinds, lists, and what operations use. */
  roots: string[];
}

export const defaultContentTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
export const patchContentTypes = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const statusDef = `${meta}.Status`;
const deleteOptionsDef = `${meta}.DeleteOptions`;
const patchDef = `${meta}.Patch`;
const watchEventDef = `${meta}.WatchEvent`;

const writeQuery: QueryParam[] = ['pretty', 'dryRun', 'fieldManager', 'fieldValidation'];
const listQuery: QueryParam[] = ['pretty', 'allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const deleteQuery: QueryParam[] = ['pretty', 'dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'];

function pascal(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Upstream's operation id prefix: `CoreV1`, `AppsV1`, `RbacAuthorizationV1`. */
function idPrefix(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
  return g.split(/[.-]/).map(pascal).join('') + pascal(version);
}

function tagOf(group: string, version: string): string {
  const g = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/\./g, '_');
  return `${g}_${version}`;
}

function allows(def: ResourceDef, verb: string): boolean {
  return !def.verbs || def.verbs.includes(verb);
}

/** The operations of one resource, with its subresources that carry an object. */
function resourcePaths(def: ResourceDef, kindDef: string, listDef: string | undefined): { paths: PathSpec[]; roots: string[] } {
  const { group, version, kind, plural } = def;
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const gvk = { group, version, kind };
  const prefix = idPrefix(group, version);
  const tag = tagOf(group, version);
  const ns = def.namespaced ? 'Namespaced' : '';
  const collection = def.namespaced ? `${base}/namespaces/{namespace}/${plural}` : `${base}/${plural}`;
  const collectionParams: PathSpec['pathParams'] = def.namespaced ? ['namespace'] : [];
  const item = `${collection}/{name}`;
  const itemParams: PathSpec['pathParams'] = [...collectionParams, 'name'];
  const ok = (schema: string) => [{ code: '200', description: 'OK', schema }];
  const created = (schema: string) => [
    { code: '200', description: 'OK', schema },
    { code: '201', description: 'Created', schema },
    { code: '202', description: 'Accepted', schema },
  ];
  const roots = [kindDef, statusDef, deleteOptionsDef, patchDef, watchEventDef];
  const paths: PathSpec[] = [];

  const coll: OperationSpec[] = [];
  if (listDef && allows(def, 'list')) {
    coll.push({ method: 'get', action: 'list', operationId: `list${prefix}${ns}${kind}`, description: `list or watch objects of kind ${kind}`, tag, gvk, query: listQuery, consumes: [], responses: ok(listDef) });
    roots.push(listDef);
  }
  if (allows(def, 'create')) {
    coll.push({ method: 'post', action: 'post', operationId: `create${prefix}${ns}${kind}`, description: `create a ${kind}`, tag, gvk, query: writeQuery, body: kindDef, consumes: [], responses: created(kindDef) });
  }
  if (allows(def, 'deletecollection')) {
    coll.push({ method: 'delete', action: 'deletecollection', operationId: `deletecollection${prefix}${ns}${kind}`, description: `delete collection of ${kind}`, tag, gvk, query: [...deleteQuery, ...listQuery.filter((q) => q !== 'pretty' && q !== 'watch' && q !== 'allowWatchBookmarks')], body: deleteOptionsDef, consumes: [], responses: ok(statusDef) });
  }
  if (coll.length > 0) paths.push({ path: collection, pathParams: collectionParams, operations: coll });

  const one: OperationSpec[] = [];
  if (allows(def, 'get')) one.push({ method: 'get', action: 'get', operationId: `read${prefix}${ns}${kind}`, description: `read the specified ${kind}`, tag, gvk, query: ['pretty'], consumes: [], responses: ok(kindDef) });
  if (allows(def, 'update')) {
    one.push({ method: 'put', action: 'put', operationId: `replace${prefix}${ns}${kind}`, description: `replace the specified ${kind}`, tag, gvk, query: writeQuery, body: kindDef, consumes: [], responses: [...ok(kindDef), { code: '201', description: 'Created', schema: kindDef }] });
  }
  if (allows(def, 'patch')) {
    one.push({ method: 'patch', action: 'patch', operationId: `patch${prefix}${ns}${kind}`, description: `partially update the specified ${kind}`, tag, gvk, query: [...writeQuery, 'force'], body: patchDef, consumes: patchContentTypes, responses: [...ok(kindDef), { code: '201', description: 'Created', schema: kindDef }] });
  }
  if (allows(def, 'delete')) {
    one.push({ method: 'delete', action: 'delete', operationId: `delete${prefix}${ns}${kind}`, description: `delete a ${kind}`, tag, gvk, query: deleteQuery, body: deleteOptionsDef, consumes: [], responses: [...ok(statusDef), { code: '202', description: 'Accepted', schema: statusDef }] });
  }
  if (one.length > 0) paths.push({ path: item, pathParams: itemParams, operations: one });

  if (def.namespaced && listDef && allows(def, 'list')) {
    paths.push({
      path: `${base}/${plural}`,
      pathParams: [],
      operations: [{ method: 'get', action: 'list', operationId: `list${prefix}${kind}ForAllNamespaces`, description: `list or watch objects of kind ${kind}`, tag, gvk, query: listQuery, consumes: [], responses: ok(listDef) }],
    });
  }

  for (const sub of def.subresources ?? []) {
    const subPath = `${item}/${sub}`;
    const Sub = pascal(sub);
    if (sub === 'status') {
      paths.push({
        path: subPath,
        pathParams: itemParams,
        operations: [
          { method: 'get', action: 'get', operationId: `read${prefix}${ns}${kind}Status`, description: `read status of the specified ${kind}`, tag, gvk, query: ['pretty'], consumes: [], responses: ok(kindDef) },
          { method: 'put', action: 'put', operationId: `replace${prefix}${ns}${kind}Status`, description: `replace status of the specified ${kind}`, tag, gvk, query: writeQuery, body: kindDef, consumes: [], responses: ok(kindDef) },
          { method: 'patch', action: 'patch', operationId: `patch${prefix}${ns}${kind}Status`, description: `partially update status of the specified ${kind}`, tag, gvk, query: [...writeQuery, 'force'], body: patchDef, consumes: patchContentTypes, responses: ok(kindDef) },
        ],
      });
    } else if (sub === 'scale') {
      const scaleGVK = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
      const scaleDef = definitionFor(scaleGVK);
      if (!scaleDef) continue;
      roots.push(scaleDef);
      paths.push({
        path: subPath,
        pathParams: itemParams,
        operations: [
          { method: 'get', action: 'get', operationId: `read${prefix}${ns}${kind}Scale`, description: `read scale of the specified ${kind}`, tag, gvk: scaleGVK, query: ['pretty'], consumes: [], responses: ok(scaleDef) },
          { method: 'put', action: 'put', operationId: `replace${prefix}${ns}${kind}Scale`, description: `replace scale of the specified ${kind}`, tag, gvk: scaleGVK, query: writeQuery, body: scaleDef, consumes: [], responses: ok(scaleDef) },
          { method: 'patch', action: 'patch', operationId: `patch${prefix}${ns}${kind}Scale`, description: `partially update scale of the specified ${kind}`, tag, gvk: scaleGVK, query: [...writeQuery, 'force'], body: patchDef, consumes: patchContentTypes, responses: ok(scaleDef) },
        ],
      });
    } else if (sub === 'binding' || sub === 'eviction') {
      const subGVK = sub === 'binding' ? { group: '', version: 'v1', kind: 'Binding' } : { group: 'policy', version: 'v1', kind: 'Eviction' };
      const subDef = definitionFor(subGVK);
      if (!subDef) continue;
      roots.push(subDef);
      paths.push({
        path: subPath,
        pathParams: itemParams,
        operations: [{ method: 'post', action: 'post', operationId: `create${prefix}${ns}${kind}${Sub}`, description: `create ${sub} of a ${kind}`, tag, gvk: subGVK, query: writeQuery, body: subDef, consumes: [], responses: created(subDef) }],
      });
    } else if (sub === 'finalize') {
      paths.push({
        path: subPath,
        pathParams: itemParams,
        operations: [{ method: 'put', action: 'put', operationId: `replace${prefix}${ns}${kind}Finalize`, description: `replace finalize of the specified ${kind}`, tag, gvk, query: writeQuery, body: kindDef, consumes: [], responses: ok(kindDef) }],
      });
    }
    // Streaming subresources (log, exec, attach, portforward, proxy) carry no object schema.
  }
  return { paths, roots };
}

/** Every group-version the registry serves, with the operations of the resources upstream defines. */
export function groupVersionSpecs(registry: Registry): GroupVersionSpec[] {
  const out: GroupVersionSpec[] = [];
  for (const g of registry.groups) {
    for (const version of g.versions) {
      const paths: PathSpec[] = [];
      const roots: string[] = [];
      for (const def of registry.resourcesIn(g.name, version)) {
        const kindDef = definitionFor({ group: def.group, version: def.version, kind: def.kind });
        if (!kindDef) continue;
        const listDef = definitionFor({ group: def.group, version: def.version, kind: `${def.kind}List` });
        const r = resourcePaths(def, kindDef, listDef);
        paths.push(...r.paths);
        for (const n of r.roots) if (!roots.includes(n)) roots.push(n);
      }
      if (paths.length === 0) continue;
      const key = g.name === '' ? `api/${version}` : `apis/${groupVersion({ group: g.name, version })}`;
      out.push({ group: g.name, version, key, paths, roots });
    }
  }
  return out;
}
