/** StatefulSet (apps/v1): the strategy and resource definition. */
import type { ResourceDef, Strategy } from '../types.js';

export const statefulSetStrategy: Strategy = {
  generation: true,
  hasStatus: true,
};

export const statefulSetResource: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  subresources: ['status', 'scale'],
  strategy: statefulSetStrategy,
};
