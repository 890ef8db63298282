/** Service (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const serviceStrategy: Strategy = {
  hasStatus: true,
};

export const serviceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: ['status'],
  strategy: serviceStrategy,
};
