/** LimitRange (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required, duplicate, forbidden } from '../../api/field-errors.js';
import { isQualifiedName } from '../../api/validation.js';
import { defaultResourceList, compareQuantities, formatQuantity, quantityToNumber, type Quantity } from '../../api/quantity.js';
import { col, nameColumn } from '../../printers/format.js';
import { type Obj, isObj, arr, str, validateContainerResourceName, validateResourceName, isOvercommitAllowed, parseQuantityField } from './pod-spec.js';

const listFields = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const;

/** SetDefaults_LimitRangeItem: a Container's default limit falls back to max, its default request to default, then min. */
function defaultItem(item: Obj): void {
  for (const f of listFields) defaultResourceList(item[f]);
  if (item.type !== 'Container') return;
  const def: Obj = isObj(item.default) ? item.default : {};
  const defReq: Obj = isObj(item.defaultRequest) ? item.defaultRequest : {};
  for (const [k, v] of Object.entries(isObj(item.max) ? item.max : {})) if (!(k in def)) def[k] = v;
  for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
  for (const [k, v] of Object.entries(isObj(item.min) ? item.min : {})) if (!(k in defReq)) defReq[k] = v;
  // Empty maps are not written, as upstream's omitempty drops them.
  if (Object.keys(def).length) item.default = def;
  if (Object.keys(defReq).length) item.defaultRequest = defReq;
}

function validateTypeName(t: string, path: string): FieldError[] {
  const errs = isQualifiedName(t).map((m) => invalidField(path, t, m));
  if (errs.length) return errs;
  if (!t.includes('/') && !['Pod', 'Container', 'PersistentVolumeClaim'].includes(t)) errs.push(invalidField(path, t, 'must be a standard limit type or fully qualified'));
  return errs;
}

/** ValidateLimitRange. */
export function validateLimitRange(lr: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  arr(lr.spec?.limits).forEach((item: any, i: number) => {
    const p = `spec.limits[${i}]`;
    const type = str(item?.type);
    errs.push(...validateTypeName(type, `${p}.type`));
    if (types.has(type)) errs.push(duplicate(`${p}.type`, type));
    types.add(type);
    const nameFn = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const maps: Record<string, Map<string, Quantity>> = {};
    const keys = new Set<string>();
    const read = (f: string) => {
      const m = new Map<string, Quantity>();
      for (const [k, v] of Object.entries(isObj(item?.[f]) ? item[f] : {})) {
        const fp = `${p}.${f}[${k}]`;
        errs.push(...nameFn(k, fp));
        keys.add(k);
        const q = parseQuantityField(v, fp, errs);
        if (q) m.set(k, q);
      }
      maps[f] = m;
    };
    read('max');
    read('min');
    if (type === 'Pod') {
      if (isObj(item?.default) && Object.keys(item.default).length) errs.push(forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (isObj(item?.defaultRequest) && Object.keys(item.defaultRequest).length) errs.push(forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
      maps.default = new Map();
      maps.defaultRequest = new Map();
    } else {
      read('default');
      read('defaultRequest');
    }
    if (type === 'PersistentVolumeClaim' && !maps.min!.has('storage') && !maps.max!.has('storage')) {
      errs.push(required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    read('maxLimitRequestRatio');
    const q = (s: Quantity) => formatQuantity(s);
    for (const k of keys) {
      const min = maps.min!.get(k);
      const max = maps.max!.get(k);
      const def = maps.default!.get(k);
      const defReq = maps.defaultRequest!.get(k);
      const ratio = maps.maxLimitRequestRatio!.get(k);
      if (min && max && compareQuantities(min, max) > 0) errs.push(invalidField(`${p}.min[${k}]`, q(min), `min value ${q(min)} is greater than max value ${q(max)}`));
      if (defReq && min && compareQuantities(min, defReq) > 0) errs.push(invalidField(`${p}.defaultRequest[${k}]`, q(defReq), `min value ${q(min)} is greater than default request value ${q(defReq)}`));
      if (defReq && max && compareQuantities(defReq, max) > 0) errs.push(invalidField(`${p}.defaultRequest[${k}]`, q(defReq), `default request value ${q(defReq)} is greater than max value ${q(max)}`));
      if (defReq && def && compareQuantities(defReq, def) > 0) errs.push(invalidField(`${p}.defaultRequest[${k}]`, q(defReq), `default request value ${q(defReq)} is greater than default limit value ${q(def)}`));
      if (def && min && compareQuantities(min, def) > 0) errs.push(invalidField(`${p}.default[${k}]`, q(min), `min value ${q(min)} is greater than default value ${q(def)}`));
      if (def && max && compareQuantities(def, max) > 0) errs.push(invalidField(`${p}.default[${k}]`, q(max), `default value ${q(def)} is greater than max value ${q(max)}`));
      if (ratio && compareQuantities(ratio, { m: 1n, e: 0, format: 'DecimalSI' }) < 0) errs.push(invalidField(`${p}.maxLimitRequestRatio[${k}]`, q(ratio), `ratio ${q(ratio)} is less than 1`));
      if (ratio && min && max) {
        const limit = quantityToNumber(max) / quantityToNumber(min);
        if (quantityToNumber(ratio) > limit) errs.push(invalidField(`${p}.maxLimitRequestRatio[${k}]`, q(ratio), `ratio ${q(ratio)} is greater than max/min = ${limit.toFixed(6)}`));
      }
      if (!isOvercommitAllowed(k) && def && defReq && compareQuantities(def, defReq) !== 0) {
        errs.push(invalidField(`${p}.defaultRequest[${k}]`, q(defReq), `default value ${q(def)} must equal to defaultRequest value ${q(defReq)} in ${k}`));
      }
    }
  });
  return errs;
}

export const limitRangeStrategy: Strategy = {
  defaults(obj) {
    for (const item of arr(obj.spec?.limits)) if (isObj(item)) defaultItem(item);
  },
  validate: validateLimitRange,
  // Upstream has no printer of its own for LimitRanges: the server's default table applies.
  table: {
    columns: [
      nameColumn,
      col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata'),
    ],
    row: (obj) => [obj.metadata.name, obj.metadata.creationTimestamp ?? null],
  },
};

export const limitRangeResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  strategy: limitRangeStrategy,
};

