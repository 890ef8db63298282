/**
 * `metadata.managedFields` on every write, as upstream's field manager keeps them
 * (k8s.io/apimachinery's managedfields/internal): decoding and encoding the entries, the
 * bookkeeping of an update (create, update, non-apply patch) and of an apply, with upstream's
 * layers in upstream's order:
 *
 * - entries sent by the client are used when they are valid, except through a subresource; an
 *   empty list, or a list holding one empty entry, resets them;
 * - an object without managed fields is only tracked from its creation or its first apply (which
 *   first records the fields it has as `before-first-apply`);
 * - at most 10 update entries are kept, the oldest being folded into `ancient-changes`;
 * - the manager name, operation, API version and subresource identify an entry (API version
 *   excluded for appliers);
 * - an update entry's time moves only when the update took fields, an apply entry's only when the
 *   apply changed the object; type metadata and system metadata are never owned;
 * - for the manager `kubectl` (kubectl's `--server-side`), conflicts that the client-side-apply
 *   annotation accounts for are forced, and that annotation is kept up to date.
 */
import * as errors from '../../api/errors.js';
import { clone, nowRFC3339 } from '../../api/meta.js';
import type { KubeObject, StatusCause } from '../../api/types.js';
import { FieldSet, makePath, pathString, type Path } from './fieldpath.js';
import { type Atom, resolveFor } from './schema.js';
import { compare, toFieldSet } from './typed.js';
import { type ManagedFields, type VersionedSet, ConflictsError, type Conflict, apply as smdApply, update as smdUpdate, conflictSet } from './updater.js';
import { type JSONValue, type JSONMap, isMap, hasKey, goJSON } from './value.js';

/** One `metadata.managedFields` entry (metav1.ManagedFieldsEntry). */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

/** The annotation kubectl's client-side apply keeps. */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

const beforeFirstApplyManager = 'before-first-apply';
const ancientChangesManager = 'ancient-changes';
const currentOperation = 'current-operation';
/** Upstream's DefaultMaxUpdateManagers. */
export const maxUpdateManagers = 10;

/** Decoded managed fields: what each manager owns, and when it last changed something. */
export interface Managed {
  fields: ManagedFields;
  times: Map<string, string | undefined>;
}

function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

