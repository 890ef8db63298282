/**
 * The REST handlers for resource requests: they decode the request, call the registry store and
 * encode the answer (JSON, Table, or a watch stream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import * as errors from '../api/errors.js';
import { clone, nowRFC3339 } from '../api/meta.js';
import type { KubeObject, StoredObject, DeleteOptions } from '../api/types.js';
import { labelSelectorAsSelector, formatLabelSelector } from '../api/labels.js';
import type { Registry } from '../registry/registry.js';
import type { RegistryStore, ListOptions, WatchEvent } from '../registry/store.js';
import { groupVersion, type ResourceDef } from '../registry/types.js';
import { parseRequestInfo, type RequestInfo } from './request-info.js';
import { negotiateOutput, bodyKind, parseJSON, parseYAML, asObject, type BodyKind, type OutputKind } from './negotiation.js';
import { mergePatch, applyJSONPatch } from './patch.js';
import { toTable, parseIncludeObject, partialObjectMetadata } from './table.js';
import { sendJSONText, sendParts, sharedObjectJSON } from './encode.js';
import type { ApiserverMetrics } from './metrics.js';
import { decodeProtobuf } from './protobuf.js';
import { strategicMergePatch } from './strategic-merge.js';
import type { UserInfo } from '../auth/types.js';
import { parseFieldValidation, validateFields, duplicateFields } from './field-validation.js';
import { NODE_PROXY_SUBRESOURCES, serveNodeProxy, lookupFromContext, type KubeletClientTLS } from './node-proxy.js';
import { managerFromRequest, validateFieldManager, validatePatchOptions, serverSideApply, storeForScale } from './managedfields/request.js';

export interface HandlerContext {
  registry: Registry;
  store: RegistryStore;
  logger: Logger;
  metrics: ApiserverMetrics;
  /** Bookmark interval for watches that allow them. */
  bookmarkIntervalMs: number;
  /** The largest request body accepted. */
  maxRequestBodyBytes: number;
  /** Closes every open watch when the server stops. */
  watchAbort: AbortSignal;
  /** How much a watch may have queued for a slow client before it is closed. */
  maxWatchBufferBytes: number;
  /** The client certificate kubelets are dialed with (pods/log, exec, attach, portforward); plain http when unset. */
  kubeletTLS?: KubeletClientTLS;
}

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The authenticated user. */
  user?: UserInfo;
}

