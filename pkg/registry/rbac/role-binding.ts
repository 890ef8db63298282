/** RoleBinding (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy, TablePrinter } from '../types.js';
import type { StoredObject } from '../../api/types.js';
import { invalidField } from '../../api/field-errors.js';
import { deepEqual } from '../../api/meta.js';
import { nameIsPathSegment } from '../../api/validation.js';
import { col, nameColumn, ageColumn, age } from '../../printers/format.js';
import { defaultBinding, validateBinding } from './role.js';
import { guarded } from '../guarded.js';

/** rbac.SubjectsStrings: users, groups and service accounts (as namespace/name). */
function subjectsStrings(subjects: any[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name ?? ''}`);
    else if (s.kind === 'User') users.push(s.name ?? '');
    else if (s.kind === 'Group') groups.push(s.name ?? '');
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

/** The printer of RoleBindings and ClusterRoleBindings; `what` names the kind in the descriptions. */
export function bindingPrinter(what: string): TablePrinter {
  return {
    columns: [
      nameColumn,
      col('Role', 'string', 'RoleRef can only reference the current namespace. It can reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
      ageColumn,
      col('Users', 'string', `Users in the ${what}`, 1),
      col('Groups', 'string', `Groups in the ${what}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    row: (obj: StoredObject, now: Date) => [obj.metadata.name, `${obj.roleRef?.kind ?? ''}/${obj.roleRef?.name ?? ''}`, age(obj, now), ...subjectsStrings(obj.subjects)],
  };
}

/** Bindings cannot be repointed: delete and recreate them instead. */
export function validateRoleRefUpdate(obj: StoredObject, old: StoredObject) {
  return deepEqual(obj.roleRef, old.roleRef) ? [] : [invalidField('roleRef', obj.roleRef, 'cannot change roleRef')];
}

export const roleBindingStrategy: Strategy = guarded({
  nameValidator: nameIsPathSegment,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: validateRoleRefUpdate,
  table: bindingPrinter('roleBinding'),
});

export const roleBindingResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  strategy: roleBindingStrategy,
};
