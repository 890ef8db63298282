/** RoleBinding (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const roleBindingStrategy: Strategy = {
};

export const roleBindingResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  strategy: roleBindingStrategy,
};