/** A JSON response; gzipped when large and the client accepts gzip, as upstream. */
export function sendJSON(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendJSONText(res, code, JSON.stringify(body), { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
}

const COMMA = Buffer.from(',');

/**
 * A JSON list of objects shared with the watch cache, each written from its cached encoding
 * (see `sharedObjectJSON`): the same bytes as JSON.stringify of the whole list.
 */
async function sendSharedList(res: ServerResponse, kind: string, apiVersion: string, metadata: Record<string, unknown>, items: StoredObject[]): Promise<void> {
  const head = JSON.stringify({ kind, apiVersion, metadata, items: [] });
  // head ends in `[]}`: the items go between the brackets.
  const parts: (string | Buffer)[] = [head.slice(0, -2)];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(sharedObjectJSON(items[i]!));
  }
  parts.push(']}');
  await sendParts(res, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' }, parts);
}

export function sendStatusError(res: ServerResponse, err: unknown): number {
  const se = errors.toStatusError(err);
  const headers: Record<string, string> = {};
  if (se.code === 429 && se.status.details?.retryAfterSeconds) headers['Retry-After'] = String(se.status.details.retryAfterSeconds);
  if (res.headersSent) {
    res.end();
    return se.code;
  }
  const text = JSON.stringify(se.status);
  res.writeHead(se.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
  return se.code;
}

/** Adds `Warning: 299 - "…"` headers, which kubectl prints as `Warning: …`. */
export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  const prev = res.getHeader('Warning');
  const list = Array.isArray(prev) ? prev : prev ? [String(prev)] : [];
  res.setHeader('Warning', [...list, ...warnings.map((w) => `299 - ${JSON.stringify(w)}`)]);
}

/** Drops and reports unknown or duplicate fields of a create or update body. */
async function checkBodyFields(req: Request, res: ServerResponse, def: ResourceDef, obj: KubeObject): Promise<void> {
  if (bodyKind(req.headers['content-type']) === 'protobuf') return;
  const mode = parseFieldValidation(req.query);
  const raw = bodyKind(req.headers['content-type']) === 'json' ? req.body.toString('utf8') : undefined;
  const r = await validateFields(def, obj, mode, raw, `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: `);
  addWarnings(res, r.warnings);
}

/** The field manager of a write: `?fieldManager=`, else the client's User-Agent prefix (422 if malformed). */
function fieldManagerOf(req: Request): string {
  const m = managerFromRequest(req.query.get('fieldManager'), req.headers['user-agent']);
  const errs = validateFieldManager(req.query.get('fieldManager') ?? '');
  if (errs.length) throw errors.invalid({ group: 'meta.k8s.io', kind: 'CreateOptions' }, '', errs);
  return m;
}

function queryBool(q: URLSearchParams, k: string): boolean {
  const v = q.get(k);
  return v === 'true' || v === '1';
}

function dryRunOf(q: URLSearchParams): boolean {
  const vals = q.getAll('dryRun');
  if (vals.length === 0) return false;
  for (const v of vals) if (v !== 'All') throw errors.badRequest(`Invalid dryRun value: "${v}": supported values: "All"`);
  return true;
}

function intParam(q: URLSearchParams, k: string): number | undefined {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for ${k}: ${JSON.stringify(v)}`);
  return Number(v);
}

function listOptions(q: URLSearchParams): ListOptions {
  const limit = intParam(q, 'limit');
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit: limit && limit > 0 ? limit : undefined,
    continue: q.get('continue') || undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') || undefined,
  };
}

/** Decodes a create or update body: JSON, YAML or protobuf. */
function decodeBody(req: Request, def: ResourceDef | undefined): KubeObject {
  const kind = bodyKind(req.headers['content-type']);
  switch (kind) {
    case 'json':
      return asObject(parseJSON(req.body));
    case 'yaml':
      return asObject(parseYAML(req.body));
    case 'protobuf':
      return decodeProtobuf(req.body, def);
    default:
      throw errors.unsupportedMediaType(req.headers['content-type'] ?? '');
  }
}

function scopeOf(info: RequestInfo): string {
  if (info.name) return 'resource';
  return info.namespace ? 'namespace' : 'cluster';
}

function metricsVerb(info: RequestInfo, req: Request): string {
  if (info.verb === 'patch' && bodyKind(req.headers['content-type']) === 'apply-patch') return 'APPLY';
  switch (info.verb) {
    case 'create':
      return 'POST';
    case 'update':
      return 'PUT';
    case 'deletecollection':
      return 'DELETE';
    default:
      return info.verb.toUpperCase();
  }
}

/** Serves one request under /api or /apis that names a resource. */
export async function serveResource(ctx: HandlerContext, req: Request, res: ServerResponse): Promise<void> {
  const start = process.hrtime.bigint();
  const info = parseRequestInfo(req.method, req.path, req.query);
  let code = 500;
  let labels: Record<string, string> | undefined;
  try {
    if (!info) throw errors.pathNotFound();
    const def = ctx.registry.lookup(info.group, info.version, info.resource);
    labels = {
      verb: metricsVerb(info, req),
      dry_run: req.query.has('dryRun') ? 'All' : '',
      group: info.group,
      version: info.version,
      resource: info.resource,
      subresource: info.subresource ?? '',
      scope: scopeOf(info),
      component: 'apiserver',
    };
    if (!def) throw errors.pathNotFound();
    if (info.subresource && !(def.subresources ?? []).includes(info.subresource)) throw errors.pathNotFound();
    if (def.namespaced && info.name === undefined && info.namespace === undefined && !['list', 'watch'].includes(info.verb)) {
      throw errors.methodNotSupported({ group: def.group, resource: def.plural }, info.verb);
    }
    if (!def.namespaced && info.namespace !== undefined) throw errors.pathNotFound();
    if (info.verb === 'watch') {
      const { longrunning } = ctx.metrics;
      const lrLabels = { ...labels };
      delete (lrLabels as Record<string, string>).dry_run;
      longrunning.inc(lrLabels);
      try {
        code = await serveWatch(ctx, def, info, req, res);
      } finally {
        longrunning.dec(lrLabels);
      }
      return;
    }
    code = await dispatch(ctx, def, info, req, res);
  } catch (e) {
    if (!(e instanceof errors.StatusError)) ctx.logger.error({ err: e instanceof Error ? e.stack : String(e), path: req.path }, 'internal error');
    code = sendStatusError(res, e);
  } finally {
    if (labels) {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      ctx.metrics.requestTotal.inc({ ...labels, code: String(code) });
      if (info?.verb !== 'watch') ctx.metrics.requestDuration.observe(labels, seconds);
    }
  }
}

function respondObject(res: ServerResponse, code: number, def: ResourceDef, obj: StoredObject, out: OutputKind, q: URLSearchParams): number {
  if (out.kind === 'table') {
    sendJSON(res, code, toTable(def, [obj], { resourceVersion: undefined }, parseIncludeObject(q.get('includeObject')), out.version));
  } else if (out.kind === 'partial-metadata') {
    sendJSON(res, code, partialObjectMetadata(obj, out.version));
  } else sendJSON(res, code, obj);
  return code;
}

async function dispatch(ctx: HandlerContext, def: ResourceDef, info: RequestInfo, req: Request, res: ServerResponse): Promise<number> {
  const { store } = ctx;
  const q = req.query;
  const ns = info.namespace;
  const out = req.method === 'GET' || req.method === 'HEAD' ? negotiateOutput(req.headers.accept) : ({ kind: 'json' } as OutputKind);
  const sub = info.subresource;
  const gr = { group: def.group, resource: def.plural };
  // Logs and streams are the pod's node's business: proxied to its kubelet.
  if (def.group === '' && def.plural === 'pods' && info.name && sub && (NODE_PROXY_SUBRESOURCES as readonly string[]).includes(sub)) {
    return serveNodeProxy(lookupFromContext(ctx), req, res, ns!, info.name, sub);
  }
  switch (info.verb) {
    case 'get': {
      if (sub === 'scale') return sendScale(res, 200, def, await store.get(def, ns, info.name!));
      if (sub && sub !== 'status') throw errors.methodNotSupported(gr, 'get');
      return respondObject(res, 200, def, await store.get(def, ns, info.name!), out, q);
    }
    case 'list': {
      const opts = listOptions(q);
      // The items are only serialized here, so they may share the watch cache's objects.
      const r = await store.list(def, ns, opts, { shared: true });
      const meta = { resourceVersion: r.resourceVersion, continue: r.continue, remainingItemCount: r.remainingItemCount };
      if (out.kind === 'table') {
        sendJSON(res, 200, toTable(def, r.items, meta, parseIncludeObject(q.get('includeObject')), out.version));
      } else if (out.kind === 'partial-metadata') {
        sendJSON(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${out.version}`, metadata: cleanMeta(meta), items: r.items.map((o) => partialObjectMetadata(o, out.version)) });
      } else {
        await sendSharedList(res, `${def.kind}List`, groupVersion(def), cleanMeta(meta), r.items);
      }
      return 200;
    }
    case 'create': {
      const dryRun = dryRunOf(q);
      if (info.name && sub && def.subresourceCreate?.[sub]) {
        const r = await def.subresourceCreate[sub]!({ namespace: ns, name: info.name, body: decodeBody(req, undefined), user: req.user, dryRun, query: q });
        sendJSON(res, r.code, r.body);
        return r.code;
      }
      if (!info.name && def.virtualCreate) {
        const r = await def.virtualCreate({ namespace: ns, body: decodeBody(req, def), user: req.user, dryRun, query: q });
        sendJSON(res, r.code, r.body);
        return r.code;
      }
      if (info.name) {
        if (def.plural === 'pods' && sub === 'binding') return createBinding(ctx, def, ns!, info.name, decodeBody(req, undefined), dryRun, res);
        if (def.plural === 'pods' && sub === 'eviction') return createEviction(ctx, def, ns!, info.name, decodeBody(req, undefined), dryRun, res);
        if (def.plural === 'serviceaccounts' && sub === 'token') throw errors.notImplemented('serviceaccounts/token (TokenRequest) arrives with the security work');
        throw errors.methodNotSupported(gr, 'create');
      }
      const obj = decodeBody(req, def);
      await checkBodyFields(req, res, def, obj);
      const created = await store.create(def, ns, obj, { dryRun, fieldManager: fieldManagerOf(req), user: req.user, inputOwned: true });
      return respondObject(res, 201, def, created, { kind: 'json' }, q);
    }
    case 'update': {
      const dryRun = dryRunOf(q);
      const body = decodeBody(req, sub === 'scale' ? undefined : def);
      if (sub === 'scale') return updateScale(ctx, def, ns, info.name!, () => body, dryRun, res, body.metadata?.resourceVersion ?? '');
      if (sub && sub !== 'status' && sub !== 'finalize') throw errors.methodNotSupported(gr, 'update');
      await checkBodyFields(req, res, def, body);
      const updated = await store.update(def, ns, info.name!, body, sub, { dryRun, fieldManager: fieldManagerOf(req), user: req.user });
      return respondObject(res, 200, def, updated, { kind: 'json' }, q);
    }
    case 'patch': {
      const dryRun = dryRunOf(q);
      const kind = bodyKind(req.headers['content-type']);
      if (!kind || !['merge-patch', 'json-patch', 'strategic-merge-patch', 'apply-patch'].includes(kind)) {
        throw errors.unsupportedMediaType(req.headers['content-type'] ?? '');
      }
      const { force } = validatePatchOptions(q, kind === 'apply-patch');
      const manager = managerFromRequest(q.get('fieldManager'), req.headers['user-agent']);
      const mode = parseFieldValidation(q);
      if (kind === 'apply-patch') {
        if (sub && sub !== 'status') throw errors.methodNotSupported(gr, 'patch');
        const config = asObject(parseYAML(req.body));
        const checked = await validateFields(def, config, mode, undefined, '');
        const r = await serverSideApply(store, def, ns, info.name!, sub, config, { manager, force, dryRun, user: req.user });
        addWarnings(res, checked.warnings);
        return respondObject(res, r.created ? 201 : 200, def, r.object, { kind: 'json' }, q);
      }
      const patchBody = parseJSON(req.body);
      const apply = (cur: KubeObject) => applyPatch(kind, cur, patchBody, def);
      if (sub === 'scale') return updateScale({ ...ctx, store: storeForScale(store, manager) }, def, ns, info.name!, apply, dryRun, res, patchPrecondition(kind, patchBody));
      if (sub && sub !== 'status') throw errors.methodNotSupported(gr, 'patch');
      const dups = mode === 'Ignore' ? [] : duplicateFields(req.body.toString('utf8')).map((f) => `duplicate field "${f}"`);
      if (dups.length && mode === 'Strict') throw errors.badRequest(`strict decoding error: ${dups.join(', ')}`);
      let warnings: string[] = [];
      const r = await store.guaranteedUpdate(
        def,
        ns,
        info.name!,
        sub,
        async (cur) => {
          const patched = apply(cur);
          warnings = (await validateFields(def, patched, mode, undefined, '')).warnings;
          return patched;
        },
        { dryRun, fieldManager: manager, user: req.user, precondition: patchPrecondition(kind, patchBody) },
      );
      addWarnings(res, [...dups, ...warnings]);
      return respondObject(res, 200, def, r.object, { kind: 'json' }, q);
    }
    case 'delete': {
      if (sub) throw errors.methodNotSupported(gr, 'delete');
      const opts = deleteOptions(req);
      const dryRun = dryRunOf(q) || (opts.dryRun ?? []).includes('All');
      const r = await store.delete(def, ns, info.name!, opts, { dryRun, user: req.user });
      if (!r.deleted) return respondObject(res, 202, def, r.object, { kind: 'json' }, q);
      if (def.plural === 'pods' || def.plural === 'namespaces' || def.plural === 'services') return respondObject(res, 200, def, r.object, { kind: 'json' }, q);
      sendJSON(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: info.name, group: def.group || undefined, kind: def.plural, uid: r.object.metadata.uid },
      });
      return 200;
    }
    case 'deletecollection': {
      const opts = deleteOptions(req);
      const dryRun = dryRunOf(q) || (opts.dryRun ?? []).includes('All');
      const items = await store.deleteCollection(def, ns, listOptions(q), opts, { dryRun, user: req.user });
      sendJSON(res, 200, { kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata: {}, items });
      return 200;
    }
    default:
      throw errors.methodNotSupported(gr, info.verb);
  }
}