/** The identifier of an entry: its JSON without time and fields, and without apiVersion for appliers. */
export function managerIdentifier(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: Record<string, string> = {};
  if (e.manager) id.manager = e.manager;
  if (e.operation) id.operation = e.operation;
  if (e.apiVersion && e.operation !== 'Apply') id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/**
 * Decoded FieldsV1 by their JSON text: entries a write leaves alone are not parsed again on the
 * next write. Field sets are never changed once built, so one can serve every request.
 */
const decodedSets = new Map<string, FieldSet>();
const decodedSetsMax = 512;
/** The FieldsV1 of sets encoded before (a copy is handed out each time). */
const encodedSets = new WeakMap<FieldSet, JSONMap>();

function decodeSet(fieldsV1: unknown): FieldSet {
  if (fieldsV1 === undefined || fieldsV1 === null) return FieldSet.empty();
  if (!isMap(fieldsV1)) return FieldSet.fromFieldsV1(fieldsV1);
  const key = JSON.stringify(fieldsV1);
  const hit = decodedSets.get(key);
  if (hit) return hit;
  const set = FieldSet.fromFieldsV1(fieldsV1);
  if (decodedSets.size >= decodedSetsMax) decodedSets.clear();
  decodedSets.set(key, set);
  return set;
}

function encodeSet(set: FieldSet): JSONMap {
  const known = encodedSets.get(set);
  if (known) return clone(known);
  const out = set.toFieldsV1();
  encodedSets.set(set, clone(out));
  return out;
}

const parsedIds = new Map<string, Readonly<ManagedFieldsEntry>>();

/** The entry an identifier stands for (remembered: the same few managers write again and again). */
function parseIdentifier(id: string): Readonly<ManagedFieldsEntry> {
  let e = parsedIds.get(id);
  if (!e) {
    e = Object.freeze(parseIdentifierText(id));
    if (parsedIds.size >= 1024) parsedIds.clear();
    parsedIds.set(id, e);
  }
  return e;
}

function parseIdentifierText(id: string): ManagedFieldsEntry {
  try {
    const v = JSON.parse(id) as unknown;
    return isMap(v) ? (v as ManagedFieldsEntry) : { manager: id };
  } catch {
    return { manager: id };
  }
}

/** Decodes entries; throws on an entry upstream would reject. */
export function decodeManagedFields(entries: unknown): Managed {
  const m = emptyManaged();
  if (entries === undefined || entries === null) return m;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    if (!isMap(raw)) throw new Error(`managed fields entry ${i} is not an object`);
    const e = raw as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion.length < 1) throw new Error('apiVersion must not be empty');
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const id = managerIdentifier(e);
    const set = decodeSet(e.fieldsV1);
    m.fields.set(id, { set, apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    m.times.set(id, typeof e.time === 'string' ? e.time : undefined);
  });
  return m;
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function compareStrings(a: string | undefined, b: string | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The entries in upstream's order: appliers first, then by time, manager, version, subresource. */
export function encodeManagedFields(m: Managed): ManagedFieldsEntry[] | undefined {
  if (m.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.fields) {
    const base = parseIdentifier(id);
    const e: ManagedFieldsEntry = {};
    e.manager = base.manager;
    e.operation = vs.applied ? 'Apply' : (base.operation ?? 'Update');
    e.apiVersion = vs.apiVersion;
    const t = m.times.get(id);
    if (t) e.time = t;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = encodeSet(vs.set);
    if (base.subresource) e.subresource = base.subresource;
    if (!e.manager) delete e.manager;
    out.push(e);
  }
  out.sort(
    (p, q) =>
      compareStrings(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      compareStrings(p.manager, q.manager) ||
      compareStrings(p.apiVersion, q.apiVersion) ||
      compareStrings(p.subresource, q.subresource),
  );
  return out;
}

/** Whether the client asks to drop all managed fields: an empty list, or one empty entry. */
export function isResetManagedFields(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  if (v.length === 0) return true;
  return v.length === 1 && isMap(v[0]) && Object.keys(v[0]).length === 0;
}

function decodeOrEmpty(v: unknown): Managed {
  try {
    return decodeManagedFields(v);
  } catch {
    return emptyManaged();
  }
}

/**
 * The managed fields an update starts from: the request's own entries when valid and not empty
 * (that is how clients such as kubectl rewrite them), else the live object's. Subresources always
 * use the live object's.
 */
export function decodeLiveOrNew(live: KubeObject | undefined, next: KubeObject, isSubresource: boolean): Managed {
  const liveEntries = live?.metadata?.managedFields;
  if (isSubresource) return decodeOrEmpty(liveEntries);
  const requested = next.metadata?.managedFields;
  if (isResetManagedFields(requested)) return emptyManaged();
  try {
    const m = decodeManagedFields(requested);
    if (m.fields.size > 0) return m;
  } catch {
    // Fall back to the live object's entries.
  }
  return decodeOrEmpty(liveEntries);
}

/** Fields nobody owns: type metadata and system metadata. */
const stripSet = FieldSet.of(
  makePath('apiVersion'),
  makePath('kind'),
  makePath('metadata'),
  makePath('metadata', 'name'),
  makePath('metadata', 'namespace'),
  makePath('metadata', 'creationTimestamp'),
  makePath('metadata', 'selfLink'),
  makePath('metadata', 'uid'),
  makePath('metadata', 'clusterName'),
  makePath('metadata', 'generation'),
  makePath('metadata', 'managedFields'),
  makePath('metadata', 'resourceVersion'),
);

function stripMeta(fields: ManagedFields, manager: string): void {
  const vs = fields.get(manager);
  if (!vs) return;
  const set = vs.set.difference(stripSet);
  if (set.empty()) fields.delete(manager);
  else fields.set(manager, { ...vs, set });
}

/** What every managed-fields computation of one request needs. */
export interface RequestContext {
  /** The type of the object (schema.ts). */
  type: Atom;
  /** The request's group/version, as `apps/v1`. */
  apiVersion: string;
  kind: string;
  /** The manager name; upstream records "unknown" when there is none. */
  manager: string | undefined;
  subresource?: string;
  /** Fields no manager is recorded for (see `ignoredFields`). */
  ignored?: FieldSet;
  now: Date;
}

function rfc3339(d: Date): string {
  return nowRFC3339(d);
}

/** A copy of the object, as JSON (undefined members dropped), without its managed fields. */
function withoutManagedFields(o: KubeObject | undefined): JSONMap | undefined {
  if (!o) return undefined;
  const meta = o.metadata as unknown;
  if (!isMap(meta) || !hasKey(meta, 'managedFields')) return clone(o) as unknown as JSONMap;
  const m: JSONMap = { ...meta };
  delete m.managedFields;
  // Spreading keeps metadata where it was among the members.
  return clone({ ...o, metadata: m }) as unknown as JSONMap;
}

/**
 * The struct fields Go's types hold by value rather than by pointer. They exist, empty, in the
 * freshly allocated object upstream compares a create against, so creating them is not recorded
 * as adding them (no `".": {}` on `f:spec`). OpenAPI does not say which fields these are.
 */
const valueStructFields = new Set(['metadata', 'spec', 'status', 'template', 'strategy', 'updateStrategy']);

/**
 * The object a create is compared against: upstream compares with a new, empty object of the
 * kind, in which required fields and struct-valued fields are present (empty or null).
 */
export function emptyObjectFor(type: Atom, next: JSONMap): JSONMap {
  const skeleton = (t: Atom, v: JSONMap): JSONMap => {
    const r = resolveFor(t, v);
    const out: JSONMap = {};
    if (r.kind !== 'map' || r.atomic || r.fields.size === 0) return out;
    for (const [k, ft] of r.fields) {
      if (!(k in v) || !(r.required.has(k) || valueStructFields.has(k))) continue;
      const child = v[k];
      const fr = resolveFor(ft(), child);
      out[k] = fr.kind === 'map' && !fr.atomic && fr.fields.size > 0 && isMap(child) ? skeleton(ft(), child) : null;
    }
    return out;
  };
  const out = skeleton(type, next);
  if (typeof next.apiVersion === 'string') out.apiVersion = next.apiVersion;
  if (typeof next.kind === 'string') out.kind = next.kind;
  return out;
}

/**
 * The live object as upstream's typed copy of it reads: the struct-valued fields the new object
 * has exist in it, at least empty, so that filling them in does not count as adding them.
 */
function withEmptyStructs(live: JSONMap, skeleton: JSONMap): JSONMap {
  const out: JSONMap = { ...live };
  for (const [k, v] of Object.entries(skeleton)) {
    if (!(k in out)) out[k] = v;
    else if (isMap(v) && isMap(out[k])) out[k] = withEmptyStructs(out[k] as JSONMap, v);
  }
  return out;
}

/** The inner update: the changed fields go to the manager, whose time moves when it took any. */
function updateInner(ctx: RequestContext, live: JSONMap | undefined, next: JSONMap, managed: Managed, id: string): Managed {
  const skeleton = emptyObjectFor(ctx.type, next);
  const lhs = live ? withEmptyStructs(live, skeleton) : skeleton;
  const fields = smdUpdate({ type: ctx.type, apiVersion: ctx.apiVersion, ignored: ctx.ignored }, lhs, next, managed.fields, currentOperation);
  stripMeta(fields, currentOperation);
  const times = new Map(managed.times);
  const vs = fields.get(currentOperation);
  if (vs) {
    fields.delete(currentOperation);
    const prev = fields.get(id);
    fields.set(id, { set: prev ? prev.set.union(vs.set) : vs.set, apiVersion: vs.apiVersion, applied: false });
    // Upstream's scale handler rebuilds scale entries without their time.
    times.set(id, ctx.subresource === 'scale' ? undefined : rfc3339(ctx.now));
  }
  return { fields, times };
}

/** Folds the oldest update entries into `ancient-changes` when there are too many. */
function capUpdateManagers(m: Managed): Managed {
  const updaters = [...m.fields].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= maxUpdateManagers) return m;
  updaters.sort((a, b) => seconds(m.times.get(a)) - seconds(m.times.get(b)) || compareStrings(a, b));
  const fields = new Map(m.fields);
  const times = new Map(m.times);
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > maxUpdateManagers; i++) {
    const id = updaters[i]!;
    const vs = fields.get(id)!;
    const bucket = managerIdentifier({ manager: ancientChangesManager, operation: 'Update', apiVersion: vs.apiVersion });
    const first = firstOfVersion.get(vs.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, id);
      continue;
    }
    if (!fields.has(bucket)) {
      fields.set(bucket, fields.get(first)!);
      fields.delete(first);
    }
    fields.set(bucket, { set: vs.set.union(fields.get(bucket)!.set), apiVersion: vs.apiVersion, applied: false });
    fields.delete(id);
    times.set(bucket, times.get(id));
    length--;
  }
  return { fields, times };
}

