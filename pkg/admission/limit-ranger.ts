/**
 * LimitRanger: the LimitRanges of a namespace give new pods' containers default requests and
 * limits, and bound what containers, pods and PersistentVolumeClaims may ask for (min, max,
 * maxLimitRequestRatio). Messages follow upstream's plugin/pkg/admission/limitranger.
 */
import { parseQuantity, compareQuantities, addQuantities, formatQuantity, quantityMilliValue, tryParseQuantity, type Quantity } from '../api/quantity.js';
import type { StoredObject } from '../api/types.js';
import type { ClusterState } from '../auth/cluster-state.js';
import type { AdmissionPlugin } from './types.js';
import { forbidden, isResource } from './util.js';

type ResourceList = Record<string, string>;

interface LimitItem {
  type: string;
  max?: ResourceList;
  min?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

/** Upstream's LimitRangeItem defaulting for Container items: max → default → defaultRequest, min → defaultRequest. */
export function effectiveItem(item: LimitItem): LimitItem {
  if (item.type !== 'Container') return item;
  const def: ResourceList = { ...(item.default ?? {}) };
  for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
  const req: ResourceList = { ...(item.defaultRequest ?? {}) };
  for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
  for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in req)) req[k] = v;
  return { ...item, default: def, defaultRequest: req };
}

function q(v: unknown): Quantity | undefined {
  return tryParseQuantity(v);
}

/** Exact comparison (upstream compares milli-values, which agree for every quantity a pod can carry). */
function cmp(a: Quantity, b: Quantity): number {
  return compareQuantities(a, b);
}

function minConstraint(type: string, res: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = parseQuantity(enforced);
  const r = q(req[res]);
  const l = q(lim[res]);
  if (!r) return `minimum ${res} usage per ${type} is ${formatQuantity(e)}.  No request is specified`;
  if (cmp(r, e) < 0) return `minimum ${res} usage per ${type} is ${formatQuantity(e)}, but request is ${formatQuantity(r)}`;
  if (l && cmp(l, e) < 0) return `minimum ${res} usage per ${type} is ${formatQuantity(e)}, but limit is ${formatQuantity(l)}`;
  return undefined;
}

function maxConstraint(type: string, res: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = parseQuantity(enforced);
  const r = q(req[res]);
  const l = q(lim[res]);
  if (!l) return `maximum ${res} usage per ${type} is ${formatQuantity(e)}.  No limit is specified`;
  if (cmp(l, e) > 0) return `maximum ${res} usage per ${type} is ${formatQuantity(e)}, but limit is ${formatQuantity(l)}`;
  if (r && cmp(r, e) > 0) return `maximum ${res} usage per ${type} is ${formatQuantity(e)}, but request is ${formatQuantity(r)}`;
  return undefined;
}

function maxRequestConstraint(type: string, res: string, enforced: string, req: ResourceList): string | undefined {
  const e = parseQuantity(enforced);
  const r = q(req[res]);
  if (!r) return `maximum ${res} usage per ${type} is ${formatQuantity(e)}.  No request is specified`;
  if (cmp(r, e) > 0) return `maximum ${res} usage per ${type} is ${formatQuantity(e)}, but request is ${formatQuantity(r)}`;
  return undefined;
}

function ratioConstraint(type: string, res: string, enforced: string, req: ResourceList, lim: ResourceList): string | undefined {
  const e = parseQuantity(enforced);
  const r = q(req[res]);
  const l = q(lim[res]);
  const rm = r ? quantityMilliValue(r) : 0n;
  const lm = l ? quantityMilliValue(l) : 0n;
  if (!r || rm === 0n) return `${res} max limit to request ratio per ${type} is ${formatQuantity(e)}, but no request is specified or request is 0`;
  if (!l || lm === 0n) return `${res} max limit to request ratio per ${type} is ${formatQuantity(e)}, but no limit is specified or limit is 0`;
  const observed = Number(lm) / Number(rm);
  const max = Number(quantityMilliValue(e)) / 1000;
  if (observed > max) return `${res} max limit to request ratio per ${type} is ${formatQuantity(e)}, but provided ratio is ${observed.toFixed(6)}`;
  return undefined;
}

/** Sums of container requests/limits, with init containers taken as a maximum (the pod's effective need). */
export function podTotals(pod: StoredObject, field: 'requests' | 'limits'): ResourceList {
  const sum = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) {
    for (const [k, v] of Object.entries<string>(c.resources?.[field] ?? {})) {
      const x = q(v);
      if (x) sum.set(k, sum.has(k) ? addQuantities(sum.get(k)!, x) : x);
    }
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [k, v] of Object.entries<string>(c.resources?.[field] ?? {})) {
      const x = q(v);
      if (x && (!sum.has(k) || cmp(x, sum.get(k)!) > 0)) sum.set(k, x);
    }
  }
  const out: ResourceList = {};
  for (const [k, v] of sum) out[k] = formatQuantity(v);
  return out;
}

