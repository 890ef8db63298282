/** Pod (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const podStrategy: Strategy = {
  hasStatus: true,
};

export const podResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: ['status', 'binding', 'eviction'],
  strategy: podStrategy,
};