function setManagedFields(obj: KubeObject, m: Managed): KubeObject {
  const entries = encodeManagedFields(m);
  if (!isMap(obj.metadata)) obj.metadata = {};
  if (entries) obj.metadata.managedFields = entries as never;
  else delete obj.metadata.managedFields;
  return obj;
}

/**
 * Records an update (create when `live` is undefined): returns `next` with its managed fields
 * set. `next` is the object about to be stored; its own `metadata.managedFields` are the request's.
 */
export function updateManagedFields(ctx: RequestContext, live: KubeObject | undefined, next: KubeObject): KubeObject {
  if (live === undefined && isMap(next.metadata) && next.metadata.managedFields === undefined) return recordCreate(ctx, next);
  return updateManagedFieldsSlow(ctx, live, next);
}

function updateManagedFieldsSlow(ctx: RequestContext, live: KubeObject | undefined, next: KubeObject): KubeObject {
  const managed = decodeLiveOrNew(live, next, !!ctx.subresource);
  const lhs = withoutManagedFields(live);
  const rhs = withoutManagedFields(next)!;
  if (next.metadata) delete next.metadata.managedFields;
  // Objects that have no managed fields are only tracked from their creation or first apply.
  if (managed.fields.size === 0 && live !== undefined) return next;
  const id = managerIdentifier({ manager: ctx.manager || 'unknown', operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
  let m: Managed;
  try {
    m = capUpdateManagers(updateInner(ctx, lhs, rhs, managed, id));
  } catch {
    // Upstream drops the managed fields rather than failing the write (UpdateNoErrors).
    return next;
  }
  return setManagedFields(next, m);
}

/**
 * The managed fields of creates, by what was created: objects made from one template (a
 * ReplicaSet's pods, a benchmark's) differ only in values no field path holds, so the walk and the
 * encoding are done once per shape. Bounded; the oldest entry goes first.
 */
const createMemo = new Map<string, ManagedFieldsEntry[] | null>();
const createMemoMax = 128;
const memoIds = new WeakMap<object, number>();
let memoIdNext = 0;

function memoId(o: object | undefined): number {
  if (!o) return -1;
  let id = memoIds.get(o);
  if (id === undefined) memoIds.set(o, (id = memoIdNext++));
  return id;
}

/**
 * Metadata whose values no field path holds and that differ from one object to the next of one
 * template: only whether they are there counts (string values all read as "").
 */
const shapeOnlyMeta = ['name', 'generateName', 'namespace', 'uid', 'creationTimestamp'] as const;

/** The key of a create: the context, and the object with `shapeOnlyMeta` values blanked. */
function createKey(ctx: RequestContext, next: KubeObject): string {
  const meta: Record<string, unknown> = { ...next.metadata };
  for (const k of shapeOnlyMeta) if (typeof meta[k] === 'string') meta[k] = '';
  // The type and the reset fields are fixed per resource and subresource; the ids tell them apart.
  return `${memoId(ctx.type)}\u0000${memoId(ctx.ignored)}\u0000${ctx.apiVersion}\u0000${ctx.manager ?? ''}\u0000${ctx.subresource ?? ''}\u0000${JSON.stringify({ ...next, metadata: meta })}`;
}

/**
 * How the memo fares per type. Kinds whose objects rarely share a shape (events: every message
 * differs) skip it for a while rather than pay for keys that never hit.
 */
interface MemoStats {
  hits: number;
  misses: number;
  /** Creates left to do without the memo. */
  bypass: number;
}
const memoStats = new WeakMap<Atom, MemoStats>();

function statsFor(type: Atom): MemoStats {
  let st = memoStats.get(type);
  if (!st) memoStats.set(type, (st = { hits: 0, misses: 0, bypass: 0 }));
  return st;
}

/** A create without managed fields in the request: `updateManagedFieldsSlow`'s result, memoized by shape. */
function recordCreate(ctx: RequestContext, next: KubeObject): KubeObject {
  const st = statsFor(ctx.type);
  if (st.bypass > 0) {
    st.bypass--;
    return updateManagedFieldsSlow(ctx, undefined, next);
  }
  if (st.misses >= 32) {
    if (st.hits * 4 < st.misses) st.bypass = 1024;
    st.hits = 0;
    st.misses = 0;
  }
  let key: string;
  try {
    key = createKey(ctx, next);
  } catch {
    return updateManagedFieldsSlow(ctx, undefined, next);
  }
  const hit = createMemo.get(key);
  if (hit !== undefined) {
    st.hits++;
    createMemo.delete(key);
    createMemo.set(key, hit);
    delete next.metadata!.managedFields;
    if (hit === null) return next;
    const time = rfc3339(ctx.now);
    const entries = clone(hit);
    for (const e of entries) if (e.time !== undefined) e.time = time;
    next.metadata!.managedFields = entries as never;
    return next;
  }
  st.misses++;
  const out = updateManagedFieldsSlow(ctx, undefined, next);
  const entries = out.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  // A walk that failed records nothing; it is not remembered (it fails again, as cheaply).
  if (entries === undefined && !createdWithoutFields(ctx, next)) return out;
  createMemo.set(key, entries === undefined ? null : clone(entries));
  if (createMemo.size > createMemoMax) createMemo.delete(createMemo.keys().next().value!);
  return out;
}

/** Whether a create records no entry because it set no field anyone owns (not because it failed). */
function createdWithoutFields(ctx: RequestContext, next: KubeObject): boolean {
  try {
    const id = managerIdentifier({ manager: ctx.manager || 'unknown', operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
    updateInner(ctx, undefined, withoutManagedFields(next)!, emptyManaged(), id);
    return true;
  } catch {
    return false;
  }
}

/** The applied configuration as the client-side-apply annotation holds it. */
function buildLastApplied(config: KubeObject): string {
  const c = JSON.parse(JSON.stringify(config)) as KubeObject;
  const ann = c.metadata?.annotations as Record<string, string> | undefined;
  if (ann) {
    delete ann[lastAppliedAnnotation];
    if (Object.keys(ann).length === 0) delete c.metadata!.annotations;
  }
  return goJSON(c) + '\n';
}

/** Fields the client-side-apply annotation sets to the values the live object still has. */
function allowedConflictsFromLastApplied(ctx: RequestContext, live: JSONMap): FieldSet | undefined {
  const ann = (live.metadata as KubeObject['metadata'])?.annotations?.[lastAppliedAnnotation];
  if (!ann) return undefined;
  let last: unknown;
  try {
    last = JSON.parse(ann);
  } catch {
    return undefined;
  }
  if (!isMap(last) || last.apiVersion !== ctx.apiVersion) return undefined;
  try {
    const set = toFieldSet(last, ctx.type);
    const c = compare(last, live, ctx.type);
    return set.difference(c.modified).difference(c.added).difference(c.removed);
  } catch {
    return undefined;
  }
}

/** Which error an apply fails with. */
export function applyConflictError(conflicts: Conflict[]): errors.StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  return new errors.StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: conflictMessage(conflicts), reason: 'Conflict', details: { causes }, code: 409 });
}

/** `"kubectl-client-side-apply" using apps/v1`, `"kubectl"`, `"x" with subresource "status" using v1`. */
export function printManager(id: string): string {
  const e = parseIdentifier(id);
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += e.time ? ` using ${e.apiVersion} at ${e.time}` : ` using ${e.apiVersion}`;
  return s;
}

/** Upstream's message: one conflict inline, several grouped by manager. */
export function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) return `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  const byManager = new Map<string, Path[]>();
  for (const c of conflicts) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.path]);
  const lines: string[] = [];
  for (const m of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${printManager(m)}:`);
    for (const p of byManager.get(m)!) lines.push(`- ${pathString(p)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

export interface ApplyContext extends RequestContext {
  force: boolean;
}

/**
 * Applies a configuration to the live object (undefined: the object does not exist yet). Returns
 * the object to store, with its managed fields. Throws a 409 on conflicts and 400 on a
 * configuration that does not fit the object.
 */
export function applyManagedFields(ctx: ApplyContext, live: KubeObject | undefined, config: KubeObject): KubeObject {
  if (config.apiVersion !== ctx.apiVersion) {
    throw errors.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${config.apiVersion ?? ''}, expected: ${ctx.apiVersion}`);
  }
  if (config.metadata !== undefined && !isMap(config.metadata)) throw errors.badRequest('error decoding YAML: metadata must be an object');
  if (config.metadata?.managedFields !== undefined) throw errors.badRequest('metadata.managedFields must be nil');
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (e) {
    throw errors.internalError(`failed to decode managed fields: ${e instanceof Error ? e.message : String(e)}`);
  }
  const liveValue: JSONMap = withoutManagedFields(live) ?? { apiVersion: ctx.apiVersion, kind: ctx.kind };
  const configValue = clone(config) as unknown as JSONMap;
  const run = (force: boolean) => applyInner(ctx, liveValue, configValue, managed, force, live === undefined);
  let result: { object: JSONMap; managed: Managed };
  try {
    result = run(ctx.force);
  } catch (e) {
    if (!(e instanceof ConflictsError)) throw e;
    // kubectl --server-side may take over what its client-side apply set, as recorded.
    const allowed = ctx.manager === 'kubectl' ? allowedConflictsFromLastApplied(ctx, liveValue) : undefined;
    if (!allowed) throw applyConflictError(e.conflicts);
    const rest = e.conflicts.filter((c) => !allowed.has(c.path));
    if (rest.length > 0) throw applyConflictError(rest);
    result = run(true);
  }
  const object = result.object as KubeObject;
  const ann = object.metadata?.annotations as Record<string, string> | undefined;
  if (ctx.manager === 'kubectl' && ann?.[lastAppliedAnnotation]) ann[lastAppliedAnnotation] = buildLastApplied(config);
  return setManagedFields(object, result.managed);
}

