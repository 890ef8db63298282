/** Job (batch/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const jobStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const jobResource: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  subresources: ['status'],
  strategy: jobStrategy,
};
