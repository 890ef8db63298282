/** ServiceAccount (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { arr } from './pod-spec.js';

/** cleanSecretReferences: a ServiceAccount's secret references keep their names only. */
function cleanSecretReferences(obj: StoredObject): void {
  if (!Array.isArray(obj.secrets)) return;
  obj.secrets = obj.secrets.map((s: any) => (s && typeof s === 'object' && s.name !== undefined ? { name: s.name } : {}));
}

export const serviceAccountStrategy: Strategy = {
  prepareForCreate: cleanSecretReferences,
  prepareForUpdate: (obj) => cleanSecretReferences(obj),
  table: {
    columns: [nameColumn, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, arr(obj.secrets).length, age(obj, now)],
  },
};

export const serviceAccountResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  subresources: ['token'],
  strategy: serviceAccountStrategy,
};
