/** ControllerRevision (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { type FieldError, required } from '../../api/field-errors.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { immutable, nonNegative } from '../../api/validation.js';
import { guarded } from '../guarded.js';

/** The CONTROLLER cell: `<kind>.<group>/<name>` of the controlling owner, lower-cased kind and group. */
function controllerName(obj: StoredObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!ref) return '<none>';
  const apiVersion = ref.apiVersion ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  if (!ref.kind) return ref.name ?? '';
  const gk = group ? `${ref.kind}.${group}` : ref.kind;
  return `${gk.toLowerCase()}/${ref.name ?? ''}`;
}

function validateRevision(obj: StoredObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.data === undefined || obj.data === null) errs.push(required('data', 'data is mandatory'));
  errs.push(...nonNegative(obj.revision ?? 0, 'revision'));
  return errs;
}

export const controllerRevisionStrategy: Strategy = guarded({
  validate: validateRevision,
  validateUpdate(obj, old) {
    return immutable(obj.data, old.data, 'data');
  },
  table: {
    columns: [nameColumn, col('Controller', 'string', 'Controller of the object'), col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), ageColumn],
    row: (obj, now) => [obj.metadata.name, controllerName(obj), obj.revision ?? 0, age(obj, now)],
  },
});

export const controllerRevisionResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  strategy: controllerRevisionStrategy,
};