/** Applies the defaults of Container items; returns upstream's annotation text, if anything was set. */
export function applyDefaults(pod: StoredObject, limitRanges: StoredObject[]): string | undefined {
  const defLimits: ResourceList = {};
  const defRequests: ResourceList = {};
  for (const lr of limitRanges) {
    for (const raw of (lr.spec?.limits ?? []) as LimitItem[]) {
      const item = effectiveItem(raw);
      if (item.type !== 'Container') continue;
      Object.assign(defRequests, item.defaultRequest ?? {});
      Object.assign(defLimits, item.default ?? {});
    }
  }
  if (!Object.keys(defLimits).length && !Object.keys(defRequests).length) return undefined;
  const notes: string[] = [];
  const apply = (c: any, kind: string) => {
    const res = (c.resources ??= {});
    const setReq: string[] = [];
    const setLim: string[] = [];
    for (const [k, v] of Object.entries(defLimits)) {
      if (res.limits?.[k] === undefined) {
        (res.limits ??= {})[k] = v;
        setLim.push(k);
      }
    }
    for (const [k, v] of Object.entries(defRequests)) {
      if (res.requests?.[k] === undefined) {
        (res.requests ??= {})[k] = v;
        setReq.push(k);
      }
    }
    if (setReq.length) notes.push(`${setReq.sort().join(', ')} request for ${kind} ${c.name}`);
    if (setLim.length) notes.push(`${setLim.sort().join(', ')} limit for ${kind} ${c.name}`);
  };
  for (const c of pod.spec?.containers ?? []) apply(c, 'container');
  for (const c of pod.spec?.initContainers ?? []) apply(c, 'init container');
  return notes.length ? `LimitRanger plugin set: ${notes.join('; ')}` : undefined;
}

/** Every violation of the namespace's LimitRanges by a pod. */
export function validatePod(pod: StoredObject, limitRanges: StoredObject[]): string[] {
  const errs: string[] = [];
  for (const lr of limitRanges) {
    for (const item of (lr.spec?.limits ?? []) as LimitItem[]) {
      const check = (req: ResourceList, lim: ResourceList) => {
        for (const [k, v] of Object.entries(item.min ?? {})) {
          const e = minConstraint(item.type, k, v, req, lim);
          if (e) errs.push(e);
        }
        for (const [k, v] of Object.entries(item.max ?? {})) {
          const e = maxConstraint(item.type, k, v, req, lim);
          if (e) errs.push(e);
        }
        for (const [k, v] of Object.entries(item.maxLimitRequestRatio ?? {})) {
          const e = ratioConstraint(item.type, k, v, req, lim);
          if (e) errs.push(e);
        }
      };
      if (item.type === 'Container') {
        for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) check(c.resources?.requests ?? {}, c.resources?.limits ?? {});
      } else if (item.type === 'Pod') {
        check(podTotals(pod, 'requests'), podTotals(pod, 'limits'));
      }
    }
  }
  return errs;
}

export function validatePVC(pvc: StoredObject, limitRanges: StoredObject[]): string[] {
  const errs: string[] = [];
  const req: ResourceList = pvc.spec?.resources?.requests ?? {};
  for (const lr of limitRanges) {
    for (const item of (lr.spec?.limits ?? []) as LimitItem[]) {
      if (item.type !== 'PersistentVolumeClaim') continue;
      for (const [k, v] of Object.entries(item.min ?? {})) {
        const e = minConstraint(item.type, k, v, req, {});
        if (e) errs.push(e);
      }
      for (const [k, v] of Object.entries(item.max ?? {})) {
        const e = maxRequestConstraint(item.type, k, v, req);
        if (e) errs.push(e);
      }
    }
  }
  return errs;
}

/** utilerrors.NewAggregate's text: one message as is, several in brackets. */
export function aggregate(msgs: string[]): string {
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

export function limitRanger(state: ClusterState): AdmissionPlugin {
  const ranges = (ns: string) => state.list('', 'limitranges', ns);
  return {
    name: 'LimitRanger',
    admit(a) {
      if (a.operation !== 'CREATE' || !isResource(a, '', 'pods') || !a.object) return;
      const lrs = ranges(a.namespace!);
      if (!lrs.length) return;
      const note = applyDefaults(a.object, lrs);
      if (note) a.object.metadata.annotations = { ...(a.object.metadata.annotations ?? {}), 'kubernetes.io/limit-ranger': note };
    },
    validate(a) {
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (!a.object) return;
      const isPod = isResource(a, '', 'pods') && a.operation === 'CREATE';
      const isPVC = isResource(a, '', 'persistentvolumeclaims');
      if (!isPod && !isPVC) return;
      const lrs = ranges(a.namespace!);
      if (!lrs.length) return;
      const errs = isPod ? validatePod(a.object, lrs) : validatePVC(a.object, lrs);
      if (errs.length) throw forbidden(a, aggregate(errs));
    },
  };
}

