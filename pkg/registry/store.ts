/**
 * The generic registry store (upstream's genericregistry.Store): object semantics on top of etcd
 * for every resource. Create, get, list, update, patch, delete and watch live here once; per-kind
 * behaviour comes from each resource's Strategy.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import * as errors from '../api/errors.js';
import type { FieldError } from '../api/field-errors.js';
import { deepEqual, clone, generateName, nowRFC3339 } from '../api/meta.js';
import type { KubeObject, StoredObject, DeleteOptions } from '../api/types.js';
import { validateObjectMeta, validateObjectMetaUpdate, nameIsDNSSubdomain } from '../api/validation.js';
import { type Selector, parseLabelSelector, SelectorParseError } from '../api/labels.js';
import { type FieldSelector, parseFieldSelector, FieldSelectorParseError } from '../api/fields.js';
import type { EtcdStore, StorageEvent } from '../storage/etcd-store.js';
import { isStorageError } from '../storage/errors.js';
import { WatchCache, type IndexFunc, type Trigger } from '../storage/watch-cache.js';
import { type ResourceDef, groupVersion } from './types.js';
import { AdmissionChain, type Operation } from '../admission/types.js';
import type { UserInfo } from '../auth/types.js';
import { recordManagedFields } from '../apiserver/managedfields/request.js';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** The user making the request, for admission. */
  user?: UserInfo;
  /**
   * The resourceVersion the client made its write conditional on. Unset: the proposed object's
   * own (a PUT's body). A patch passes what the patch itself sets ('' for none), so a patch
   * that did not ask for a precondition is retried on a concurrent write instead of failing.
   */
  precondition?: string;
  /** The caller hands `input` over (a freshly decoded request body): create may change it instead of copying it. */
  inputOwned?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

/** How a caller reads a list or watch. */
export interface ReadOptions {
  /**
   * The caller only serializes what it gets (the HTTP handlers): items may share structure with
   * the watch cache's objects and with other watchers' events, so they must not be modified.
   */
  shared?: boolean;
}

export interface ListResult {
  items: StoredObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Send synthetic ADDED events for what exists first (RV unset or "0"). */
  sendInitialEvents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** A running watch; `stop` ends it. */
export interface WatchHandle {
  stop(): void;
  /** The revision this watch has delivered up to (for bookmarks). */
  revision(): number;
}

/**
 * Per-resource side effects of writes that are not part of the object itself: allocating
 * ClusterIPs and node ports for Services, releasing them on delete (upstream's REST storage
 * BeforeCreate/AfterDelete).
 */
export interface StoreHooks {
  /** Runs before validation on create; returns an undo for when the write then fails. */
  beforeCreate?(obj: StoredObject, dryRun: boolean): Promise<(() => Promise<void>) | void>;
  /** Runs before validation on update; `undo` when the write fails, `commit` once it landed. */
  beforeUpdate?(obj: StoredObject, old: StoredObject, dryRun: boolean): Promise<{ undo(): Promise<void>; commit(): Promise<void> } | void>;
  /** Runs once the object is gone from etcd. */
  afterDelete?(old: StoredObject): Promise<void>;
}

/** Counts of stored objects per resource, for apiserver_storage_objects. */
export type ObjectCounter = (resource: string, count: number) => void;

/**
 * Watch cache indexes per storage resource: kubelets list and watch pods by spec.nodeName, so
 * neither their lists nor the fan-out of pod events grows with the number of nodes.
 */
const cacheIndexers: Record<string, Record<string, IndexFunc>> = {
  pods: { 'spec.nodeName': (o) => o.spec?.nodeName ?? '' },
};

/** Upstream's optimistic lock text, as the Conflict reason. */
const conflictMsg = errors.optimisticLockErrorMsg;

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start } satisfies ContinueToken)).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..')) throw new Error('bad');
    return t;
  } catch {
    throw errors.badRequest('invalid continue token: continue key is not valid');
  }
}

/** The store shared by every resource. One watch cache per storage prefix. */
export class RegistryStore {
  private readonly caches = new Map<string, WatchCache>();
  /**
   * The last event handed to watchers, as served: a cache event fans out to every watcher of the
   * resource one after another, and they all get this one object (and so its encoding, which the
   * handlers memoize per event object).
   */
  private lastShared: { ev: StorageEvent; def: ResourceDef; type: WatchEventType; out: WatchEvent } | undefined;
  /** The admission chain every write goes through; empty unless the apiserver configures one. */
  admission = new AdmissionChain();
  /** Side effects per storage resource (`services` → IP and port allocation). */
  readonly hooks = new Map<string, StoreHooks>();

  constructor(
    readonly etcd: EtcdStore,
    private readonly logger: Logger,
    private readonly namespaceDef: ResourceDef,
  ) {}

  storageResource(def: ResourceDef): string {
    return def.storageResource ?? def.plural;
  }

