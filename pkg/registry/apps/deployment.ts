/** Deployment (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const deploymentStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const deploymentResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: deploymentStrategy,
};