function applyInner(ctx: ApplyContext, live: JSONMap, config: JSONMap, managed: Managed, force: boolean, creating: boolean): { object: JSONMap; managed: Managed } {
  let m = managed;
  if (m.fields.size === 0 && !creating) {
    // Before its first apply, whatever the object holds belongs to `before-first-apply`.
    const id = managerIdentifier({ manager: beforeFirstApplyManager, operation: 'Update', apiVersion: ctx.apiVersion, subresource: ctx.subresource });
    m = capUpdateManagers(updateInner(ctx, undefined, live, m, id));
  }
  const id = managerIdentifier({ manager: ctx.manager || 'unknown', operation: 'Apply', subresource: ctx.subresource });
  let r;
  try {
    r = smdApply({ type: ctx.type, apiVersion: ctx.apiVersion, ignored: ctx.ignored }, live, config, m.fields, id, force);
  } catch (e) {
    if (e instanceof ConflictsError) throw e;
    throw errors.badRequest(`failed to create typed patch object (${objectName(live, config)}; ${ctx.apiVersion}, Kind=${ctx.kind}): ${e instanceof Error ? e.message : String(e)}`);
  }
  const fields = r.managers;
  stripMeta(fields, id);
  const times = new Map(m.times);
  if (r.object !== undefined) times.set(id, rfc3339(ctx.now));
  const object = (r.object ?? live) as JSONMap;
  return { object: dropNullsFromApply(object, live), managed: { fields, times } };
}

