/** ConfigMap (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, forbidden, tooLong } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { isObj, isConfigMapKey, dataSize, maxSecretSize } from './pod-spec.js';

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** ValidateConfigMap: keys, no key in both maps, and at most 1 MiB in all. */
export function validateConfigMap(cm: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = isObj(cm.data) ? cm.data : {};
  const binary = isObj(cm.binaryData) ? cm.binaryData : {};
  if (cm.data !== undefined && cm.data !== null && !isObj(cm.data)) errs.push(invalidField('data', cm.data, 'must be a map of string keys to string values'));
  if (cm.binaryData !== undefined && cm.binaryData !== null && !isObj(cm.binaryData)) errs.push(invalidField('binaryData', cm.binaryData, 'must be a map of string keys to base64 values'));
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalidField(`data[${k}]`, k, m));
    if (k in binary) errs.push(invalidField(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    if (typeof v !== 'string') errs.push(invalidField(`data[${k}]`, v, 'must be a string'));
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalidField(`binaryData[${k}]`, k, m));
    if (typeof v !== 'string' || !base64Re.test(v)) errs.push(invalidField(`binaryData[${k}]`, '<binary data>', 'must be base64-encoded'));
  }
  // The whole object is meant, so upstream reports this one without a field.
  if (dataSize(data, false) + dataSize(binary, true) > maxSecretSize) errs.push(tooLong('', maxSecretSize));
  return errs;
}

/** ValidateConfigMapUpdate: nothing of an immutable ConfigMap changes but its metadata. */
export function validateImmutableData(obj: StoredObject, old: StoredObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!deepEqual(obj[f] ?? null, old[f] ?? null)) errs.push(forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

export const configMapStrategy: Strategy = {
  validate: validateConfigMap,
  validateUpdate: (obj, old) => validateImmutableData(obj, old, ['data', 'binaryData']),
  table: {
    columns: [nameColumn, col('Data', 'string', 'Data contains the configuration data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, Object.keys(isObj(obj.data) ? obj.data : {}).length + Object.keys(isObj(obj.binaryData) ? obj.binaryData : {}).length, age(obj, now)],
  },
};

export const configMapResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  strategy: configMapStrategy,
};
