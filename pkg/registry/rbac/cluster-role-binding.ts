/** ClusterRoleBinding (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const clusterRoleBindingStrategy: Strategy = {
};

export const clusterRoleBindingResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  strategy: clusterRoleBindingStrategy,
};
