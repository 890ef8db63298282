/** ReplicaSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const replicaSetStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const replicaSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: replicaSetStrategy,
};
