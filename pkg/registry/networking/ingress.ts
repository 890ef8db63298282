/** Ingress (networking.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const ingressStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const ingressResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  subresources: ['status'],
  strategy: ingressStrategy,
};