function cleanMeta(m: { resourceVersion?: string; continue?: string; remainingItemCount?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.resourceVersion) out.resourceVersion = m.resourceVersion;
  if (m.continue) out.continue = m.continue;
  if (m.remainingItemCount !== undefined) out.remainingItemCount = m.remainingItemCount;
  return out;
}

/** The resourceVersion a patch document itself sets ('' when it sets none): its precondition. */
export function patchPrecondition(kind: BodyKind, patch: unknown): string {
  if (kind === 'json-patch') {
    const op = Array.isArray(patch) ? patch.find((o: any) => o?.path === '/metadata/resourceVersion' && (o.op === 'replace' || o.op === 'add' || o.op === 'test')) : undefined;
    return typeof op?.value === 'string' ? op.value : '';
  }
  const rv = (patch as any)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

/** Applies a patch document of the given type to an object. */
export function applyPatch(kind: BodyKind, current: KubeObject, patch: unknown, def: ResourceDef | undefined): KubeObject {
  let result: unknown;
  switch (kind) {
    case 'merge-patch':
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal into merge patch: the patch must be a JSON object');
      result = mergePatch(current, patch);
      break;
    case 'json-patch':
      result = applyJSONPatch(current, patch);
      break;
    case 'strategic-merge-patch':
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal into strategic merge patch: the patch must be a JSON object');
      result = strategicMergePatch(current, patch as Record<string, unknown>, def);
      break;
    default:
      throw errors.unsupportedMediaType(kind);
  }
  return asObject(result);
}

function deleteOptions(req: Request): DeleteOptions {
  let opts: DeleteOptions = {};
  if (req.body.length > 0 && req.body.toString('utf8').trim() !== '') {
    const kind = bodyKind(req.headers['content-type']);
    if (kind === 'protobuf') opts = decodeProtobuf(req.body, undefined) as DeleteOptions;
    else if (kind === 'yaml') opts = asObject(parseYAML(req.body)) as DeleteOptions;
    else opts = asObject(parseJSON(req.body)) as DeleteOptions;
  }
  const q = req.query;
  const grace = intParam(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const pp = q.get('propagationPolicy');
  if (pp) opts.propagationPolicy = pp;
  const od = q.get('orphanDependents');
  if (od !== null) opts.orphanDependents = od === 'true';
  return opts;
}

function scaleOf(def: ResourceDef, parent: StoredObject): KubeObject {
  const sel = def.plural === 'replicationcontrollers' ? labelSelectorAsSelector({ matchLabels: parent.spec?.selector ?? {} }).toString() : formatLabelSelector(parent.spec?.selector).replace('<none>', '');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: parent.metadata.name,
      namespace: parent.metadata.namespace,
      uid: parent.metadata.uid,
      resourceVersion: parent.metadata.resourceVersion,
      creationTimestamp: parent.metadata.creationTimestamp,
    },
    spec: { replicas: parent.spec?.replicas ?? 0 },
    status: { replicas: parent.status?.replicas ?? 0, selector: sel },
  };
}

