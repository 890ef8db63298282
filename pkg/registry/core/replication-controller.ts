/** ReplicationController (core/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const replicationControllerStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const replicationControllerResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: replicationControllerStrategy,
};
