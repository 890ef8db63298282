/**
 * Where managed fields meet the apiserver: the manager name of a request, the checks on
 * PatchOptions, the call the registry store makes on every write, and server-side apply
 * (`PATCH` with `application/apply-patch+yaml`) on top of the store.
 */
import * as errors from '../../api/errors.js';
import { clone } from '../../api/meta.js';
import { tooLong, invalidField, required, forbidden, type FieldError } from '../../api/field-errors.js';
import type { KubeObject, StoredObject } from '../../api/types.js';
import type { RegistryStore, WriteOptions } from '../../registry/store.js';
import { groupVersion, type ResourceDef } from '../../registry/types.js';
import { type RequestContext, applyManagedFields, ignoredFields, updateManagedFields } from './managed-fields.js';
import { typeForKind } from './schema.js';

/** Upstream's FieldManagerMaxLength. */
export const fieldManagerMaxLength = 128;

/** Write options as the managed-fields bookkeeping reads them. */
export interface ManagedWriteOptions extends WriteOptions {
  /** Set by server-side apply, which computed the managed fields itself (`appliedManagedFields`). */
  managedFieldsComputed?: boolean;
  /** The managed fields the apply computed; they survive the /status path resetting metadata. */
  appliedManagedFields?: unknown;
  /** Records the write under this subresource (the scale subresource writes the parent). */
  managedFieldsSubresource?: string;
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;

/**
 * The manager of a request: `fieldManager`, else the User-Agent up to its first `/` with
 * unprintable characters dropped, cut to 128 bytes (upstream's prefixFromUserAgent).
 */
export function managerFromRequest(fieldManager: string | null | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0]!;
  let out = '';
  for (const ch of prefix) {
    if (!printable.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > fieldManagerMaxLength) break;
    out += ch;
  }
  return out;
}

/** Upstream's ValidateFieldManager. */
export function validateFieldManager(fieldManager: string, field = 'fieldManager'): FieldError[] {
  const errs: FieldError[] = [];
  if (Buffer.byteLength(fieldManager) > fieldManagerMaxLength) errs.push(tooLong(field, fieldManagerMaxLength));
  [...fieldManager].forEach((ch, i) => {
    if (!printable.test(ch)) {
      const cp = ch.codePointAt(0)!;
      errs.push(invalidField(field, fieldManager, `invalid character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at position ${i})`));
    }
  });
  return errs;
}

/**
 * Upstream's ValidatePatchOptions: apply needs a fieldManager, only apply takes `force`. Fails
 * with 422 `PatchOptions.meta.k8s.io "" is invalid: …`.
 */
export function validatePatchOptions(q: URLSearchParams, isApply: boolean): { force: boolean } {
  const errs: FieldError[] = [];
  const fieldManager = q.get('fieldManager') ?? '';
  const forceParam = q.get('force');
  if (!isApply) {
    if (forceParam !== null) errs.push(forbidden('force', 'may not be specified for non-apply patch'));
  } else if (fieldManager === '') {
    errs.push(required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...validateFieldManager(fieldManager));
  if (errs.length) throw errors.invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', errs);
  if (forceParam !== null && !['true', 'false', '1', '0', ''].includes(forceParam)) {
    throw errors.badRequest(`invalid value for force: ${JSON.stringify(forceParam)}`);
  }
  return { force: forceParam === 'true' || forceParam === '1' };
}

function hasStatus(def: ResourceDef): boolean {
  return !!def.strategy.hasStatus || (def.subresources ?? []).includes('status');
}

/** The per-resource, per-subresource part of a request context: computed once (never modified). */
const staticContexts = new WeakMap<ResourceDef, Map<string, Pick<RequestContext, 'type' | 'apiVersion' | 'kind' | 'ignored'>>>();

/** The managed-fields context of one write to a resource. */
export function requestContext(def: ResourceDef, subresource: string | undefined, manager: string | undefined, now = new Date()): RequestContext {
  let bySub = staticContexts.get(def);
  if (!bySub) staticContexts.set(def, (bySub = new Map()));
  let st = bySub.get(subresource ?? '');
  if (!st) {
    const type = typeForKind({ group: def.group, version: def.version, kind: def.kind });
    st = { type, apiVersion: groupVersion(def), kind: def.kind, ignored: ignoredFields(type, subresource, hasStatus(def)) };
    bySub.set(subresource ?? '', st);
  }
  return { ...st, manager, subresource, now };
}

/**
 * The store's hook on every create (`current` undefined) and update: sets `next`'s
 * metadata.managedFields from what the write changed. Pod bindings are the apiserver's own
 * writes and are not recorded, as upstream's binding storage does not record them.
 */
export function recordManagedFields(def: ResourceDef, current: StoredObject | undefined, next: KubeObject, subresource: string | undefined, opts: ManagedWriteOptions = {}): void {
  if (opts.managedFieldsComputed) {
    next.metadata ??= {};
    if (opts.appliedManagedFields === undefined) delete next.metadata.managedFields;
    else next.metadata.managedFields = clone(opts.appliedManagedFields) as never;
    return;
  }
  if (subresource === 'binding') return;
  const sub = opts.managedFieldsSubresource ?? subresource;
  updateManagedFields(requestContext(def, sub, opts.fieldManager), current, next);
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  dryRun: boolean;
  user?: WriteOptions['user'];
}

/**
 * Server-side apply through the store: merges the configuration into the current object (or
 * creates it when missing, on the main resource) and records ownership. `created` tells 201 from
 * 200.
 */
export async function serverSideApply(
  store: RegistryStore,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  subresource: string | undefined,
  config: KubeObject,
  opts: ApplyOptions,
): Promise<{ object: StoredObject; created: boolean }> {
  const writeOpts: ManagedWriteOptions = { dryRun: opts.dryRun, fieldManager: opts.manager, user: opts.user, managedFieldsComputed: true };
  const ctx = () => ({ ...requestContext(def, subresource, opts.manager), force: opts.force });
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await store.guaranteedUpdate(
        def,
        namespace,
        name,
        subresource,
        (cur) => {
          const obj = applyManagedFields(ctx(), cur, config);
          writeOpts.appliedManagedFields = obj.metadata?.managedFields;
          return obj;
        },
        writeOpts,
      );
      return { object: r.object, created: false };
    } catch (e) {
      if (!(errors.isStatusError(e) && e.code === 404 && e.reason === 'NotFound') || subresource || attempt > 0) throw e;
    }
    // The object does not exist: the apply creates it.
    const obj = applyManagedFields(ctx(), undefined, config);
    writeOpts.appliedManagedFields = obj.metadata?.managedFields;
    if (obj.metadata?.name && obj.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata = { ...(obj.metadata ?? {}), name };
    try {
      return { object: await store.create(def, namespace, obj, writeOpts), created: true };
    } catch (e) {
      // Someone created it meanwhile: apply to theirs.
      if (!(errors.isStatusError(e) && e.reason === 'AlreadyExists')) throw e;
    }
  }
}

/**
 * The store as the scale subresource should use it: its writes of the parent are recorded for
 * `manager` under the `scale` subresource.
 */
export function storeForScale(store: RegistryStore, manager: string): RegistryStore {
  const wrapped = Object.create(store) as RegistryStore;
  wrapped.guaranteedUpdate = (def, namespace, name, subresource, mutate, opts = {}) => {
    const o: ManagedWriteOptions = { ...opts, fieldManager: manager, managedFieldsSubresource: 'scale' };
    return store.guaranteedUpdate(def, namespace, name, subresource, mutate, o);
  };
  return wrapped;
}
