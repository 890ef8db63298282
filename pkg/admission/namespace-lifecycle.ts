/**
 * NamespaceLifecycle: the system namespaces default, kube-system and kube-public may not be
 * deleted. (Creating in a missing or terminating namespace is refused by the store itself.)
 */
import type { AdmissionPlugin } from './types.js';
import { forbidden, isResource } from './util.js';

export const immortalNamespaces = ['default', 'kube-system', 'kube-public'];

export function namespaceLifecycle(): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    validate(a) {
      if (a.operation === 'DELETE' && isResource(a, '', 'namespaces') && immortalNamespaces.includes(a.name)) {
        throw forbidden(a, 'this namespace may not be deleted');
      }
    },
  };
}