  /** `/registry/<resource>/[<namespace>/]<name>`, as kube-apiserver lays out etcd. */
  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    const r = this.storageResource(def);
    return def.namespaced ? `/registry/${r}/${namespace}/${name}` : `/registry/${r}/${name}`;
  }

  prefix(def: ResourceDef, namespace?: string): string {
    const r = this.storageResource(def);
    return def.namespaced && namespace ? `/registry/${r}/${namespace}/` : `/registry/${r}/`;
  }

  /** The watch cache for a resource, created and started on first use. */
  cache(def: ResourceDef): WatchCache {
    const prefix = this.prefix(def);
    let c = this.caches.get(prefix);
    if (!c) {
      c = new WatchCache(this.etcd, prefix, { logger: this.logger, indexers: cacheIndexers[this.storageResource(def)] });
      this.caches.set(prefix, c);
      c.start().catch((e) => {
        this.logger.error({ err: String(e), prefix }, 'watch cache failed to start');
        this.caches.delete(prefix);
      });
    }
    return c;
  }

  /** Starts the caches of these resources and resolves once all of them have loaded. */
  async startCaches(defs: ResourceDef[]): Promise<void> {
    await Promise.all(defs.map((d) => this.cache(d).ready));
  }

  cacheSizes(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [p, c] of this.caches) m.set(p.split('/')[2]!, c.size);
    return m;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.stop()));
    this.caches.clear();
  }

  private gr(def: ResourceDef): errors.GroupResource {
    return { group: def.group, resource: def.plural };
  }

  private toStatus(def: ResourceDef, name: string, e: unknown): unknown {
    if (!isStorageError(e)) return e;
    switch (e.code) {
      case 'KeyNotFound':
        return errors.notFound(this.gr(def), name);
      case 'KeyExists':
        return errors.alreadyExists(this.gr(def), name);
      case 'Conflict':
        return errors.conflict(this.gr(def), name, conflictMsg);
      case 'Compacted':
        return errors.resourceExpired();
      case 'FutureRevision':
        return errors.timeout(`Too large resource version: ${e.message}`, 1);
      default:
        return e;
    }
  }

  /** The object as served by this resource's version, with apiVersion and kind first. */
  private out(def: ResourceDef, obj: StoredObject): StoredObject {
    const o = def.conversion ? def.conversion.fromStorage(obj) : obj;
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return { apiVersion: groupVersion(def), kind: def.kind, ...rest } as StoredObject;
  }

  /**
   * The object as served without copying what does not change: nested values are the cache's
   * own, so the result must not be modified. Resources with a conversion get their own copy.
   */
  private outShared(def: ResourceDef, obj: StoredObject): StoredObject {
    if (def.conversion) return this.out(def, clone(obj));
    return this.out(def, obj);
  }

  /** Reads one object straight from etcd. */
  async get(def: ResourceDef, namespace: string | undefined, name: string): Promise<StoredObject> {
    const obj = await this.etcd.get(this.key(def, namespace, name), def.plural);
    if (!obj) throw errors.notFound(this.gr(def), name);
    return this.out(def, obj);
  }

  /** Checks that a namespace exists and is not terminating, as NamespaceLifecycle does. */
  async checkNamespaceForCreate(def: ResourceDef, namespace: string, name: string): Promise<void> {
    let ns = this.caches.get(this.prefix(this.namespaceDef))?.get(undefined, namespace);
    if (!ns) ns = (await this.etcd.get(this.key(this.namespaceDef, undefined, namespace), 'namespaces')) ?? undefined;
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      const e = errors.forbidden(this.gr(def), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
      // Controllers recognise this cause and stay quiet while a namespace goes away.
      e.status.details = { ...e.status.details, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] };
      throw e;
    }
  }

  /** Compiles the selectors into a predicate; undefined when they select everything. */
  private compileSelectors(def: ResourceDef, labelSelector?: string, fieldSelector?: string): ((o: StoredObject) => boolean) | undefined {
    let ls: Selector;
    let fs: FieldSelector;
    try {
      ls = parseLabelSelector(labelSelector);
    } catch (e) {
      if (e instanceof SelectorParseError) throw errors.badRequest(`unable to parse requirement: ${e.message.replace(/^unable to parse requirement: /, '')}`);
      throw e;
    }
    try {
      fs = parseFieldSelector(fieldSelector);
    } catch (e) {
      if (e instanceof FieldSelectorParseError) throw errors.badRequest(e.message);
      throw e;
    }
    if (!fs.isEmpty()) {
      const probe = this.fieldsOf(def, { metadata: { name: '', namespace: '' } } as StoredObject, true);
      for (const f of fs.fields()) if (!(f in probe)) throw errors.badRequest(`field label not supported: ${f}`);
    }
    if (ls.isEmpty() && fs.isEmpty()) return undefined;
    return (o) => ls.matches(o.metadata.labels) && (fs.isEmpty() || fs.matches(this.fieldsOf(def, o)));
  }

  /** The cache index a field selector pins to one value, if any. */
  private triggerFor(cache: WatchCache, fieldSelector?: string): Trigger | undefined {
    if (!fieldSelector) return undefined;
    let fs: FieldSelector;
    try {
      fs = parseFieldSelector(fieldSelector);
    } catch {
      return undefined;
    }
    for (const r of fs.requirements) {
      if (r.operator === '=' && cache.hasIndex(r.field)) return { index: r.field, value: r.value };
    }
    return undefined;
  }

  private fieldsOf(def: ResourceDef, o: StoredObject, probe = false): Record<string, string> {
    const base: Record<string, string> = { 'metadata.name': o.metadata.name ?? '' };
    if (def.namespaced) base['metadata.namespace'] = o.metadata.namespace ?? '';
    if (def.strategy.selectableFields) {
      try {
        // Selectors speak the served version's field names; caches hold the stored shape.
        const served = def.conversion && !probe ? def.conversion.fromStorage(clone(o)) : o;
        Object.assign(base, def.strategy.selectableFields(served));
      } catch (e) {
        if (!probe) throw e;
      }
    }
    return base;
  }

  /**
   * Lists objects. RV unset: a consistent read, from the watch cache once it has provably caught
   * up with etcd (`WatchCache.waitUntilFresh`), else from etcd; with limit/continue, from etcd,
   * paged at one revision. RV "0": from the watch cache. RV N: from the cache once it has caught
   * up to N (NotOlderThan), or from etcd at exactly N with resourceVersionMatch=Exact.
   */
  async list(def: ResourceDef, namespace: string | undefined, opts: ListOptions, read: ReadOptions = {}): Promise<ListResult> {
    const pred = this.compileSelectors(def, opts.labelSelector, opts.fieldSelector);
    const rv = opts.resourceVersion;
    const match = opts.resourceVersionMatch;
    if (match && !['Exact', 'NotOlderThan'].includes(match)) throw errors.badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
    if (match && !rv) throw errors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (opts.continue && rv && rv !== '0') throw errors.badRequest('specifying resource version is not allowed when using continue');
    if (rv && !/^\d+$/.test(rv)) throw errors.badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
    const prefix = this.prefix(def, namespace);
    const fromCache = (cache: WatchCache): ListResult => {
      const r = cache.list(pred, def.namespaced ? namespace : undefined, this.triggerFor(cache, opts.fieldSelector));
      return { items: r.items.map((o) => (read.shared ? this.outShared(def, o) : this.out(def, clone(o)))), resourceVersion: String(r.revision) };
    };
    try {
      if (!opts.continue && !opts.limit && (rv === undefined || rv === '')) {
        const cache = this.cache(def);
        if (await cache.waitUntilFresh().catch(() => false)) return fromCache(cache);
        const res = await this.etcd.list(prefix, { predicate: pred }, def.plural);
        return { items: res.items.map((o) => this.out(def, o)), resourceVersion: String(res.revision) };
      }
      if (!opts.continue && rv !== undefined && rv !== '' && match !== 'Exact' && !(opts.limit && rv !== '0')) {
        const cache = this.cache(def);
        // A cache that has not seen N yet (no progress from etcd in time) leaves the list to
        // etcd, whose current state is never older than N.
        if (await cache.waitFor(Number(rv)).then(
          () => true,
          (e) => {
            if (isStorageError(e, 'FutureRevision')) return false;
            throw e;
          },
        )) {
          return fromCache(cache);
        }
        const res = await this.etcd.list(prefix, { predicate: pred }, def.plural);
        return { items: res.items.map((o) => this.out(def, o)), resourceVersion: String(res.revision) };
      }
      let revision = match === 'Exact' || (rv && rv !== '0') ? Number(rv) : 0;
      let startKey: string | undefined;
      if (opts.continue) {
        const t = decodeContinue(opts.continue);
        revision = t.rv;
        startKey = prefix + t.start;
      }
      const res = await this.etcd.list(prefix, { revision, startKey, limit: opts.limit, predicate: pred }, def.plural);
      const result: ListResult = { items: res.items.map((o) => this.out(def, o)), resourceVersion: String(res.revision) };
      if (res.nextKey) {
        result.continue = encodeContinue(res.revision, res.nextKey.slice(prefix.length));
        if (res.remaining !== undefined) result.remainingItemCount = res.remaining;
      }
      return result;
    } catch (e) {
      if (isStorageError(e, 'Compacted') && opts.continue) {
        throw errors.resourceExpired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      throw this.toStatus(def, '', e);
    }
  }

  /** Checks the type fields of a decoded body against the resource it was sent to. */
  checkTypeMeta(def: ResourceDef, obj: KubeObject): void {
    const gv = groupVersion(def);
    if (obj.apiVersion && obj.apiVersion !== gv) {
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
    }
    if (obj.kind && obj.kind !== def.kind) {
      throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`);
    }
  }

  private validateCommon(def: ResourceDef, obj: StoredObject): FieldError[] {
    const errs = validateObjectMeta(obj.metadata, def.namespaced, def.strategy.nameValidator ?? nameIsDNSSubdomain);
    return errs;
  }

  private toStorage(def: ResourceDef, obj: KubeObject): StoredObject {
    const o = (def.conversion ? def.conversion.toStorage(obj) : obj) as StoredObject;
    return o;
  }

  /** Creates an object: metadata, defaults, validation, then a create-only transaction. */
  async create(def: ResourceDef, namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<StoredObject> {
    this.checkTypeMeta(def, input);
    const obj = (opts.inputOwned ? input : clone(input)) as StoredObject;
    if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace;
    } else if (meta.namespace) {
      // Upstream clears the namespace of cluster-scoped objects silently.
      delete meta.namespace;
    }
    obj.apiVersion = groupVersion(def);
    obj.kind = def.kind;
    let generated = false;
    if (!meta.name && meta.generateName) {
      meta.name = generateName(meta.generateName);
      generated = true;
    }
    delete meta.resourceVersion;
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (def.strategy.generation) meta.generation = 1;
    else delete meta.generation;
    delete (meta as Record<string, unknown>).selfLink;
    def.strategy.defaults?.(obj);
    def.strategy.prepareForCreate?.(obj);
    if (def.strategy.hasStatus && !def.strategy.prepareForCreate) delete obj.status;
    // managedFields: the creating manager owns what it set (server-side apply, pkg/apiserver/managedfields).
    recordManagedFields(def, undefined, obj, undefined, opts);
    if (def.namespaced) await this.checkNamespaceForCreate(def, meta.namespace!, meta.name!);
    const attrs = this.admissionAttrs('CREATE', def, obj, undefined, undefined, opts);
    await this.admission.admit(attrs);
    const hooks = this.hooks.get(this.storageResource(def));
    const undo = hooks?.beforeCreate ? await hooks.beforeCreate(obj, !!opts.dryRun) : undefined;
    try {
      const errs = [...this.validateCommon(def, obj), ...(def.strategy.validate?.(obj) ?? []), ...(def.strategy.validateCreate?.(obj) ?? [])];
      if (errs.length) throw errors.invalid({ group: def.group, kind: def.kind }, meta.name ?? '', errs);
      await this.admission.validate(attrs);
      if (opts.dryRun) {
        await undo?.();
        return obj;
      }
      for (let attempt = 0; ; attempt++) {
        try {
          const stored = await this.etcd.create(this.key(def, meta.namespace, meta.name!), this.toStorage(def, obj), def.plural);
          return this.out(def, stored);
        } catch (e) {
          // A generated name that collides gets a fresh suffix, as upstream's RetryGenerateName does.
          if (generated && isStorageError(e, 'KeyExists') && attempt < 7) {
            meta.name = generateName(meta.generateName!);
            continue;
          }
          throw this.toStatus(def, meta.name!, e);
        }
      }
    } catch (e) {
      await undo?.();
      throw e;
    }
  }

  /**
   * Applies `mutate` to the current object and writes the result if it changed. Retries on
   * write conflicts unless the new object carries its own resourceVersion precondition.
   */
  async guaranteedUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    subresource: string | undefined,
    mutate: (current: StoredObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions = {},
  ): Promise<{ object: StoredObject; changed: boolean }> {
    const key = this.key(def, namespace, name);
    // The first try starts from the watch cache's copy, as upstream's cacher hands its object to
    // GuaranteedUpdate: that saves a read from etcd when the cache is current. Whatever that try
    // decides other than a successful write (an error, a no-op, a lost race) is decided again
    // on the object read from etcd, so a stale cache never shows through.
    let guess = opts.dryRun ? undefined : this.caches.get(this.prefix(def))?.get(def.namespaced ? namespace : undefined, name);
    for (let attempt = 0; ; attempt++) {
      const fromCache = guess !== undefined;
      const currentRaw = guess !== undefined ? clone(guess) : await this.etcd.get(key, def.plural);
      guess = undefined;
      if (!currentRaw) throw errors.notFound(this.gr(def), name);
      try {
        const r = await this.tryUpdate(def, key, name, subresource, mutate, opts, currentRaw, fromCache, attempt);
        if (r === 'retry') continue;
        return r;
      } catch (e) {
        if (fromCache) continue;
        throw e;
      }
    }
  }

  /** One try of guaranteedUpdate on `currentRaw` (this try's own copy): 'retry' to read again. */
  private async tryUpdate(
    def: ResourceDef,
    key: string,
    name: string,
    subresource: string | undefined,
    mutate: (current: StoredObject) => KubeObject | Promise<KubeObject>,
    opts: WriteOptions,
    currentRaw: StoredObject,
    fromCache: boolean,
    attempt: number,
  ): Promise<{ object: StoredObject; changed: boolean } | 'retry'> {
    const current = this.out(def, currentRaw);
    const currentRV = current.metadata.resourceVersion!;
    const arg = clone(current);
    const result = await mutate(arg);
    // What mutate built from its own argument is this try's alone; anything else may be shared.
    const proposed = (result === arg ? result : clone(result)) as StoredObject;
    this.checkTypeMeta(def, proposed);
    if (typeof proposed.metadata !== 'object' || proposed.metadata === null) proposed.metadata = {};
    if (proposed.metadata.name && proposed.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${proposed.metadata.name}) does not match the name on the URL (${name})`);
    }
    const preconditionRV = opts.precondition !== undefined ? opts.precondition || undefined : proposed.metadata.resourceVersion;
    if (preconditionRV && preconditionRV !== currentRV) throw errors.conflict(this.gr(def), name, conflictMsg);
    const next = this.prepareUpdate(def, proposed, current, subresource);
    // managedFields: the updating manager takes what it changed (server-side apply, pkg/apiserver/managedfields).
    recordManagedFields(def, current, next, subresource, opts);
    const attrs = this.admissionAttrs('UPDATE', def, next, current, subresource, opts);
    await this.admission.admit(attrs);
    const hooks = subresource === undefined ? this.hooks.get(this.storageResource(def)) : undefined;
    const effects = hooks?.beforeUpdate ? await hooks.beforeUpdate(next, current, !!opts.dryRun) : undefined;
    let landed = false;
    try {
      this.validateUpdate(def, next, current, subresource);
      await this.admission.validate(attrs);
      // A no-op or a lost race on the cache's copy is checked against etcd's.
      const r = await this.writeUpdate(def, key, name, next, current, !!preconditionRV && !fromCache, attempt, opts);
      if (r === 'retry' || (fromCache && !r.changed)) return 'retry';
      landed = r.changed && !opts.dryRun;
      return r;
    } finally {
      if (effects) await (landed ? effects.commit() : effects.undo());
    }
  }

  /** The write half of guaranteedUpdate: nothing, an update, or (last finalizer gone) a delete. */
  private async writeUpdate(
    def: ResourceDef,
    key: string,
    name: string,
    next: StoredObject,
    current: StoredObject,
    hasPrecondition: boolean,
    attempt: number,
    opts: WriteOptions,
  ): Promise<{ object: StoredObject; changed: boolean } | 'retry'> {
    const currentRV = Number(current.metadata.resourceVersion);
    // Without a resourceVersion precondition a lost race is retried on the fresh object.
    const retryable = (e: unknown) => isStorageError(e, 'Conflict') && !hasPrecondition && attempt < 10;
    if (equalButRV(next, current)) return { object: current, changed: false };
    if (opts.dryRun) return { object: next, changed: true };
    // An object being deleted whose last finalizer went away is removed now.
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length && !hasSpecFinalizers(def, next)) {
      try {
        const gone = await this.etcd.delete(key, currentRV, def.plural);
        await this.afterDelete(def, gone);
        return { object: this.out(def, gone), changed: true };
      } catch (e) {
        if (retryable(e)) return 'retry';
        throw this.toStatus(def, name, e);
      }
    }
    try {
      const stored = await this.etcd.update(key, this.toStorage(def, next), currentRV, def.plural);
      return { object: this.out(def, stored), changed: true };
    } catch (e) {
      if (retryable(e)) return 'retry';
      throw this.toStatus(def, name, e);
    }
  }

  private async afterDelete(def: ResourceDef, gone: StoredObject): Promise<void> {
    const hooks = this.hooks.get(this.storageResource(def));
    if (!hooks?.afterDelete) return;
    try {
      await hooks.afterDelete(gone);
    } catch (e) {
      this.logger.warn({ err: String(e), resource: def.plural, name: gone.metadata.name }, 'releasing after delete failed');
    }
  }

  /** The update half of the strategy: system fields, status/spec split, generation, validation. */
  private prepareUpdate(def: ResourceDef, proposed: StoredObject, current: StoredObject, subresource: string | undefined): StoredObject {
    let next: StoredObject;
    const s = def.strategy;
    if (subresource === 'status') {
      // The status endpoint changes status only; the rest, metadata included, stays (ResetObjectMetaForStatus).
      next = clone(current);
      next.status = proposed.status;
      next.metadata.resourceVersion = proposed.metadata.resourceVersion;
      if (s.statusKeepsAnnotations) {
        if (proposed.metadata.annotations === undefined) delete next.metadata.annotations;
        else next.metadata.annotations = proposed.metadata.annotations;
      }
      // Upstream defaults every decoded body, status writes included.
      s.defaults?.(next);
      s.prepareForStatusUpdate?.(next, current);
    } else if (subresource === 'finalize') {
      // namespaces/finalize changes spec.finalizers only.
      next = clone(current);
      next.spec = { ...(next.spec ?? {}), finalizers: proposed.spec?.finalizers ?? [] };
      next.metadata.resourceVersion = proposed.metadata.resourceVersion;
    } else if (subresource === 'binding') {
      // The binding subresource is the apiserver's own write: it sets nodeName and a condition.
      next = proposed;
    } else {
      next = proposed;
      const m = next.metadata;
      const om = current.metadata;
      if (m.namespace === undefined || m.namespace === '') m.namespace = om.namespace;
      if (!m.name) m.name = om.name;
      if (!m.uid) m.uid = om.uid;
      m.creationTimestamp = om.creationTimestamp;
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      if (m.deletionTimestamp === undefined) delete m.deletionTimestamp;
      if (m.deletionGracePeriodSeconds === undefined) delete m.deletionGracePeriodSeconds;
      m.generation = om.generation;
      if (m.generation === undefined) delete m.generation;
      delete (m as Record<string, unknown>).selfLink;
      s.defaults?.(next);
      if (s.hasStatus) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
      s.prepareForUpdate?.(next, current);
      if (s.generation && specChanged(next, current)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    return next;
  }

  /** Field validation of an update, after mutating admission. */
  private validateUpdate(def: ResourceDef, next: StoredObject, current: StoredObject, subresource: string | undefined): void {
    const s = def.strategy;
    const errs: FieldError[] = [
      ...validateObjectMetaUpdate(next.metadata, current.metadata),
      ...this.validateCommon(def, next),
      ...(subresource === 'status'
        ? (s.validateStatusUpdate?.(next, current) ?? [])
        : subresource === 'binding' || subresource === 'finalize'
          ? []
          : [...(s.validate?.(next) ?? []), ...(s.validateUpdate?.(next, current) ?? [])]),
    ];
    if (errs.length) throw errors.invalid({ group: def.group, kind: def.kind }, current.metadata.name ?? '', errs);
  }

  private admissionAttrs(operation: Operation, def: ResourceDef, object: StoredObject | undefined, oldObject: StoredObject | undefined, subresource: string | undefined, opts: WriteOptions) {
    const m = object?.metadata ?? oldObject?.metadata ?? {};
    return { operation, def, namespace: def.namespaced ? m.namespace : undefined, name: m.name ?? '', subresource, object, oldObject, user: opts.user, dryRun: !!opts.dryRun };
  }

  /** PUT: replace the object; its resourceVersion, if set, must be current. */
  async update(def: ResourceDef, namespace: string | undefined, name: string, input: KubeObject, subresource: string | undefined, opts: WriteOptions = {}): Promise<StoredObject> {
    this.checkTypeMeta(def, input);
    if (input.metadata?.name && input.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && input.metadata?.namespace && input.metadata.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const r = await this.guaranteedUpdate(def, namespace, name, subresource, () => input, opts);
    return r.object;
  }

  /**
   * DELETE. Honours preconditions, graceful deletion (pods), finalizers and propagationPolicy:
   * Foreground and Orphan add the `foregroundDeletion` and `orphan` finalizers, which the garbage
   * collector acts on, as upstream records them.
   */
  async delete(def: ResourceDef, namespace: string | undefined, name: string, options: DeleteOptions = {}, opts: WriteOptions = {}): Promise<{ object: StoredObject; deleted: boolean }> {
    const key = this.key(def, namespace, name);
    if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
      throw errors.invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
        { type: 'FieldValueNotSupported', field: 'propagationPolicy', value: options.propagationPolicy, detail: 'supported values: "Foreground", "Background", "Orphan", "nil"' },
      ]);
    }
    if (options.orphanDependents !== undefined && options.propagationPolicy) {
      throw errors.invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
        { type: 'FieldValueInvalid', field: 'propagationPolicy', value: options.propagationPolicy, detail: 'orphanDependents and deletionPropagation cannot be both set' },
      ]);
    }
    if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds !== null && options.gracePeriodSeconds < 0) {
      options = { ...options, gracePeriodSeconds: 1 };
    }
    for (let attempt = 0; ; attempt++) {
      const raw = await this.etcd.get(key, def.plural);
      if (!raw) throw errors.notFound(this.gr(def), name);
      const current = this.out(def, raw);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw errors.conflict(this.gr(def), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw errors.conflict(this.gr(def), name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${current.metadata.resourceVersion}`);
      }
      if (attempt === 0) {
        const attrs = this.admissionAttrs('DELETE', def, undefined, current, undefined, opts);
        await this.admission.admit(attrs);
        await this.admission.validate(attrs);
      }
      const next = clone(current);
      const m = next.metadata;
      let finalizers = [...(m.finalizers ?? [])];
      const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : options.orphanDependents === false ? 'Background' : defaultPropagation(def));
      if (policy === 'Orphan' && !finalizers.includes('orphan')) {
        finalizers = finalizers.filter((f) => f !== 'foregroundDeletion');
        finalizers.push('orphan');
      } else if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) {
        finalizers = finalizers.filter((f) => f !== 'orphan');
        finalizers.push('foregroundDeletion');
      } else if (policy === 'Background') {
        finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
      }
      // Only objects that still have finalizers, or are being deleted gracefully, stay.
      const grace = gracefulSeconds(def, current, options);
      const keep = finalizers.length > 0 || grace > 0 || hasSpecFinalizers(def, current);
      if (!keep) {
        if (opts.dryRun) return { object: current, deleted: true };
        try {
          const gone = await this.etcd.delete(key, Number(current.metadata.resourceVersion), def.plural);
          await this.afterDelete(def, gone);
          return { object: this.out(def, gone), deleted: true };
        } catch (e) {
          if (isStorageError(e, 'Conflict') && attempt < 10) continue;
          throw this.toStatus(def, name, e);
        }
      }
      if (finalizers.length) m.finalizers = finalizers;
      else delete m.finalizers;
      if (!m.deletionTimestamp || grace > 0) {
        const now = Date.now();
        const existing = m.deletionTimestamp ? Date.parse(m.deletionTimestamp) : Infinity;
        // A shorter grace period may replace a longer one; never a longer one.
        const proposedTs = now + grace * 1000;
        if (proposedTs < existing) {
          m.deletionTimestamp = nowRFC3339(new Date(proposedTs));
          m.deletionGracePeriodSeconds = grace;
        }
      }
      if (m.deletionGracePeriodSeconds === undefined) m.deletionGracePeriodSeconds = 0;
      def.strategy.prepareForDelete?.(next);
      if (equalButRV(next, current)) return { object: current, deleted: false };
      if (opts.dryRun) return { object: next, deleted: false };
      try {
        const stored = await this.etcd.update(key, this.toStorage(def, next), Number(current.metadata.resourceVersion), def.plural);
        return { object: this.out(def, stored), deleted: false };
      } catch (e) {
        if (isStorageError(e, 'Conflict') && attempt < 10) continue;
        throw this.toStatus(def, name, e);
      }
    }
  }

  /** DELETE on a collection: every object the selectors match, one by one. */
  async deleteCollection(def: ResourceDef, namespace: string | undefined, listOpts: ListOptions, options: DeleteOptions, opts: WriteOptions): Promise<StoredObject[]> {
    const { items } = await this.list(def, namespace, { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector });
    const out: StoredObject[] = [];
    for (const it of items) {
      try {
        const r = await this.delete(def, it.metadata.namespace, it.metadata.name!, options, opts);
        out.push(r.object);
      } catch (e) {
        if (errors.isStatusError(e) && e.code === 404) continue;
        throw e;
      }
    }
    return out;
  }

  /** The served event for a storage event, shared by every watcher it goes to (see `lastShared`). */
  private sharedEvent(def: ResourceDef, ev: StorageEvent, type: WatchEventType): WatchEvent {
    const m = this.lastShared;
    if (m && m.ev === ev && m.def === def && m.type === type) return m.out;
    const out: WatchEvent = { type, object: this.outShared(def, ev.object) };
    this.lastShared = { ev, def, type, out };
    return out;
  }

  /**
   * Watches a resource. Events after `resourceVersion` come from the watch cache when it still
   * holds them and straight from etcd otherwise; with RV unset or "0", the current objects come
   * first as ADDED. An object that stops matching the selectors is sent as DELETED.
   * With `read.shared`, events (and the objects in them) may be the same for several watchers and
   * share structure with the cache: they must not be modified.
   */
  async watch(def: ResourceDef, namespace: string | undefined, opts: WatchOptions, send: (ev: WatchEvent) => void, onClose: (err?: unknown) => void, read: ReadOptions = {}): Promise<WatchHandle> {
    const pred = this.compileSelectors(def, opts.labelSelector, opts.fieldSelector) ?? (() => true);
    const rvStr = opts.resourceVersion;
    if (rvStr && !/^\d+$/.test(rvStr)) throw errors.badRequest(`invalid resource version: ${JSON.stringify(rvStr)}`);
    const inScope = (o: StoredObject) => !def.namespaced || !namespace || o.metadata.namespace === namespace;
    const cache = this.cache(def);
    await cache.ready;
    let delivered = 0;
    const deliver = (ev: StorageEvent) => {
      if (!inScope(ev.object)) return;
      const cur = ev.type !== 'DELETED' && pred(ev.object);
      const prev = ev.prevObject ? pred(ev.prevObject) : false;
      let out: WatchEvent | undefined;
      const served = (type: WatchEventType): WatchEvent => (read.shared ? this.sharedEvent(def, ev, type) : { type, object: this.out(def, clone(ev.object)) });
      if (ev.type === 'ADDED') {
        if (cur) out = served('ADDED');
      } else if (ev.type === 'MODIFIED') {
        if (cur && prev) out = served('MODIFIED');
        else if (cur && !prev) out = served('ADDED');
        else if (!cur && prev) {
          const last = clone(ev.prevObject!);
          last.metadata.resourceVersion = String(ev.revision);
          out = { type: 'DELETED', object: this.out(def, last) };
        }
      } else if (pred(ev.object)) {
        out = served('DELETED');
      }
      delivered = ev.revision;
      if (out) send(out);
    };
    let startRV: number;
    let useEtcd = false;
    if (!rvStr || rvStr === '0') {
      // Start at the cache's current state, sent as ADDED events.
      const snap = cache.list(pred, def.namespaced ? namespace : undefined, this.triggerFor(cache, opts.fieldSelector));
      startRV = snap.revision;
      if (opts.sendInitialEvents !== false) for (const o of snap.items) send({ type: 'ADDED', object: read.shared ? this.outShared(def, o) : this.out(def, clone(o)) });
      delivered = startRV;
    } else {
      startRV = Number(rvStr);
      delivered = startRV;
      try {
        await cache.waitFor(startRV);
      } catch (e) {
        // The cache has not caught up with N (etcd sends no progress often enough): the history
        // after N comes from etcd below instead.
        if (!isStorageError(e, 'FutureRevision')) throw this.toStatus(def, '', e);
        useEtcd = true;
      }
    }
    let stopped = false;
    const unsubscribe = useEtcd
      ? undefined
      : cache.subscribe(
      startRV,
      (ev) => {
        if (!stopped) deliver(ev);
      },
      this.triggerFor(cache, opts.fieldSelector),
    );
    if (unsubscribe) {
      return {
        stop: () => {
          stopped = true;
          unsubscribe();
        },
        revision: () => Math.max(delivered, cache.revision),
      };
    }
    // Older than the cache's window: read the history from etcd (410 if compacted).
    let cancel: (() => Promise<void>) | undefined;
    try {
      cancel = await this.etcd.watch(
        this.prefix(def, def.namespaced ? namespace : undefined),
        startRV,
        (ev) => {
          if (!stopped) deliver(ev);
        },
        (err) => {
          if (!stopped) onClose(this.toStatus(def, '', err));
        },
      );
    } catch (e) {
      throw this.toStatus(def, '', e);
    }
    return {
      stop: () => {
        stopped = true;
        void cancel?.();
      },
      revision: () => delivered,
    };
  }
}

/** Whether two objects are the same but for metadata.resourceVersion (without copying them). */
function equalButRV(a: StoredObject, b: StoredObject): boolean {
  return sameMembers(a, b, (k, x, y) => (k === 'metadata' ? sameMembers(x, y, (k2, x2, y2) => k2 === 'resourceVersion' || deepEqual(x2, y2)) : deepEqual(x, y)));
}

/** deepEqual of two maps whose members are compared by `eq` (undefined members do not count). */
function sameMembers(a: unknown, b: unknown, eq: (k: string, x: unknown, y: unknown) => boolean): boolean {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return deepEqual(a, b);
  const own = (m: object, k: string): unknown => (Object.prototype.hasOwnProperty.call(m, k) ? (m as Record<string, unknown>)[k] : undefined);
  for (const k of Object.keys(a)) {
    const x = own(a, k);
    const y = own(b, k);
    if ((x !== undefined || y !== undefined) && !eq(k, x, y)) return false;
  }
  for (const k of Object.keys(b)) {
    const y = own(b, k);
    if (own(a, k) === undefined && y !== undefined && !eq(k, undefined, y)) return false;
  }
  return true;
}

/** Whether anything other than metadata and status differs: what bumps metadata.generation. */
function specChanged(a: StoredObject, b: StoredObject): boolean {
  const strip = (o: StoredObject) => {
    const c: Record<string, unknown> = { ...o };
    delete c.metadata;
    delete c.status;
    delete c.apiVersion;
    delete c.kind;
    return c;
  };
  return !deepEqual(strip(a), strip(b));
}

/** Namespaces keep themselves until spec.finalizers is empty (the namespace controller's job). */
function hasSpecFinalizers(def: ResourceDef, o: StoredObject): boolean {
  return def.group === '' && def.plural === 'namespaces' && (o.spec?.finalizers?.length ?? 0) > 0;
}

/** Upstream's DefaultGarbageCollectionPolicy: Background for every built-in type. */
function defaultPropagation(_def: ResourceDef): 'Background' | 'Orphan' | 'Foreground' {
  return 'Background';
}

/**
 * How long a deletion waits for graceful termination. Only pods are deleted gracefully, and only
 * once scheduled and not finished: an unscheduled pod has no kubelet to confirm, so it goes at once.
 */
function gracefulSeconds(def: ResourceDef, o: StoredObject, options: DeleteOptions): number {
  if (!(def.group === '' && def.plural === 'pods')) return 0;
  if (!o.spec?.nodeName) return 0;
  const phase = o.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const g = options.gracePeriodSeconds ?? o.spec?.terminationGracePeriodSeconds ?? 30;
  // An object already being deleted gracefully can be sped up with a smaller value, including 0.
  return Math.max(0, g);
}