function objectName(live: JSONMap, config: JSONMap): string {
  const meta = (isMap(live.metadata) ? live.metadata : isMap(config.metadata) ? config.metadata : {}) as JSONMap;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}`;
}

/**
 * Explicit nulls in an applied configuration clear the field: upstream stores the typed object,
 * where null and absent are the same. Nulls the live object already held are kept.
 */
function dropNullsFromApply(v: JSONMap, live: JSONValue | undefined): JSONMap {
  const walk = (x: JSONValue, l: JSONValue | undefined): JSONValue => {
    if (Array.isArray(x)) return x.map((item, i) => (isMap(item) ? walk(item, Array.isArray(l) ? l[i] : undefined) : item));
    if (!isMap(x)) return x;
    const out: JSONMap = {};
    const lm = isMap(l) ? l : undefined;
    for (const [k, c] of Object.entries(x)) {
      if (c === null && !(lm && lm[k] === null)) continue;
      out[k] = walk(c, lm?.[k]);
    }
    return out;
  };
  return walk(v, live) as JSONMap;
}

/**
 * The reset fields of a write: on the main resource of a kind with a status subresource, status
 * belongs to nobody; through /status, everything but status does.
 */
export function ignoredFields(type: Atom, subresource: string | undefined, hasStatus: boolean): FieldSet | undefined {
  if (subresource === 'status') {
    const s = FieldSet.empty();
    const names = type.kind === 'map' ? [...type.fields.keys()] : ['spec'];
    for (const n of names) if (!['status', 'metadata', 'apiVersion', 'kind'].includes(n)) s.insert(makePath(n));
    return s;
  }
  if (hasStatus && !subresource) return FieldSet.of(makePath('status'));
  return undefined;
}

export { ConflictsError, conflictSet };
export type { VersionedSet, ManagedFields };
