/** IngressClass (networking.k8s.io/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const ingressClassStrategy: Strategy = {
  generation: true,
};

export const ingressClassResource: ResourceDef = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  singular: 'ingressclass',
  namespaced: false,
  strategy: ingressClassStrategy,
};
