/** ClusterRole (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { type FieldError, required } from '../../api/field-errors.js';
import { nameIsPathSegment } from '../../api/validation.js';
import { createdAtPrinter } from '../../printers/workloads.js';
import { validateLabelSelector } from '../../api/validation.js';
import { guarded } from '../guarded.js';
import { validatePolicyRule } from './role.js';

export const clusterRoleStrategy: Strategy = guarded({
  nameValidator: nameIsPathSegment,
  validate(obj) {
    const errs: FieldError[] = (obj.rules ?? []).flatMap((r: any, i: number) => validatePolicyRule(r, false, `rules[${i}]`));
    if (obj.aggregationRule) {
      const selectors: any[] = obj.aggregationRule.clusterRoleSelectors ?? [];
      if (selectors.length === 0) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
      selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
    }
    return errs;
  },
  table: createdAtPrinter,
});

export const clusterRoleResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  strategy: clusterRoleStrategy,
};