function sendScale(res: ServerResponse, code: number, def: ResourceDef, parent: StoredObject): number {
  sendJSON(res, code, scaleOf(def, parent));
  return code;
}

async function updateScale(
  ctx: HandlerContext,
  def: ResourceDef,
  ns: string | undefined,
  name: string,
  change: (scale: KubeObject) => KubeObject,
  dryRun: boolean,
  res: ServerResponse,
  precondition: string,
): Promise<number> {
  const r = await ctx.store.guaranteedUpdate(
    def,
    ns,
    name,
    undefined,
    (cur) => {
      const scale = change(scaleOf(def, cur));
      if (scale.kind && scale.kind !== 'Scale') throw errors.badRequest(`the kind in the data (${scale.kind}) does not match the expected kind (Scale)`);
      const replicas = scale.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw errors.invalid({ group: 'autoscaling', kind: 'Scale' }, name, [
          { type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas ?? null, detail: 'must be greater than or equal to 0' },
        ]);
      }
      const next = clone(cur);
      next.spec = { ...(next.spec ?? {}), replicas };
      // The Scale's resourceVersion is the parent's: a stale one is a conflict.
      next.metadata.resourceVersion = scale.metadata?.resourceVersion || undefined;
      if (!next.metadata.resourceVersion) delete next.metadata.resourceVersion;
      return next;
    },
    { dryRun, precondition },
  );
  return sendScale(res, 200, def, r.object);
}

