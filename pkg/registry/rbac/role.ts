/** Role (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, invalidField, required, notSupported } from '../../api/field-errors.js';
import { nameIsPathSegment, isDNS1123Subdomain } from '../../api/validation.js';
import { createdAtPrinter } from '../../printers/workloads.js';
import { guarded } from '../guarded.js';

export const rbacGroup = 'rbac.authorization.k8s.io';

/** ValidatePolicyRule: verbs always; then non-resource URLs or api groups and resources. */
export function validatePolicyRule(rule: any, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  if (len(rule?.verbs) === 0) errs.push(required(`${path}.verbs`, 'verbs must contain at least one value'));
  if (len(rule?.nonResourceURLs) > 0) {
    if (namespaced) errs.push(invalidField(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (len(rule.apiGroups) > 0 || len(rule.resources) > 0 || len(rule.resourceNames) > 0) {
      errs.push(invalidField(`${path}.nonResourceURLs`, rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (len(rule?.apiGroups) === 0) errs.push(required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (len(rule?.resources) === 0) errs.push(required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

/** SetDefaults of RoleBinding and ClusterRoleBinding: roleRef and subjects get their API group. */
export function defaultBinding(obj: any): void {
  obj.roleRef ??= {};
  if (!obj.roleRef.apiGroup) obj.roleRef.apiGroup = rbacGroup;
  for (const s of obj.subjects ?? []) {
    if (s.apiGroup) continue;
    if (s.kind === 'ServiceAccount') s.apiGroup = '';
    else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = rbacGroup;
  }
}

/** ValidateRoleBindingSubject. Cluster-wide bindings must name a ServiceAccount's namespace. */
export function validateSubject(s: any, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = String(s?.name ?? '');
  if (name === '') errs.push(required(`${path}.name`, ''));
  const apiGroup = s?.apiGroup ?? '';
  switch (s?.kind) {
    case 'ServiceAccount':
      if (name !== '') errs.push(...isDNS1123Subdomain(name).map((m) => invalidField(`${path}.name`, name, m)));
      if (apiGroup !== '') errs.push(notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(required(`${path}.namespace`, ''));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== rbacGroup) errs.push(notSupported(`${path}.apiGroup`, apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(notSupported(`${path}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding: the roleRef and every subject. */
export function validateBinding(obj: any, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = obj.roleRef ?? {};
  if (ref.apiGroup !== rbacGroup) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name', ''));
  else errs.push(...nameIsPathSegment(ref.name).map((m) => invalidField('roleRef.name', ref.name, m)));
  (obj.subjects ?? []).forEach((s: any, i: number) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

export const roleStrategy: Strategy = guarded({
  nameValidator: nameIsPathSegment,
  validate(obj) {
    return (obj.rules ?? []).flatMap((r: any, i: number) => validatePolicyRule(r, true, `rules[${i}]`));
  },
  table: createdAtPrinter,
});

export const roleResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  strategy: roleStrategy,
};
