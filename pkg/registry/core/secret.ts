/** Secret (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, invalidField, required, tooLong } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { isObj, str, isConfigMapKey, dataSize, maxSecretSize, validateImmutableField } from './pod-spec.js';
import { validateImmutableData } from './config-map.js';

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's encoding/json error for what does not decode into a map, as closely as a JS parser can say. */
function jsonObjectError(text: string): string | undefined {
  const t = text.trim();
  if (!t) return 'unexpected end of JSON input';
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return /^[[{"\d\-tfn]/.test(t) ? 'unexpected end of JSON input' : `invalid character '${t[0]}' looking for beginning of value`;
  }
  if (!isObj(v)) {
    const kind = Array.isArray(v) ? 'array' : v === null ? undefined : typeof v === 'number' ? 'number' : typeof v;
    return kind ? `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}` : undefined;
  }
  return undefined;
}

/** ValidateSecret: keys, base64 values, 1 MiB in all, and the keys each type needs. */
export function validateSecret(secret: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  if (secret.data !== undefined && secret.data !== null && !isObj(secret.data)) return [invalidField('data', secret.data, 'must be a map of string keys to base64 values')];
  const data: Record<string, unknown> = isObj(secret.data) ? secret.data : {};
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalidField(`data[${k}]`, k, m));
    if (typeof v !== 'string' || !base64Re.test(v)) errs.push(invalidField(`data[${k}]`, '<secret contents redacted>', 'must be base64-encoded'));
  }
  if (dataSize(data, true) > maxSecretSize) errs.push(tooLong('data', maxSecretSize));
  const has = (k: string) => k in data;
  const decoded = (k: string) => Buffer.from(str(data[k]), 'base64').toString('utf8');
  switch (secret.type) {
    case 'kubernetes.io/service-account-token':
      if (!str(secret.metadata.annotations?.['kubernetes.io/service-account.name'])) {
        errs.push(required('metadata.annotations[kubernetes.io/service-account.name]', ''));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = secret.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) {
        errs.push(required(`data[${key}]`, ''));
        break;
      }
      const e = jsonObjectError(decoded(key));
      if (e) errs.push(invalidField(`data[${key}]`, '<secret contents redacted>', e));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('data[username]', ''), required('data[password]', ''));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!str(data['ssh-privatekey'])) errs.push(required('data[ssh-privatekey]', ''));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required('data[tls.crt]', ''));
      if (!has('tls.key')) errs.push(required('data[tls.key]', ''));
      break;
    default:
      break;
  }
  return errs;
}

export const secretStrategy: Strategy = {
  defaults(obj) {
    if (!obj.type) obj.type = 'Opaque';
    // stringData is write-only: it is merged into data (winning over it) and never stored.
    if (isObj(obj.stringData)) {
      if (!isObj(obj.data)) obj.data = {};
      for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(str(v), 'utf8').toString('base64');
    }
    delete obj.stringData;
  },
  validate: validateSecret,
  validateUpdate(obj, old) {
    return [...validateImmutableField(obj.type, old.type, 'type'), ...validateImmutableData(obj, old, ['data'])];
  },
  selectableFields: (obj) => ({ type: str(obj.type) }),
  table: {
    columns: [
      nameColumn,
      col('Type', 'string', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
      col('Data', 'string', "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
      ageColumn,
    ],
    row: (obj, now) => [obj.metadata.name, str(obj.type), Object.keys(isObj(obj.data) ? obj.data : {}).length, age(obj, now)],
  },
};

export const secretResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  strategy: secretStrategy,
};
