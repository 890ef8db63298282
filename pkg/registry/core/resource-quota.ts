/** ResourceQuota (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required } from '../../api/field-errors.js';
import { defaultResourceList } from '../../api/quantity.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { quantityString } from '../../printers/core.js';
import { type Obj, isObj, arr, str, validateResourceQuotaResourceName, validateResourceQuantityValue, isStandardQuotaResourceName, fieldImmutableErrorMsg } from './pod-spec.js';

const standardScopes = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity', 'VolumeAttributesClass'];
const podCompute = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

/** IsResourceQuotaScopeValidForResource. */
function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'BestEffort':
      return resource === 'pods';
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
    case 'CrossNamespacePodAffinity':
      return resource === 'pods' || podCompute.has(resource);
    case 'VolumeAttributesClass':
      return ['persistentvolumeclaims', 'requests.storage'].includes(resource);
    default:
      return true;
  }
}

function validateResourceMap(m: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObj(m)) return errs;
  for (const [k, v] of Object.entries(m)) errs.push(...validateResourceQuotaResourceName(k, `${path}[${k}]`), ...validateResourceQuantityValue(k, v, `${path}[${k}]`));
  return errs;
}

/** ValidateResourceQuotaSpec: resource names and values, scopes and the scope selector. */
export function validateResourceQuotaSpec(rq: StoredObject): FieldError[] {
  const spec: Obj = isObj(rq.spec) ? rq.spec : {};
  const errs = validateResourceMap(spec.hard, 'spec.hard');
  const hard = Object.keys(isObj(spec.hard) ? spec.hard : {}).sort();
  const conflicting = (set: Set<string>) => (set.has('BestEffort') && set.has('NotBestEffort')) || (set.has('Terminating') && set.has('NotTerminating'));
  const scopes = arr(spec.scopes);
  if (scopes.length) {
    const seen = new Set<string>();
    for (const s of scopes) {
      if (!standardScopes.includes(s)) errs.push(invalidField('spec.scopes', scopes, 'unsupported scope'));
      for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeValidFor(s, k)) errs.push(invalidField('spec.scopes', scopes, 'unsupported scope applied to resource'));
      seen.add(str(s));
    }
    if (conflicting(seen)) errs.push(invalidField('spec.scopes', scopes, 'conflicting scopes'));
  }
  if (isObj(spec.scopeSelector)) {
    const p = 'spec.scopeSelector.matchExpressions';
    const seen = new Set<string>();
    for (const r of arr(spec.scopeSelector.matchExpressions)) {
      const scope = str(r?.scopeName);
      if (!standardScopes.includes(scope)) errs.push(invalidField(`${p}.scopeName`, scope, 'unsupported scope'));
      for (const k of hard) if (isStandardQuotaResourceName(k) && !scopeValidFor(scope, k)) errs.push(invalidField(p, spec.scopeSelector, 'unsupported scope applied to resource'));
      if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(scope) && r?.operator !== 'Exists') {
        errs.push(
          invalidField(
            `${p}.operator`,
            r?.operator ?? '',
            "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
          ),
        );
      }
      const values = arr(r?.values);
      switch (r?.operator) {
        case 'In':
        case 'NotIn':
          if (values.length === 0) errs.push(required(`${p}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
          break;
        case 'Exists':
        case 'DoesNotExist':
          if (values.length) errs.push(invalidField(`${p}.values`, values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
          break;
        default:
          errs.push(invalidField(`${p}.operator`, r?.operator ?? '', 'not a valid selector operator'));
      }
      seen.add(scope);
    }
    if (conflicting(seen)) errs.push(invalidField(p, scopes, 'conflicting scopes'));
  }
  return errs;
}

function validateStatus(rq: StoredObject): FieldError[] {
  const st: Obj = isObj(rq.status) ? rq.status : {};
  return [...validateResourceMap(st.hard, 'status.hard'), ...validateResourceMap(st.used, 'status.used')];
}

/** printResourceQuota: `name: used/hard` pairs, limits.* in LIMIT and the rest in REQUEST. */
export function quotaColumns(rq: StoredObject): [string, string] {
  const st: Obj = isObj(rq.status) ? rq.status : {};
  const hard: Obj = isObj(st.hard) ? st.hard : {};
  const used: Obj = isObj(st.used) ? st.used : {};
  const req: string[] = [];
  const lim: string[] = [];
  for (const k of Object.keys(hard).sort()) {
    const pieces = k.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? lim : req).push(`${k}: ${quantityString(used[k])}/${quantityString(hard[k])}`);
  }
  return [req.join(', '), lim.join(', ')];
}

export const resourceQuotaStrategy: Strategy = {
  hasStatus: true,
  defaults(obj) {
    defaultResourceList(obj.spec?.hard);
    defaultResourceList(obj.status?.hard);
    defaultResourceList(obj.status?.used);
  },
  prepareForCreate(obj) {
    obj.status = {};
  },
  validate: (obj) => [...validateResourceQuotaSpec(obj), ...validateStatus(obj)],
  validateUpdate(obj, old) {
    const a = new Set(arr(obj.spec?.scopes).map(str));
    const b = new Set(arr(old.spec?.scopes).map(str));
    const same = a.size === b.size && [...a].every((s) => b.has(s));
    return same ? [] : [invalidField('spec.scopes', arr(obj.spec?.scopes), fieldImmutableErrorMsg)];
  },
  validateStatusUpdate: validateStatus,
  table: {
    columns: [
      nameColumn,
      ageColumn,
      col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    row: (obj, now) => [obj.metadata.name, age(obj, now), ...quotaColumns(obj)],
  },
};

export const resourceQuotaResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  subresources: ['status'],
  strategy: resourceQuotaStrategy,
};
