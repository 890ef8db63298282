/** ClusterRoleBinding (rbac.authorization.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';
import { nameIsPathSegment } from '../../api/validation.js';
import { defaultBinding, validateBinding } from './role.js';
import { bindingPrinter, validateRoleRefUpdate } from './role-binding.js';
import { guarded } from '../guarded.js';

export const clusterRoleBindingStrategy: Strategy = guarded({
  nameValidator: nameIsPathSegment,
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: validateRoleRefUpdate,
  table: bindingPrinter('clusterRoleBinding'),
});

export const clusterRoleBindingResource: ResourceDef = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  strategy: clusterRoleBindingStrategy,
};