async function createBinding(ctx: HandlerContext, def: ResourceDef, ns: string, name: string, body: KubeObject, dryRun: boolean, res: ServerResponse): Promise<number> {
  const target = body.target?.name;
  if (body.metadata?.name && body.metadata.name !== name) throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  if (!target) {
    throw errors.invalid({ group: '', kind: 'Binding' }, name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
  }
  await ctx.store.guaranteedUpdate(
    def,
    ns,
    name,
    'binding',
    (pod) => {
      if (pod.metadata.deletionTimestamp) throw errors.conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw errors.conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      const uidPre = body.metadata?.uid;
      if (uidPre && uidPre !== pod.metadata.uid) throw errors.conflict({ group: '', resource: 'pods/binding' }, name, `Precondition failed: UID in precondition: ${uidPre}, UID in object meta: ${pod.metadata.uid}`);
      pod.spec = { ...(pod.spec ?? {}), nodeName: target };
      if (body.metadata?.annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...body.metadata.annotations };
      pod.status ??= {};
      const conds = (pod.status.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRFC3339() });
      pod.status.conditions = conds;
      return pod;
    },
    { dryRun },
  );
  sendJSON(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  return 201;
}

async function createEviction(ctx: HandlerContext, def: ResourceDef, ns: string, name: string, body: KubeObject, dryRun: boolean, res: ServerResponse): Promise<number> {
  if (body.apiVersion && !['policy/v1', 'policy/v1beta1'].includes(body.apiVersion)) {
    throw errors.badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (policy/v1)`);
  }
  if (body.metadata?.name && body.metadata.name !== name) throw errors.badRequest(`name in URL does not match name in Eviction object`);
  const pod = await ctx.store.get(def, ns, name);
  const phase = pod.status?.phase;
  // Pods that are not running cannot break a budget; upstream evicts them without checking.
  if (phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Pending' && !pod.metadata.deletionTimestamp) {
    const pdbDef = ctx.registry.lookup('policy', 'v1', 'poddisruptionbudgets');
    if (pdbDef) {
      const pdbs = (await ctx.store.list(pdbDef, ns, {})).items.filter((p) => {
        try {
          return labelSelectorAsSelector(p.spec?.selector).matches(pod.metadata.labels);
        } catch {
          return false;
        }
      });
      if (pdbs.length > 1) throw errors.internalError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      const pdb = pdbs[0];
      if (pdb) {
        if ((pdb.status?.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0) || (pdb.status?.disruptionsAllowed ?? 0) <= 0) {
          const err = errors.tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', 10);
          err.status.details = {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }],
          };
          throw err;
        }
        if (!dryRun) {
          await ctx.store.guaranteedUpdate(pdbDef, ns, pdb.metadata.name!, 'status', (cur) => {
            cur.status = { ...(cur.status ?? {}) };
            cur.status.disruptionsAllowed = Math.max(0, (cur.status.disruptionsAllowed ?? 0) - 1);
            cur.status.disruptedPods = { ...(cur.status.disruptedPods ?? {}), [name]: nowRFC3339() };
            return cur;
          });
        }
      }
    }
  }
  await ctx.store.delete(def, ns, name, (body.deleteOptions ?? {}) as DeleteOptions, { dryRun });
  sendJSON(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  return 201;
}

/**
 * JSON lines of watch events, per event object: the store hands the same event object to every
 * watcher of a cache event, so a fan-out to many watchers serializes it once.
 */
const encodedEvents = new WeakMap<WatchEvent, Buffer>();

const EVENT_TAIL = Buffer.from('}\n');

/**
 * An event line. The object of an ADDED, MODIFIED or DELETED event comes from the watch cache (or
 * is a fresh copy), so its cached encoding is reused: a list and the events of the same object
 * revision encode it once.
 */
function encodeEventJSON(ev: WatchEvent): Buffer {
  let line = encodedEvents.get(ev);
  if (line === undefined) {
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED' || ev.type === 'DELETED') {
      line = Buffer.concat([Buffer.from(`{"type":${JSON.stringify(ev.type)},"object":`), sharedObjectJSON(ev.object), EVENT_TAIL]);
    } else line = Buffer.from(JSON.stringify({ type: ev.type, object: ev.object }) + '\n');
    encodedEvents.set(ev, line);
  }
  return line;
}

/**
 * A watch: 200 with headers flushed at once, then one JSON event per line. Errors that happen
 * after the stream started arrive as an ERROR event carrying the Status, as upstream sends them.
 */
async function serveWatch(ctx: HandlerContext, def: ResourceDef, info: RequestInfo, req: Request, res: ServerResponse): Promise<number> {
  const q = req.query;
  const out = negotiateOutput(req.headers.accept);
  const include = parseIncludeObject(q.get('includeObject'));
  const timeoutSeconds = intParam(q, 'timeoutSeconds');
  const allowBookmarks = queryBool(q, 'allowWatchBookmarks');
  const sendInitial = q.get('sendInitialEvents');
  const fieldSelector = [q.get('fieldSelector'), info.name ? `metadata.name=${info.name.replace(/[\\,=!]/g, (c) => '\\' + c)}` : undefined].filter(Boolean).join(',');
  const encode = (ev: WatchEvent): string | Buffer => {
    if (out.kind === 'json') return encodeEventJSON(ev);
    let obj: unknown = ev.object;
    if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
      if (out.kind === 'table') obj = toTable(def, [ev.object as StoredObject], {}, include, out.version);
      else if (out.kind === 'partial-metadata') obj = partialObjectMetadata(ev.object as StoredObject, out.version);
    }
    return JSON.stringify({ type: ev.type, object: obj }) + '\n';
  };
  let closed = false;
  let handle: Awaited<ReturnType<RegistryStore['watch']>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    handle?.stop();
    clearTimeout(timer);
    clearInterval(bookmarkTimer);
    ctx.watchAbort.removeEventListener('abort', finish);
    res.end();
  };
  // A watcher that cannot keep up is closed rather than buffered without bound; it resumes from
  // the last resourceVersion it saw. The initial burst of a watch from "now" does not count.
  let bufferLimit = Infinity;
  const write = (ev: WatchEvent) => {
    if (closed) return;
    res.write(encode(ev));
    if (res.writableLength > bufferLimit) {
      ctx.logger.warn({ resource: def.plural, buffered: res.writableLength }, 'closing a watch that is too slow to keep up');
      finish();
    }
  };
  const pending: WatchEvent[] = [];
  let started = false;
  try {
    handle = await ctx.store.watch(
      def,
      info.namespace,
      {
        labelSelector: q.get('labelSelector') ?? undefined,
        fieldSelector: fieldSelector || undefined,
        resourceVersion: q.get('resourceVersion') ?? undefined,
        sendInitialEvents: sendInitial === null ? undefined : sendInitial === 'true',
      },
      (ev) => (started ? write(ev) : pending.push(ev)),
      (err) => {
        if (closed) return;
        if (err) write({ type: 'ERROR', object: errors.toStatusError(err).status });
        finish();
      },
      { shared: true },
    );
  } catch (e) {
    const se = errors.toStatusError(e);
    // An expired resourceVersion is reported in the stream, as upstream's cacher does.
    if (se.code !== 410) throw e;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.write(JSON.stringify({ type: 'ERROR', object: se.status }) + '\n');
    res.end();
    return 200;
  }
  res.writeHead(200, { 'Content-Type': out.kind === 'json' ? 'application/json' : 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  started = true;
  for (const ev of pending) write(ev);
  bufferLimit = res.writableLength + ctx.maxWatchBufferBytes;
  const bookmark = (annotations?: Record<string, string>) =>
    write({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: groupVersion(def), metadata: { resourceVersion: String(handle!.revision()), ...(annotations ? { annotations } : {}) } } });
  if (sendInitial === 'true' && allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  const timeoutMs = timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  timer = setTimeout(finish, timeoutMs);
  if (allowBookmarks) bookmarkTimer = setInterval(() => bookmark(), ctx.bookmarkIntervalMs);
  ctx.watchAbort.addEventListener('abort', finish);
  res.on('close', finish);
  return 200;
}
